"""Table rows to domain objects and back."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Row

from ecm_comms.domain.activities import Activity, ActivityStatus, Event
from ecm_comms.domain.channels import Channel, Direction
from ecm_comms.domain.communications import TextMessage, VoiceCall
from ecm_comms.domain.phone_numbers import PhoneNumber
from ecm_comms.domain.sms_bodies import SmsBody
from ecm_comms.domain.statuses import CallStatus, SmsStatus


def communication_values(record: TextMessage | VoiceCall) -> dict[str, Any]:
    values: dict[str, Any] = {
        "clinic_id": record.clinic_id,
        "patient_id": record.patient_id,
        "direction": record.direction.value,
        "to_number": record.to.e164,
        "from_number": record.from_.e164,
        "status": record.status.value,
        "twilio_sid": record.twilio_sid,
        "sent_by_id": record.sent_by_id,
        "error_code": record.error_code,
        "error_message": record.error_message,
        "created_at": record.created_at,
        "updated_at": record.updated_at,
    }
    if isinstance(record, TextMessage):
        values["body"] = record.body.text
        values["send_at"] = record.send_at
        values["skip_reason"] = record.skip_reason
    else:
        values["duration_seconds"] = record.duration_seconds
    return values


def _shared(row: Row[Any]) -> dict[str, Any]:
    return {
        "id": row.id,
        "clinic_id": row.clinic_id,
        "patient_id": row.patient_id,
        "direction": Direction(row.direction),
        "to": PhoneNumber(row.to_number),
        "from_": PhoneNumber(row.from_number),
        "twilio_sid": row.twilio_sid,
        "sent_by_id": row.sent_by_id,
        "error_code": row.error_code,
        "error_message": row.error_message,
        "created_at": row.created_at,
        "updated_at": row.updated_at,
    }


def text_message_from_row(row: Row[Any]) -> TextMessage:
    return TextMessage(
        **_shared(row),
        body=SmsBody(row.body),
        status=SmsStatus(row.status),
        send_at=row.send_at,
        skip_reason=row.skip_reason,
    )


def voice_call_from_row(row: Row[Any]) -> VoiceCall:
    return VoiceCall(
        **_shared(row), status=CallStatus(row.status), duration_seconds=row.duration_seconds
    )


def activity_from_row(row: Row[Any], prefix: str = "") -> Activity:
    """``prefix``: the activity's columns were selected as ``<prefix>id``, ``<prefix>status``…"""
    column = row._mapping
    return Activity(
        id=column[f"{prefix}id"],
        clinic_id=column[f"{prefix}clinic_id"],
        activity_type=Channel(column[f"{prefix}activity_type"]),
        status=ActivityStatus(column[f"{prefix}status"]),
        patient_id=column[f"{prefix}patient_id"],
        performed_by_id=column[f"{prefix}performed_by_id"],
        assigned_to_id=column[f"{prefix}assigned_to_id"],
        text_message_id=column[f"{prefix}text_message_id"],
        voice_call_id=column[f"{prefix}voice_call_id"],
        created_at=column[f"{prefix}created_at"],
    )


def event_from_row(row: Row[Any]) -> Event:
    return Event(
        id=row.id,
        clinic_id=row.clinic_id,
        event_type=Channel(row.event_type),
        occurred_at=row.occurred_at,
        patient_id=row.patient_id,
        activity_id=row.activity_id,
    )
