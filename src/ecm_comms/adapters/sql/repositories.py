"""Repositories over one connection: domain objects in, domain objects out."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Row, Table, insert, select

from ecm_comms.adapters.sql import tables
from ecm_comms.domain.activities import Activity, ActivityStatus, Event
from ecm_comms.domain.channels import Channel, Direction
from ecm_comms.domain.communications import TextMessage, VoiceCall
from ecm_comms.domain.phone_numbers import PhoneNumber
from ecm_comms.domain.sms_bodies import SmsBody
from ecm_comms.domain.statuses import CallStatus, SmsStatus


def _insert(connection: Connection, table: Table, values: dict[str, Any]) -> int:
    new_id = connection.execute(insert(table).values(values).returning(table.c.id)).scalar_one()
    return int(new_id)


def _one(connection: Connection, table: Table, row_id: int) -> Row[Any] | None:
    return connection.execute(select(table).where(table.c.id == row_id)).first()


class SqlTextMessageRepository:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def add(self, message: TextMessage) -> None:
        message.id = _insert(
            self._connection,
            tables.text_messages,
            {
                "clinic_id": message.clinic_id,
                "patient_id": message.patient_id,
                "direction": message.direction.value,
                "to_number": message.to.e164,
                "from_number": message.from_.e164,
                "body": message.body.text,
                "status": message.status.value,
                "twilio_sid": message.twilio_sid,
                "error_code": message.error_code,
                "error_message": message.error_message,
                "created_at": message.created_at,
                "updated_at": message.updated_at,
            },
        )

    def get(self, message_id: int) -> TextMessage | None:
        row = _one(self._connection, tables.text_messages, message_id)
        return None if row is None else text_message_from_row(row)


class SqlVoiceCallRepository:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def add(self, call: VoiceCall) -> None:
        call.id = _insert(
            self._connection,
            tables.voice_calls,
            {
                "clinic_id": call.clinic_id,
                "patient_id": call.patient_id,
                "direction": call.direction.value,
                "to_number": call.to.e164,
                "from_number": call.from_.e164,
                "status": call.status.value,
                "twilio_sid": call.twilio_sid,
                "duration_seconds": call.duration_seconds,
                "error_code": call.error_code,
                "error_message": call.error_message,
                "created_at": call.created_at,
                "updated_at": call.updated_at,
            },
        )

    def get(self, call_id: int) -> VoiceCall | None:
        row = _one(self._connection, tables.voice_calls, call_id)
        return None if row is None else voice_call_from_row(row)


class SqlActivityRepository:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def add(self, activity: Activity) -> None:
        activity.id = _insert(
            self._connection,
            tables.activities,
            {
                "clinic_id": activity.clinic_id,
                "activity_type": activity.activity_type.value,
                "status": activity.status.value,
                "patient_id": activity.patient_id,
                "performed_by_id": activity.performed_by_id,
                "assigned_to_id": activity.assigned_to_id,
                "text_message_id": activity.text_message_id,
                "voice_call_id": activity.voice_call_id,
                "created_at": activity.created_at,
            },
        )

    def get(self, activity_id: int) -> Activity | None:
        row = _one(self._connection, tables.activities, activity_id)
        return None if row is None else activity_from_row(row)


class SqlEventRepository:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def add(self, event: Event) -> None:
        event.id = _insert(
            self._connection,
            tables.events,
            {
                "clinic_id": event.clinic_id,
                "event_type": event.event_type.value,
                "occurred_at": event.occurred_at,
                "patient_id": event.patient_id,
                "activity_id": event.activity_id,
            },
        )

    def for_activity(self, activity_id: int) -> Event | None:
        row = self._connection.execute(
            select(tables.events).where(tables.events.c.activity_id == activity_id)
        ).first()
        return None if row is None else event_from_row(row)


def text_message_from_row(row: Row[Any]) -> TextMessage:
    return TextMessage(
        id=row.id,
        clinic_id=row.clinic_id,
        patient_id=row.patient_id,
        direction=Direction(row.direction),
        to=PhoneNumber(row.to_number),
        from_=PhoneNumber(row.from_number),
        body=SmsBody(row.body),
        status=SmsStatus(row.status),
        twilio_sid=row.twilio_sid,
        error_code=row.error_code,
        error_message=row.error_message,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def voice_call_from_row(row: Row[Any]) -> VoiceCall:
    return VoiceCall(
        id=row.id,
        clinic_id=row.clinic_id,
        patient_id=row.patient_id,
        direction=Direction(row.direction),
        to=PhoneNumber(row.to_number),
        from_=PhoneNumber(row.from_number),
        status=CallStatus(row.status),
        twilio_sid=row.twilio_sid,
        duration_seconds=row.duration_seconds,
        error_code=row.error_code,
        error_message=row.error_message,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def activity_from_row(row: Row[Any]) -> Activity:
    return Activity(
        id=row.id,
        clinic_id=row.clinic_id,
        activity_type=Channel(row.activity_type),
        status=ActivityStatus(row.status),
        patient_id=row.patient_id,
        performed_by_id=row.performed_by_id,
        assigned_to_id=row.assigned_to_id,
        text_message_id=row.text_message_id,
        voice_call_id=row.voice_call_id,
        created_at=row.created_at,
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
