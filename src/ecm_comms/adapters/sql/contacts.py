"""A patient's SMS and calls together: for matching inbound senders and for history pages."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    BigInteger,
    Connection,
    Select,
    String,
    Table,
    Text,
    cast,
    literal,
    null,
    or_,
    select,
    tuple_,
    union_all,
)
from sqlalchemy import Integer as SqlInteger

from ecm_comms.adapters.sql import tables
from ecm_comms.adapters.sql.rows import (
    activity_from_row,
    text_message_from_row,
    voice_call_from_row,
)
from ecm_comms.adapters.sql.types import UtcDateTime
from ecm_comms.domain.channels import Channel
from ecm_comms.domain.history import HistoryItem, Position
from ecm_comms.domain.phone_numbers import PhoneNumber

_ACTIVITY_PREFIX = "activity_"


class SqlContactHistory:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def most_recently_contacted(self, patient_ids: Sequence[int], phone: PhoneNumber) -> int | None:
        # One "latest at this number" per candidate and table, each the first row of a backward
        # scan of (patient_id, created_at): a family's history can grow without this growing.
        def latest(table: Table, patient_id: int) -> Select[Any]:
            newest = (
                select(table.c.patient_id, table.c.created_at)
                .where(
                    table.c.patient_id == patient_id,
                    or_(table.c.to_number == phone.e164, table.c.from_number == phone.e164),
                )
                .order_by(table.c.created_at.desc())
                .limit(1)
                .subquery()
            )
            return select(newest)

        branches = [
            latest(table, patient_id)
            for patient_id in patient_ids
            for table in (tables.text_messages, tables.voice_calls)
        ]
        if not branches:
            return None
        both = union_all(*branches).subquery()
        patient_id = self._connection.execute(
            select(both.c.patient_id).order_by(both.c.created_at.desc()).limit(1)
        ).scalar_one_or_none()
        return None if patient_id is None else int(patient_id)

    def page(self, patient_id: int, limit: int, after: Position | None) -> list[HistoryItem]:
        both = union_all(
            _branch(tables.text_messages, Channel.SMS, patient_id, limit, after),
            _branch(tables.voice_calls, Channel.CALL, patient_id, limit, after),
        ).subquery()
        order = (both.c.created_at, both.c.channel, both.c.id)
        query = select(both).order_by(*(column.desc() for column in order)).limit(limit)
        return [_item(row) for row in self._connection.execute(query)]


def _after(table: Table, channel: Channel, after: Position) -> Any:
    return tuple_(table.c.created_at, literal(channel.value, String()), table.c.id) < tuple_(
        literal(after.created_at, UtcDateTime()),
        literal(after.channel.value, String()),
        literal(after.record_id, BigInteger()),
    )


def _branch(
    table: Table, channel: Channel, patient_id: int, limit: int, after: Position | None
) -> Select[Any]:
    """One table's first ``limit`` records after ``after`` with their activities, in columns
    the two tables share: a backward scan of (patient_id, created_at) that stops there."""
    a = tables.activities
    link = a.c.text_message_id if channel is Channel.SMS else a.c.voice_call_id
    is_sms = channel is Channel.SMS
    query = (
        select(
            literal(channel.value, String()).label("channel"),
            *(table.c[name] for name in _SHARED_COLUMNS),
            table.c.body if is_sms else cast(null(), Text).label("body"),
            cast(null(), SqlInteger).label("duration_seconds")
            if is_sms
            else table.c.duration_seconds,
            *(column.label(_ACTIVITY_PREFIX + column.name) for column in a.columns),
        )
        .select_from(table.outerjoin(a, link == table.c.id))
        .where(table.c.patient_id == patient_id)
    )
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
