"""The record as read by the API: an SMS or call with its activity, a patient's history.

Each read runs on a connection of its own outside any unit of work: on PostgreSQL in
autocommit, on SQLite in a deferred transaction, which in WAL mode never waits for the write
lock another process holds.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from sqlalchemy import (
    BigInteger,
    Engine,
    Select,
    String,
    Table,
    Text,
    bindparam,
    cast,
    literal,
    null,
    select,
    tuple_,
    union_all,
)
from sqlalchemy import Integer as SqlInteger

from ecm_comms.adapters.sql import tables
from ecm_comms.adapters.sql.engine import reading
from ecm_comms.adapters.sql.rows import (
    activity_from_row,
    text_message_from_row,
    voice_call_from_row,
)
from ecm_comms.adapters.sql.types import UtcDateTime
from ecm_comms.domain.channels import Channel
from ecm_comms.domain.consent import Consent, ConsentAction, ConsentEntry, ConsentSource
from ecm_comms.domain.history import HistoryItem, Position
from ecm_comms.domain.phone_numbers import PhoneNumber

_ACTIVITY_PREFIX = "activity_"
_TABLES = {Channel.SMS: tables.text_messages, Channel.CALL: tables.voice_calls}


class SqlCommunicationViews:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def find(self, channel: Channel, record_id: int) -> HistoryItem | None:
        with reading(self._engine) as connection:
            row = connection.execute(_one(channel), {"record_id": record_id}).first()
        return None if row is None else _item(row)

    def history(self, patient_id: int, limit: int, after: Position | None) -> list[HistoryItem]:
        both = union_all(
            _page_of(Channel.SMS, patient_id, limit, after),
            _page_of(Channel.CALL, patient_id, limit, after),
        ).subquery()
        order = (both.c.created_at, both.c.channel, both.c.id)
        query = select(both).order_by(*(column.desc() for column in order)).limit(limit)
        with reading(self._engine) as connection:
            return [_item(row) for row in connection.execute(query)]


@cache
def _one(channel: Channel) -> Select[Any]:
    """The record with the parameter ``record_id``, with its activity (built once)."""
    table = _TABLES[channel]
    return _with_activity(channel).where(table.c.id == bindparam("record_id"))


def _with_activity(channel: Channel) -> Select[Any]:
    """A table's records with their activities, in the columns the two tables share."""
    table = _TABLES[channel]
    a = tables.activities
    is_sms = channel is Channel.SMS
    link = a.c.text_message_id if is_sms else a.c.voice_call_id
    return select(
        literal(channel.value, String()).label("channel"),
        *(table.c[name] for name in _SHARED_COLUMNS),
        table.c.body if is_sms else cast(null(), Text).label("body"),
        table.c.send_at if is_sms else cast(null(), UtcDateTime).label("send_at"),
        table.c.skip_reason if is_sms else cast(null(), String).label("skip_reason"),
        cast(null(), SqlInteger).label("duration_seconds") if is_sms else table.c.duration_seconds,
        *(column.label(_ACTIVITY_PREFIX + column.name) for column in a.columns),
    ).select_from(table.outerjoin(a, link == table.c.id))


def _after(table: Table, channel: Channel, after: Position) -> Any:
    return tuple_(table.c.created_at, literal(channel.value, String()), table.c.id) < tuple_(
        literal(after.created_at, UtcDateTime()),
        literal(after.channel.value, String()),
        literal(after.record_id, BigInteger()),
    )


def _page_of(channel: Channel, patient_id: int, limit: int, after: Position | None) -> Select[Any]:
    """One table's first ``limit`` records after ``after`` with their activities: a backward
    scan of (patient_id, created_at) that stops there."""
    table = _TABLES[channel]
    query = _with_activity(channel).where(table.c.patient_id == patient_id)
    if after is not None:
        query = query.where(_after(table, channel, after))
    limited = query.order_by(table.c.created_at.desc(), table.c.id.desc()).limit(limit).subquery()
    return select(limited)


_SHARED_COLUMNS = (
    "id",
    "clinic_id",
    "patient_id",
    "direction",
    "to_number",
    "from_number",
    "status",
    "twilio_sid",
    "sent_by_id",
    "error_code",
    "error_message",
    "created_at",
    "updated_at",
)


def _item(row: Any) -> HistoryItem:
    is_sms = row.channel == Channel.SMS.value
    record = text_message_from_row(row) if is_sms else voice_call_from_row(row)
    has_activity = row._mapping[_ACTIVITY_PREFIX + "id"] is not None
    return HistoryItem(record, activity_from_row(row, _ACTIVITY_PREFIX) if has_activity else None)


class SqlConsentViews:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def consent(self, phone: PhoneNumber, clinic_id: int | None) -> Consent:
        with reading(self._engine) as connection:
            rows = connection.execute(
                _ledger(shared_number=clinic_id is None),
                {"phone": phone.e164, "clinic_id": clinic_id},
            ).all()
        return Consent(phone, tuple(_consent_entry(row) for row in rows))


@cache
def _ledger(*, shared_number: bool) -> Select[Any]:
    c = tables.consent_entries
    scope = c.c.clinic_id.is_(None) if shared_number else c.c.clinic_id == bindparam("clinic_id")
    return select(c).where(c.c.phone == bindparam("phone"), scope).order_by(c.c.id.desc())


def _consent_entry(row: Any) -> ConsentEntry:
    return ConsentEntry(
        PhoneNumber(row.phone),
        row.clinic_id,
        ConsentAction(row.action),
        ConsentSource(row.source),
        row.at,
        sms_id=row.sms_id,
        user_id=row.user_id,
        note=row.note,
        recorded_for=row.recorded_for_clinic_id,
        id=row.id,
    )
