"""Twilio's webhooks: inbound SMS and calls (answered with TwiML), and status callbacks."""

from __future__ import annotations

from flask import Blueprint, Response
from twilio.twiml.messaging_response import MessagingResponse
from twilio.twiml.voice_response import VoiceResponse

from ecm_comms.adapters.twiml import connect_or_apologise
from ecm_comms.domain.channels import Channel
from ecm_comms.domain.commands import ApplyStatus, RecordInboundCall, RecordInboundSms
from ecm_comms.entrypoints.http.errors import register_error_handlers
from ecm_comms.entrypoints.http.payloads import query, twilio_form
from ecm_comms.entrypoints.http.schemas.twilio_forms import (
    CallStatusForm,
    InboundCallForm,
    InboundSmsForm,
    SmsStatusForm,
    StatusCallbackQuery,
)
from ecm_comms.entrypoints.http.services import container
from ecm_comms.entrypoints.http.twilio_signature import verify_twilio_signature
from ecm_comms.webhook_routes import (
    CALL_STATUS,
    INBOUND_CALL,
    INBOUND_SMS,
    SMS_STATUS,
)

webhooks = Blueprint("ecm_twilio_webhooks", __name__)
register_error_handlers(webhooks)
webhooks.before_request(verify_twilio_signature)


def _twiml(document: MessagingResponse | VoiceResponse) -> Response:
    return Response(str(document), mimetype="text/xml")


@webhooks.post(INBOUND_SMS)
def inbound_sms() -> Response:
    form = twilio_form(InboundSmsForm)
    container().record_inbound_sms()(
        RecordInboundSms(
            twilio_sid=form.message_sid,
            from_number=form.from_number,
            to_number=form.to_number,
            body=form.body or "",
            opt_out_type=form.opt_out_type,
        )
    )
    # No automatic reply: coordinators answer, and Twilio answers STOP/HELP itself.
    return _twiml(MessagingResponse())


@webhooks.post(INBOUND_CALL)
def inbound_call() -> Response:
    form = twilio_form(InboundCallForm)
    recorded = container().record_inbound_call()(
        RecordInboundCall(
            twilio_sid=form.call_sid,
            from_number=form.from_number,
            to_number=form.to_number,
            status=form.call_status or "ringing",
        )
    )
    unavailable = container().settings().call_unavailable_message
    return _twiml(connect_or_apologise(recorded.connect_to, unavailable))


@webhooks.post(SMS_STATUS)
def sms_status() -> tuple[str, int]:
    form = twilio_form(SmsStatusForm)
    container().apply_status()(
        ApplyStatus(
            Channel.SMS,
            twilio_sid=form.message_sid,
            status=form.message_status,
            record_id=query(StatusCallbackQuery).record_id,
            error_code=form.error_code,
            error_message=form.error_message,
        )
    )
    return "", 204


@webhooks.post(CALL_STATUS)
def call_status() -> tuple[str, int]:
    form = twilio_form(CallStatusForm)
    container().apply_status()(
        ApplyStatus(
            Channel.CALL,
            twilio_sid=form.call_sid,
            status=form.call_status,
            record_id=query(StatusCallbackQuery).record_id,
            duration_seconds=form.call_duration,
            error_code=form.error_code,
            error_message=form.error_message,
        )
    )
    return "", 204
