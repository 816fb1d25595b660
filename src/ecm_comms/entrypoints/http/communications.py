"""POST …/patients/{patient_id}/sms and …/call: the clinic's outbound endpoints; an SMS may be
scheduled for later, and canceled (POST …/sms/{id}/cancel) until a worker sends it."""

from __future__ import annotations

from flask import Blueprint, Response

from ecm_comms.domain.commands import CancelSms, InitiateCall, ScheduleSms, SendSms
from ecm_comms.entrypoints.http.answers import answer
from ecm_comms.entrypoints.http.auth import current_user
from ecm_comms.entrypoints.http.errors import register_error_handlers
from ecm_comms.entrypoints.http.idempotency import idempotent
from ecm_comms.entrypoints.http.payloads import (
    json_body,
    patient_id_from_path,
    record_id_from_path,
)
from ecm_comms.entrypoints.http.schemas.requests import InitiateCallRequest, SendSmsRequest
from ecm_comms.entrypoints.http.schemas.responses import (
    ActivityBody,
    Call,
    CallInitiated,
    Sms,
    SmsCanceled,
    SmsRecord,
    SmsScheduled,
    SmsSent,
)
from ecm_comms.entrypoints.http.services import container

communications = Blueprint("ecm_communications", __name__)
register_error_handlers(communications)


@communications.post("/patients/<patient_id>/sms")
@idempotent
def send_sms(patient_id: str) -> Response:
    user = current_user()
    fields = json_body(SendSmsRequest).sms
    patient = patient_id_from_path(patient_id)
    if fields.send_at is not None:
        scheduled = container().schedule_sms()(
            ScheduleSms(
                patient_id=patient,
                phone_number=fields.phone_number,
                body=fields.body,
                send_at=fields.send_at,
                performed_by=user,
            )
        )
        return answer(SmsScheduled(sms=Sms.of(scheduled)), 202)
    command = SendSms(
        patient_id=patient,
        phone_number=fields.phone_number,
        body=fields.body,
        performed_by=user,
    )
    sent = container().send_sms()(command)
    return answer(SmsSent(sms=Sms.of(sent.message), activity=ActivityBody.of(sent.activity)), 201)


@communications.post("/sms/<sms_id>/cancel")
@idempotent
def cancel_sms(sms_id: str) -> Response:
    user = current_user()
    canceled = container().cancel_sms()(CancelSms(record_id_from_path(sms_id), requested_by=user))
    return answer(SmsCanceled(sms=SmsRecord.of(canceled)))


@communications.post("/patients/<patient_id>/call")
@idempotent
def initiate_call(patient_id: str) -> Response:
    user = current_user()
    fields = json_body(InitiateCallRequest).call
    command = InitiateCall(
        patient_id=patient_id_from_path(patient_id),
        phone_number=fields.phone_number,
        performed_by=user,
    )
    initiated = container().initiate_call()(command)
    return answer(
        CallInitiated(call=Call.of(initiated.call), activity=ActivityBody.of(initiated.activity)),
        201,
    )
