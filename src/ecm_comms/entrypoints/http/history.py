"""GET …/sms/{id}, …/calls/{id}, …/patients/{patient_id}/communications: reading the record."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, request

from ecm_comms.domain.commands import GetCall, GetSms, ListCommunications
from ecm_comms.entrypoints.http.auth import current_user
from ecm_comms.entrypoints.http.errors import register_error_handlers
from ecm_comms.entrypoints.http.payloads import (
    optional_int_argument,
    patient_id_from_path,
    record_id_from_path,
)
from ecm_comms.entrypoints.http.representations import (
    activity_json,
    call_record_json,
    history_item_json,
    sms_record_json,
)
from ecm_comms.entrypoints.http.services import container

history = Blueprint("ecm_history", __name__)
register_error_handlers(history)


@history.get("/sms/<sms_id>")
def get_sms(sms_id: str) -> dict[str, Any]:
    user = current_user()
    found = container().get_sms()(GetSms(record_id_from_path(sms_id), user))
    activity = activity_json(found.activity) if found.activity else None
    return {"sms": sms_record_json(found.message), "activity": activity}


@history.get("/calls/<call_id>")
def get_call(call_id: str) -> dict[str, Any]:
    user = current_user()
    found = container().get_call()(GetCall(record_id_from_path(call_id), user))
    activity = activity_json(found.activity) if found.activity else None
    return {"call": call_record_json(found.call), "activity": activity}


@history.get("/patients/<patient_id>/communications")
def list_communications(patient_id: str) -> dict[str, Any]:
    user = current_user()
    page = container().list_communications()(
        ListCommunications(
            patient_id=patient_id_from_path(patient_id),
            requested_by=user,
            limit=optional_int_argument("limit"),
            cursor=request.args.get("cursor") or None,
        )
    )
    return {
        "communications": [history_item_json(item) for item in page.items],
        "next_cursor": page.next_cursor,
    }
