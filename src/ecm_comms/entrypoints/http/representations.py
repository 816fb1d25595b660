"""Domain results as the API document's JSON bodies."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from ecm_comms.domain.activities import Activity
from ecm_comms.domain.communications import TextMessage, VoiceCall
from ecm_comms.domain.history import HistoryItem


def timestamp(moment: datetime) -> str:
    """UTC with milliseconds: ``2024-11-27T10:00:00.000Z``."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def sms_json(message: TextMessage) -> dict[str, Any]:
    return {
        "id": message.id,
        "twilio_sid": message.twilio_sid,
        "to": message.to.e164,
        "from": message.from_.e164,
        "body": message.body.text,
        "status": message.status.value,
        "direction": message.direction.value,
        "created_at": timestamp(message.created_at),
    }


def sms_record_json(message: TextMessage) -> dict[str, Any]:
    return sms_json(message) | _record_details(message)


def call_record_json(call: VoiceCall) -> dict[str, Any]:
    return call_json(call) | {"duration": call.duration_seconds} | _record_details(call)


def _record_details(record: TextMessage | VoiceCall) -> dict[str, Any]:
    return {
        "patient_id": record.patient_id,
        "error_code": record.error_code,
        "error_message": record.error_message,
        "updated_at": timestamp(record.updated_at),
    }


def history_item_json(item: HistoryItem) -> dict[str, Any]:
    record = item.record
    entry: dict[str, Any] = {
        "type": item.channel.value,
        "id": record.id,
        "twilio_sid": record.twilio_sid,
        "direction": record.direction.value,
        "status": record.status.value,
        "to": record.to.e164,
        "from": record.from_.e164,
    }
    if isinstance(record, TextMessage):
        entry["body"] = record.body.text
    entry["created_at"] = timestamp(record.created_at)
    entry["activity"] = activity_json(item.activity) if item.activity else None
    return entry


def call_json(call: VoiceCall) -> dict[str, Any]:
    return {
        "id": call.id,
        "twilio_sid": call.twilio_sid,
        "to": call.to.e164,
        "from": call.from_.e164,
        "status": call.status.value,
        "direction": call.direction.value,
        "created_at": timestamp(call.created_at),
    }


def activity_json(activity: Activity) -> dict[str, Any]:
    return {
        "id": activity.id,
        "activity_type": activity.activity_type.value,
        "status": activity.status.value,
        "patient_id": activity.patient_id,
        "performed_by_id": activity.performed_by_id,
        "assigned_to_id": activity.assigned_to_id,
    }
