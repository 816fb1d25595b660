"""GET …/sms/{id}, …/calls/{id}, …/patients/{patient_id}/communications: reading the record."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, request

from ecm_comms.domain.channels import Channel
from ecm_comms.domain.commands import GetCommunication, ListCommunications
from ecm_comms.domain.communications import TextMessage
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
    return _communication(Channel.SMS, sms_id)


@history.get("/calls/<call_id>")
def get_call(call_id: str) -> dict[str, Any]:
    return _communication(Channel.CALL, call_id)


def _communication(channel: Channel, raw_id: str) -> dict[str, Any]:
    user = current_user()
    found = container().get_communication()(
        GetCommunication(channel, record_id_from_path(raw_id), user)
    )
    record = found.record
    shown = sms_record_json(record) if isinstance(record, TextMessage) else call_record_json(record)
    activity = activity_json(found.activity) if found.activity else None
    return {channel.value: shown, "activity": activity}


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
