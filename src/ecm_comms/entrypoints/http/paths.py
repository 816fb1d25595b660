"""Where the clinic API is served, below a host's mount prefix."""

API_PREFIX = "/v1/clinic/ecm/communications"
# The clinic's admins' endpoints (its compliance reports).
ADMIN_PREFIX = "/v1/admin/clinic/ecm"
