"""Repositories over one connection: domain objects in, domain objects out."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator, Sequence
from functools import cache
from typing import Any, Generic, TypeVar

from sqlalchemy import (
    ColumnElement,
    Connection,
    Insert,
    Row,
    Select,
    Table,
    Update,
    and_,
    bindparam,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite

from ecm_comms.adapters.sql import tables
from ecm_comms.adapters.sql.engine import WRITE_TRANSACTION
from ecm_comms.adapters.sql.rows import (
    activity_from_row,
    communication_values,
    event_from_row,
    text_message_from_row,
    voice_call_from_row,
)
from ecm_comms.domain.activities import Activity, Event
from ecm_comms.domain.channels import Channel
from ecm_comms.domain.communications import StatusReport, TextMessage, VoiceCall
from ecm_comms.domain.consent import ConsentAction, ConsentEntry
from ecm_comms.domain.phone_numbers import PhoneNumber
from ecm_comms.ports.unit_of_work import Record

T = TypeVar("T")
# Values per lookup by a list of them: within every SQLite build's limit of bound parameters.
VALUES_PER_QUERY = 900

# Statements are built once and executed with each call's values as parameters: SQLAlchemy then
# reuses their compiled form without building the statement or its cache key again, which was a
# good part of a request's CPU when every call built its own (docs/PERFORMANCE.md).


@cache
def _inserting(table: Table) -> Insert:
    return insert(table).returning(table.c.id)


def _insert_returning_id(connection: Connection, table: Table, values: dict[str, Any]) -> int:
    return int(connection.execute(_inserting(table), values).scalar_one())


@cache
def _inserting_in_order(table: Table) -> Insert:
    # insertmanyvalues: rows go in batches, and SQLAlchemy hands the ids back in the order of
    # the parameters (on PostgreSQL the rows take their sequence numbers in that order, and the
    # ids come back sorted by them).
    return insert(table).returning(table.c.id, sort_by_parameter_order=True)


def insert_many(connection: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> list[int]:
    """Insert ``rows`` in few statements; the new ids, in the order of ``rows``."""
    if not rows:
        return []
    if connection.dialect.name != "sqlite":
        return [int(row.id) for row in connection.execute(_inserting_in_order(table), rows)]
    # SQLite does not promise RETURNING rows in the order of the VALUES, so SQLAlchemy would
    # send one INSERT per row. A writing transaction here holds the database's only write lock
    # from its BEGIN IMMEDIATE: the ids above the highest are ours to give, as SQLite would.
    assert connection.get_execution_options().get(WRITE_TRANSACTION), "inside a unit of work"
    first = int(connection.execute(_next_id(table)).scalar_one())
    ids = list(range(first, first + len(rows)))
    connection.execute(
        insert(table), [{**row, "id": new_id} for row, new_id in zip(rows, ids, strict=True)]
    )
    return ids


@cache
def _next_id(table: Table) -> Select[Any]:
    return select(func.coalesce(func.max(table.c.id), 0) + 1)


def chunks(values: Sequence[T]) -> Iterator[Sequence[T]]:
    """``values`` ``VALUES_PER_QUERY`` at a time, for statements naming a list of them."""
    for start in range(0, len(values), VALUES_PER_QUERY):
        yield values[start : start + VALUES_PER_QUERY]


@cache
def insert_unless_exists(
    dialect: str, table: Table, unique: tuple[str, ...], returning: str | None = None
) -> Insert:
    """INSERT … ON CONFLICT DO NOTHING: the database, not a prior read, refuses duplicates.

    Execute it with the row's values as parameters; ``returning`` names a column to return,
    so that no row back means the row existed.
    """
    if dialect == "postgresql":
        statement: Insert = postgresql.insert(table).on_conflict_do_nothing(index_elements=unique)
    elif dialect == "sqlite":
        statement = sqlite.insert(table).on_conflict_do_nothing(index_elements=unique)
    else:
        raise ValueError(f"ecm-comms stores its records in SQLite or PostgreSQL, not {dialect}")
    return statement if returning is None else statement.returning(table.c[returning])


@cache
def _selecting(table: Table, column: str) -> Select[Any]:
    """The rows whose ``column`` equals the parameter ``value``."""
    return select(table).where(table.c[column] == bindparam("value"))


@cache
def _locking(table: Table, by_sid: bool, by_id: bool) -> Select[Any]:
    """The record with the parameter ``sid``, or else the one with the parameter ``record_id``
    that has no sid yet; locked for update."""
    matches = []
    if by_sid:
        matches.append(table.c.twilio_sid == bindparam("sid"))
    if by_id:
        matches.append(and_(table.c.id == bindparam("record_id"), table.c.twilio_sid.is_(None)))
    return (
        select(table)
        .where(or_(*matches))
        .order_by(table.c.twilio_sid.is_(None))  # a match on the sid wins
        .limit(1)
        .with_for_update()
    )


@cache
def _updating(table: Table) -> Update:
    """Sets the columns given as parameters on the record with the parameter ``record_id``."""
    return update(table).where(table.c.id == bindparam("record_id"))


@cache
def _updating_unsent(table: Table) -> Update:
    """``_updating``, if the record has no sid yet."""
    return _updating(table).where(table.c.twilio_sid.is_(None))


_LAST_PERFORMER = (
    select(tables.activities.c.performed_by_id)
    .where(
        tables.activities.c.patient_id == bindparam("patient_id"),
        tables.activities.c.performed_by_id.is_not(None),
    )
    .order_by(tables.activities.c.created_at.desc(), tables.activities.c.id.desc())
    .limit(1)
)


# What changes on a record after it is added: what the provider says about it, and why the
# sending rules kept an automated SMS back.
_UPDATABLE = (
    "status",
    "skip_reason",
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
        statement = insert_unless_exists(
            self._connection.dialect.name, self._table, ("twilio_sid",), returning="id"
        )
        new_id = self._connection.execute(
            statement, communication_values(record)
        ).scalar_one_or_none()
        if new_id is None:
            return False
        record.id = int(new_id)
        return True

    def get(self, record_id: int) -> Record | None:
        return self._first("id", record_id)

    def get_by_sid(self, sid: str) -> Record | None:
        return self._first("twilio_sid", sid)

    def lock(self, *, sid: str | None = None, record_id: int | None = None) -> Record | None:
        if sid is None and record_id is None:
            return None
        query = _locking(self._table, sid is not None, record_id is not None)
        row = self._connection.execute(query, {"sid": sid, "record_id": record_id}).first()
        return None if row is None else self._from_row(row)

    def update(self, record: Record) -> None:
        self._update(_updating(self._table), record)

    def update_unsent(self, record: Record) -> bool:
        return self._update(_updating_unsent(self._table), record) == 1

    def _update(self, statement: Update, record: Record) -> int:
        assert record.id is not None
        values = communication_values(record)
        columns = {key: values[key] for key in _UPDATABLE if key in values}
        return self._connection.execute(statement, {**columns, "record_id": record.id}).rowcount

    def _first(self, column: str, value: object) -> Record | None:
        row = self._connection.execute(_selecting(self._table, column), {"value": value}).first()
        return None if row is None else self._from_row(row)


class SqlTextMessageRepository(_Communications[TextMessage]):
    def __init__(self, connection: Connection) -> None:
        super().__init__(connection, tables.text_messages, text_message_from_row)

    def add_unless_opted_out(self, message: TextMessage, clinic_id: int | None) -> bool:
        new_id = self._connection.execute(
            _inserting_unless_opted_out(shared_number=clinic_id is None),
            {**communication_values(message), "consent_clinic_id": clinic_id},
        ).scalar_one_or_none()
        if new_id is None:
            return False
        message.id = int(new_id)
        return True

    def add_many(self, messages: Sequence[TextMessage]) -> None:
        ids = insert_many(
            self._connection, self._table, [communication_values(m) for m in messages]
        )
        for message, new_id in zip(messages, ids, strict=True):
            message.id = new_id


@cache
def _inserting_unless_opted_out(*, shared_number: bool) -> Insert:
    """INSERT INTO text_messages … SELECT <the parameters> WHERE the recipient (the parameter
    ``to_number``) is not opted out (``_is_opted_out``), RETURNING id: no id back means opted
    out."""
    t = tables.text_messages
    names = [column.name for column in t.columns if column.name != "id"]
    parameters = {name: bindparam(name, type_=t.c[name].type) for name in names}
    row = select(*parameters.values()).where(
        ~_is_opted_out(parameters["to_number"], shared_number=shared_number)
    )
    return insert(t).from_select(names, row).returning(t.c.id)


def _is_opted_out(phone: ColumnElement[str], *, shared_number: bool) -> ColumnElement[bool]:
    """Whether the latest consent entry of ``phone`` with the clinic (the parameter
    ``consent_clinic_id``, or the shared number) is an opt-out; a number with none is not."""
    c = tables.consent_entries
    latest = (
        select(c.c.action)
        .where(
            c.c.phone == phone,
            c.c.clinic_id.is_(None)
            if shared_number
            else c.c.clinic_id == bindparam("consent_clinic_id"),
        )
        .order_by(c.c.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    return func.coalesce(latest, ConsentAction.OPT_IN.value) == ConsentAction.OPT_OUT.value


@cache
def _opted_out_among(*, shared_number: bool) -> Select[Any]:
    """Those of the phones (the expanding parameter ``phones``) whose latest entry with the
    clinic is an opt-out (``_is_opted_out``); only numbers with an entry there are looked at."""
    c = tables.consent_entries
    scope = (
        c.c.clinic_id.is_(None)
        if shared_number
        else c.c.clinic_id == bindparam("consent_clinic_id")
    )
    known = (
        select(c.c.phone)
        .where(c.c.phone.in_(bindparam("phones", expanding=True)), scope)
        .distinct()
        .subquery()
    )
    return select(known.c.phone).where(_is_opted_out(known.c.phone, shared_number=shared_number))


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

    def for_record(self, channel: Channel, record_id: int) -> Activity | None:
        column = "text_message_id" if channel is Channel.SMS else "voice_call_id"
        row = self._connection.execute(
            _selecting(tables.activities, column), {"value": record_id}
        ).first()
        return None if row is None else activity_from_row(row)

    def last_performer(self, patient_id: int) -> int | None:
        performer = self._connection.execute(
            _LAST_PERFORMER, {"patient_id": patient_id}
        ).scalar_one_or_none()
        return None if performer is None else int(performer)


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
            _selecting(tables.events, "activity_id"), {"value": activity_id}
        ).first()
        return None if row is None else event_from_row(row)


class SqlConsentLedger:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def append(self, entry: ConsentEntry) -> None:
        self._connection.execute(
            insert(tables.consent_entries),
            {
                "phone": entry.phone.e164,
                "clinic_id": entry.clinic_id,
                "action": entry.action.value,
                "source": entry.source.value,
                "sms_id": entry.sms_id,
                "user_id": entry.user_id,
                "note": entry.note,
                "recorded_for_clinic_id": entry.recorded_for,
                "at": entry.at,
            },
        )

    def opted_out(self, phones: Collection[PhoneNumber], clinic_id: int | None) -> set[PhoneNumber]:
        query = _opted_out_among(shared_number=clinic_id is None)
        found: set[PhoneNumber] = set()
        for chunk in chunks(sorted({phone.e164 for phone in phones})):
            rows = self._connection.execute(
                query, {"phones": chunk, "consent_clinic_id": clinic_id}
            ).scalars()
            found.update(PhoneNumber(phone) for phone in rows)
        return found


class SqlStatusLog:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def append(self, report: StatusReport) -> bool:
        statement = insert_unless_exists(
            self._connection.dialect.name,
            tables.status_callbacks,
            ("channel", "twilio_sid", "status"),
            returning="id",
        )
        values = {
            "channel": report.channel.value,
            "twilio_sid": report.twilio_sid,
            "status": report.status,
            "record_id": report.record_id,
            "error_code": report.error_code,
            "error_message": report.error_message,
            "duration_seconds": report.duration_seconds,
            "received_at": report.received_at,
        }
        return self._connection.execute(statement, values).first() is not None
