"""Only Twilio may call the webhooks: its signature over the public URL and the form."""

from __future__ import annotations

from flask import request
from twilio.request_validator import RequestValidator

from ecm_comms.entrypoints.http.errors import RequestRefused
from ecm_comms.entrypoints.http.services import container, mount_prefix

SIGNATURE_HEADER = "X-Twilio-Signature"


def public_url(public_base_url: str | None) -> str:
    """The URL Twilio called. Behind a TLS-terminating proxy the URL this app sees is not the
    one Twilio signed, so it is rebuilt from ECM_PUBLIC_BASE_URL when that is set.

    ECM_PUBLIC_BASE_URL is where the service's own paths start, so a host app's mount prefix,
    part of it already, is not added twice.
    """
    if not public_base_url:
        return request.url
    path = request.path.removeprefix(mount_prefix())
    query = request.query_string.decode()
    return public_base_url.rstrip("/") + path + (f"?{query}" if query else "")


def verify_twilio_signature() -> None:
    settings = container().settings()
    if settings.skip_webhook_signatures:
        return
    auth_token = settings.twilio.auth_token
    if not auth_token:
        raise _refused("Twilio webhooks are refused: TWILIO_AUTH_TOKEN is not set")
    signature = request.headers.get(SIGNATURE_HEADER)
    if not signature:
        raise _refused(f"{SIGNATURE_HEADER} header is required")
    url = public_url(settings.public_base_url)
    # The form as a multi-dict: a repeated field must be signed with every value.
    if not RequestValidator(auth_token).validate(url, request.form, signature):
        raise _refused("Invalid Twilio signature")


def _refused(message: str) -> RequestRefused:
    container().metrics().webhook_signature_refused()
    return RequestRefused(403, [message])
