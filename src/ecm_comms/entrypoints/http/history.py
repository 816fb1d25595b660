"""GET …/sms/{id}, …/calls/{id}, …/patients/{patient_id}/communications: reading the record."""

from __future__ import annotations

from flask import Blueprint, Response

from ecm_comms.domain.channels import Channel
from ecm_comms.domain.commands import GetCommunication, ListCommunications
from ecm_comms.domain.communications import TextMessage
from ecm_comms.entrypoints.http.answers import answer
from ecm_comms.entrypoints.http.auth import current_user
from ecm_comms.entrypoints.http.errors import register_error_handlers
from ecm_comms.entrypoints.http.payloads import patient_id_from_path, query, record_id_from_path
from ecm_comms.entrypoints.http.schemas.requests import HistoryQuery
from ecm_comms.entrypoints.http.schemas.responses import (
    ActivityBody,
    CallRead,
    CallRecord,
    CommunicationsPage,
    SmsRead,
    SmsRecord,
)
from ecm_comms.entrypoints.http.services import container

history = Blueprint("ecm_history", __name__)
register_error_handlers(history)


@history.get("/sms/<sms_id>")
def get_sms(sms_id: str) -> Response:
    return _communication(Channel.SMS, sms_id)


@history.get("/calls/<call_id>")
def get_call(call_id: str) -> Response:
    return _communication(Channel.CALL, call_id)


def _communication(channel: Channel, raw_id: str) -> Response:
    """One read for both channels; only the answer's shape differs."""
    user = current_user()
    found = container().get_communication()(
        GetCommunication(channel, record_id_from_path(raw_id), user)
    )
    activity = ActivityBody.of_optional(found.activity)
    if isinstance(found.record, TextMessage):
        return answer(SmsRead(sms=SmsRecord.of(found.record), activity=activity))
    return answer(CallRead(call=CallRecord.of(found.record), activity=activity))


@history.get("/patients/<patient_id>/communications")
def list_communications(patient_id: str) -> Response:
    user = current_user()
    patient = patient_id_from_path(patient_id)  # an unknown patient before a bad parameter
    asked = query(HistoryQuery)
    page = container().list_communications()(
        ListCommunications(
            patient_id=patient,
            requested_by=user,
            limit=asked.limit,
            cursor=asked.cursor,
        )
    )
    return answer(CommunicationsPage.of(page))
