"""POST …/patients/{patient_id}/sms and …/call: the clinic's outbound endpoints."""

from __future__ import annotations

from typing import Any

from flask import Blueprint

from ecm_comms.domain.commands import InitiateCall, SendSms
from ecm_comms.entrypoints.http.auth import current_user
from ecm_comms.entrypoints.http.errors import register_error_handlers
from ecm_comms.entrypoints.http.idempotency import idempotent
from ecm_comms.entrypoints.http.payloads import (
    json_object,
    member_object,
    optional_strings,
    patient_id_from_path,
)
from ecm_comms.entrypoints.http.representations import activity_json, call_json, sms_json
from ecm_comms.entrypoints.http.services import container

communications = Blueprint("ecm_communications", __name__)
register_error_handlers(communications)


@communications.post("/patients/<patient_id>/sms")
@idempotent
def send_sms(patient_id: str) -> tuple[dict[str, Any], int]:
    user = current_user()
    fields = optional_strings(
        member_object(json_object(), "sms"), {"phone_number": "Phone number", "body": "Body"}
    )
    command = SendSms(
        patient_id=patient_id_from_path(patient_id),
        phone_number=fields["phone_number"],
        body=fields["body"],
        performed_by=user,
    )
    sent = container().send_sms()(command)
    return {
        "message": "SMS sent successfully",
        "sms": sms_json(sent.message),
        "activity": activity_json(sent.activity),
    }, 201


@communications.post("/patients/<patient_id>/call")
@idempotent
def initiate_call(patient_id: str) -> tuple[dict[str, Any], int]:
    user = current_user()
    fields = optional_strings(
        member_object(json_object(), "call"), {"phone_number": "Phone number"}
    )
    command = InitiateCall(
        patient_id=patient_id_from_path(patient_id),
        phone_number=fields["phone_number"],
        performed_by=user,
    )
    initiated = container().initiate_call()(command)
    return {
        "message": "Call initiated successfully",
        "call": call_json(initiated.call),
        "activity": activity_json(initiated.activity),
    }, 201
