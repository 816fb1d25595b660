"""Where the clinic API is served, below a host's mount prefix."""

# The ECM API family: activities and events of a patient.
ECM_PREFIX = "/v1/clinic/ecm"
# Sending and reading back SMS and calls, and consent.
API_PREFIX = ECM_PREFIX + "/communications"
# The clinic admins' endpoints: its compliance reports.
ADMIN_PREFIX = "/v1/admin/clinic/ecm"
