"""Repositories over one connection: domain objects in, domain objects out."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, Generic

from sqlalchemy import (
    Connection,
    Insert,
    Row,
    Table,
    and_,
    delete,
    exists,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite

from ecm_comms.adapters.sql import tables
from ecm_comms.adapters.sql.rows import (
    activity_from_row,
    communication_values,
    event_from_row,
    text_message_from_row,
    voice_call_from_row,
)
from ecm_comms.domain.activities import Activity, Event
from ecm_comms.domain.channels import Channel
from ecm_comms.domain.communications import TextMessage, VoiceCall
from ecm_comms.domain.phone_numbers import PhoneNumber
from ecm_comms.ports.unit_of_work import Record, StatusReport


def _insert_returning_id(connection: Connection, table: Table, values: dict[str, Any]) -> int:
    return int(connection.execute(insert(table).values(values).returning(table.c.id)).scalar_one())


def insert_unless_exists(connection: Connection, table: Table, *unique: str) -> Insert:
    """INSERT … ON CONFLICT DO NOTHING: the database, not a prior read, refuses duplicates."""
    dialect = connection.dialect.name
    if dialect == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing(index_elements=list(unique))
    if dialect == "sqlite":
        return sqlite.insert(table).on_conflict_do_nothing(index_elements=list(unique))
    raise ValueError(f"ecm-comms stores its records in SQLite or PostgreSQL, not {dialect}")


# What changes on a record after it is added: what the provider says about it.
_UPDATABLE = (
    "status",
    "twilio_sid",
    "from_number",
    "duration_seconds",
    "error_code",
    "error_message",
    "updated_at",
)


class _Communications(Generic[Record]):
    """SMS or calls: the same columns but for the body (SMS) and the duration (calls)."""

    def __init__(
        self, connection: Connection, table: Table, from_row: Callable[[Row[Any]], Record]
    ) -> None:
        self._connection = connection
        self._table = table
        self._from_row: Callable[[Row[Any]], Record] = from_row

    def add(self, record: Record) -> None:
        record.id = _insert_returning_id(
            self._connection, self._table, communication_values(record)
        )

    def add_if_new(self, record: Record) -> bool:
        statement = insert_unless_exists(self._connection, self._table, "twilio_sid")
        new_id = self._connection.execute(
            statement.values(communication_values(record)).returning(self._table.c.id)
        ).scalar_one_or_none()
        if new_id is None:
            return False
        record.id = int(new_id)
        return True

    def get(self, record_id: int) -> Record | None:
        return self._first(self._table.c.id == record_id)

    def get_by_sid(self, sid: str) -> Record | None:
        return self._first(self._table.c.twilio_sid == sid)

    def lock(self, *, sid: str | None = None, record_id: int | None = None) -> Record | None:
        t = self._table
        matches = []
        if sid is not None:
            matches.append(t.c.twilio_sid == sid)
        if record_id is not None:
            matches.append(and_(t.c.id == record_id, t.c.twilio_sid.is_(None)))
        if not matches:
            return None
        query = (
            select(t)
            .where(or_(*matches))
            .order_by(t.c.twilio_sid.is_(None))  # a match on the sid wins
            .limit(1)
            .with_for_update()
        )
        row = self._connection.execute(query).first()
        return None if row is None else self._from_row(row)

    def update(self, record: Record) -> None:
        assert record.id is not None
        values = communication_values(record)
        columns = {key: values[key] for key in _UPDATABLE if key in values}
        self._connection.execute(
            update(self._table).where(self._table.c.id == record.id).values(columns)
        )

    def _first(self, condition: Any) -> Record | None:
        row = self._connection.execute(select(self._table).where(condition)).first()
        return None if row is None else self._from_row(row)


class SqlTextMessageRepository(_Communications[TextMessage]):
    def __init__(self, connection: Connection) -> None:
        super().__init__(connection, tables.text_messages, text_message_from_row)


class SqlVoiceCallRepository(_Communications[VoiceCall]):
    def __init__(self, connection: Connection) -> None:
        super().__init__(connection, tables.voice_calls, voice_call_from_row)


class SqlActivityRepository:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def add(self, activity: Activity) -> None:
        activity.id = _insert_returning_id(
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
        return self._first(tables.activities.c.id == activity_id)

    def for_record(self, channel: Channel, record_id: int) -> Activity | None:
        a = tables.activities
        column = a.c.text_message_id if channel is Channel.SMS else a.c.voice_call_id
        return self._first(column == record_id)

    def last_performer(self, patient_id: int) -> int | None:
        a = tables.activities
        performer = self._connection.execute(
            select(a.c.performed_by_id)
            .where(a.c.patient_id == patient_id, a.c.performed_by_id.is_not(None))
            .order_by(a.c.created_at.desc(), a.c.id.desc())
            .limit(1)
        ).scalar_one_or_none()
        return None if performer is None else int(performer)

    def _first(self, condition: Any) -> Activity | None:
        row = self._connection.execute(select(tables.activities).where(condition)).first()
        return None if row is None else activity_from_row(row)


class SqlEventRepository:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def add(self, event: Event) -> None:
        event.id = _insert_returning_id(
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


class SqlOptOutRepository:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def is_opted_out(self, phone: PhoneNumber) -> bool:
        o = tables.opt_outs
        return bool(
            self._connection.execute(select(exists().where(o.c.phone == phone.e164))).scalar()
        )

    def opt_out(self, phone: PhoneNumber, at: datetime) -> None:
        statement = insert_unless_exists(self._connection, tables.opt_outs, "phone")
        self._connection.execute(statement.values(phone=phone.e164, opted_out_at=at))

    def opt_in(self, phone: PhoneNumber) -> None:
        o = tables.opt_outs
        self._connection.execute(delete(o).where(o.c.phone == phone.e164))


class SqlStatusLog:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def append(self, report: StatusReport) -> bool:
        s = tables.status_callbacks
        statement = insert_unless_exists(
            self._connection, s, "channel", "twilio_sid", "status"
        ).values(
            channel=report.channel.value,
            twilio_sid=report.twilio_sid,
            status=report.status,
            record_id=report.record_id,
            error_code=report.error_code,
            error_message=report.error_message,
            duration_seconds=report.duration_seconds,
            received_at=report.received_at,
        )
        return self._connection.execute(statement.returning(s.c.id)).first() is not None
