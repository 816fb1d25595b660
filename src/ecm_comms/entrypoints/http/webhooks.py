"""Twilio's webhooks: inbound SMS and calls (answered with TwiML), and status callbacks."""

from __future__ import annotations

import re

from flask import Blueprint, Response, request
from twilio.twiml.messaging_response import MessagingResponse
from twilio.twiml.voice_response import VoiceResponse

from ecm_comms.adapters.twiml import connect_or_apologise
from ecm_comms.domain.channels import Channel
from ecm_comms.domain.commands import ApplyStatus, RecordInboundCall, RecordInboundSms
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


# Twilio's sids: two letters and 32 hex digits. Statuses: lower-case words (new ones included).
_SID = re.compile(r"[A-Z]{2}[0-9a-fA-F]{32}")
_STATUS = re.compile(r"[a-z][a-z_-]{0,31}")
_MAX_INT = 2**31 - 1  # error codes and durations are 32-bit columns


def _field(*names: str) -> str:
    """The first of these form fields Twilio sent (older webhooks use older names), without NUL
    characters, which no record can hold."""
    for name in names:
        if value := request.form.get(name):
            return _text(value)
    raise RequestRefused(400, [f"{names[0]} is required"])


def _matching(pattern: re.Pattern[str], *names: str) -> str:
    value = _field(*names)
    if not pattern.fullmatch(value):
        raise RequestRefused(400, [f"{names[0]} is not one Twilio sends"])
    return value


def _text(value: str) -> str:
    return value.replace("\x00", "")


def _optional_text(name: str) -> str | None:
    value = request.form.get(name)
    return _text(value) or None if value is not None else None


def _optional_int(value: str | None) -> int | None:
    """A number Twilio sent, if it is one; anything else is ignored, as Twilio adds fields."""
    if value is None or not ID.fullmatch(value.strip()):
        return None
    number = int(value)
    return number if number <= _MAX_INT else None


def _record_id() -> int | None:
    """Our record's id, carried in the callback URL we gave Twilio."""
    raw = request.args.get(RECORD_ID_PARAMETER)
    return int(raw) if raw is not None and ID.fullmatch(raw) else None


def _twiml(document: MessagingResponse | VoiceResponse) -> Response:
    return Response(str(document), mimetype="text/xml")


@webhooks.post(INBOUND_SMS)
def inbound_sms() -> Response:
    container().record_inbound_sms()(
        RecordInboundSms(
            twilio_sid=_matching(_SID, "MessageSid", "SmsMessageSid", "SmsSid"),
            from_number=_field("From"),
            to_number=_field("To"),
            body=_optional_text("Body") or "",
            opt_out_type=_optional_text("OptOutType"),
        )
    )
    # No automatic reply: coordinators answer, and Twilio answers STOP/HELP itself.
    return _twiml(MessagingResponse())


@webhooks.post(INBOUND_CALL)
def inbound_call() -> Response:
    recorded = container().record_inbound_call()(
        RecordInboundCall(
            twilio_sid=_matching(_SID, "CallSid"),
            from_number=_field("From", "Caller"),
            to_number=_field("To", "Called"),
            status=_optional_text("CallStatus") or "ringing",
        )
    )
    unavailable = container().settings().call_unavailable_message
    return _twiml(connect_or_apologise(recorded.connect_to, unavailable))


@webhooks.post(SMS_STATUS)
def sms_status() -> tuple[str, int]:
    container().apply_status()(
        ApplyStatus(
            Channel.SMS,
            twilio_sid=_matching(_SID, "MessageSid", "SmsSid"),
            status=_matching(_STATUS, "MessageStatus", "SmsStatus"),
            record_id=_record_id(),
            error_code=_optional_int(request.form.get("ErrorCode")),
            error_message=_optional_text("ErrorMessage"),
        )
    )
    return "", 204


@webhooks.post(CALL_STATUS)
def call_status() -> tuple[str, int]:
    container().apply_status()(
        ApplyStatus(
            Channel.CALL,
            twilio_sid=_matching(_SID, "CallSid"),
            status=_matching(_STATUS, "CallStatus"),
            record_id=_record_id(),
            duration_seconds=_optional_int(request.form.get("CallDuration")),
            error_code=_optional_int(request.form.get("ErrorCode")),
            error_message=_optional_text("ErrorMessage"),
        )
    )
    return "", 204
