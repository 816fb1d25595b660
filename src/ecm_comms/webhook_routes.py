"""Where Twilio reaches the service: the HTTP routes and the callback URLs given to Twilio."""

WEBHOOK_PREFIX = "/v1/clinic/webhooks/twilio"
INBOUND_SMS = "/sms"
INBOUND_CALL = "/voice"
SMS_STATUS = "/sms_status"
CALL_STATUS = "/voice_status"
# The query parameter carrying our record's id in a status-callback URL.
RECORD_ID_PARAMETER = "id"


def status_callback_url(public_base_url: str, route: str, record_id: int) -> str:
    return f"{public_base_url.rstrip('/')}{WEBHOOK_PREFIX}{route}?{RECORD_ID_PARAMETER}={record_id}"
