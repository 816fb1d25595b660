"""Twilio's webhooks: inbound SMS and calls (answered with TwiML), and status callbacks."""

from __future__ import annotations

from flask import Blueprint, Response, request
from twilio.twiml.messaging_response import MessagingResponse
from twilio.twiml.voice_response import VoiceResponse

from ecm_comms.domain.commands import (
    ApplyCallStatus,
    ApplySmsStatus,
    RecordInboundCall,
    RecordInboundSms,
)
from ecm_comms.entrypoints.http.errors import RequestRefused, register_error_handlers
from ecm_comms.entrypoints.http.payloads import ID
from ecm_comms.entrypoints.http.services import container
from ecm_comms.entrypoints.http.twilio_signature import verify_twilio_signature
from ecm_comms.webhook_routes import (
    CALL_STATUS,
    INBOUND_CALL,
    INBOUND_SMS,
    RECORD_ID_PARAMETER,
    SMS_STATUS,
)

webhooks = Blueprint("ecm_twilio_webhooks", __name__)
register_error_handlers(webhooks)
webhooks.before_request(verify_twilio_signature)


def _field(*names: str) -> str:
    """The first of these form fields Twilio sent (older webhooks use older names)."""
    for name in names:
        if value := request.form.get(name):
            return value
    raise RequestRefused(400, [f"{names[0]} is required"])


def _optional_int(value: str | None) -> int | None:
    """A number Twilio sent, if it is one that fits a 64-bit column."""
    return int(value) if value is not None and ID.fullmatch(value.strip()) else None


def _twiml(document: MessagingResponse | VoiceResponse) -> Response:
    return Response(str(document), mimetype="text/xml")


@webhooks.post(INBOUND_SMS)
def inbound_sms() -> Response:
    container().record_inbound_sms()(
        RecordInboundSms(
            twilio_sid=_field("MessageSid", "SmsMessageSid", "SmsSid"),
            from_number=_field("From"),
            to_number=_field("To"),
            body=request.form.get("Body", ""),
            opt_out_type=request.form.get("OptOutType"),
        )
    )
    # No automatic reply: coordinators answer, and Twilio answers STOP/HELP itself.
    return _twiml(MessagingResponse())


@webhooks.post(INBOUND_CALL)
def inbound_call() -> Response:
    recorded = container().record_inbound_call()(
        RecordInboundCall(
            twilio_sid=_field("CallSid"),
            from_number=_field("From", "Caller"),
            to_number=_field("To", "Called"),
            status=request.form.get("CallStatus", "ringing"),
        )
    )
    reply = VoiceResponse()
    if recorded.connect_to is not None:
        reply.dial(recorded.connect_to.e164)
    else:
        reply.say(container().config.call_unavailable_message())
        reply.hangup()
    return _twiml(reply)


@webhooks.post(SMS_STATUS)
def sms_status() -> tuple[str, int]:
    container().apply_sms_status()(
        ApplySmsStatus(
            twilio_sid=_field("MessageSid", "SmsSid"),
            status=_field("MessageStatus", "SmsStatus"),
            record_id=_optional_int(request.args.get(RECORD_ID_PARAMETER)),
            error_code=_optional_int(request.form.get("ErrorCode")),
            error_message=request.form.get("ErrorMessage") or None,
        )
    )
    return "", 204


@webhooks.post(CALL_STATUS)
def call_status() -> tuple[str, int]:
    container().apply_call_status()(
        ApplyCallStatus(
            twilio_sid=_field("CallSid"),
            status=_field("CallStatus"),
            record_id=_optional_int(request.args.get(RECORD_ID_PARAMETER)),
            duration_seconds=_optional_int(request.form.get("CallDuration")),
            error_code=_optional_int(request.form.get("ErrorCode")),
            error_message=request.form.get("ErrorMessage") or None,
        )
    )
    return "", 204
