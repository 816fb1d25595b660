"""The audit of the record, in a few set-based statements read from one snapshot: each finds
every row of one kind of broken link at once (an outer join whose other side is missing, or a
count that is not one), whatever the size of the tables."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Connection, Engine, Select, Table, and_, func, or_, select

from ecm_comms.adapters.sql import tables
from ecm_comms.adapters.sql.engine import connect
from ecm_comms.domain.audit import AuditFindings, AuditProblem, ProblemKind
from ecm_comms.domain.channels import Channel, Direction

_a, _e = tables.activities, tables.events
_TABLES = {Channel.SMS: tables.text_messages, Channel.CALL: tables.voice_calls}
_LINKS = {Channel.SMS: _a.c.text_message_id, Channel.CALL: _a.c.voice_call_id}


class SqlAuditViews:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def audit(self, clinic_id: int | None) -> AuditFindings:
        # One snapshot for every statement: PostgreSQL's REPEATABLE READ; on SQLite a deferred
        # transaction, which in WAL mode reads one snapshot and never takes the write lock.
        options = {} if self._engine.dialect.name == "sqlite" else _ONE_SNAPSHOT
        with connect(self._engine, **options) as connection, connection.begin():
            checked = sum(_count_accepted(connection, channel, clinic_id) for channel in Channel)
            problems = [
                *(p for channel in Channel for p in _activities(connection, channel, clinic_id)),
                *_events(connection, clinic_id),
                *_events_without_activity(connection, clinic_id),
                *_activities_without_communication(connection, clinic_id),
            ]
        return AuditFindings(checked, tuple(problems))


_ONE_SNAPSHOT: dict[str, Any] = {"isolation_level": "REPEATABLE READ", "postgresql_readonly": True}


def _accepted(table: Table, clinic_id: int | None) -> ColumnElement[bool]:
    """Twilio took it (it has a sid, or came in), and it matched a patient (of the clinic)."""
    accepted = or_(table.c.twilio_sid.is_not(None), table.c.direction == Direction.INBOUND.value)
    matched = table.c.patient_id.is_not(None)
    return and_(accepted, matched, *_of_clinic(table, clinic_id))


def _of_clinic(table: Any, clinic_id: int | None) -> list[ColumnElement[bool]]:
    return [] if clinic_id is None else [table.c.clinic_id == clinic_id]


def _count_accepted(connection: Connection, channel: Channel, clinic_id: int | None) -> int:
    table = _TABLES[channel]
    counted = select(func.count()).select_from(table).where(_accepted(table, clinic_id))
    return int(connection.execute(counted).scalar_one())


def _activities(
    connection: Connection, channel: Channel, clinic_id: int | None
) -> list[AuditProblem]:
    """Accepted communications with no activity, or more than one."""
    table = _TABLES[channel]
    found = func.count(_a.c.id)
    query = (
        select(table.c.id, found.label("found"))
        .select_from(table.outerjoin(_a, _LINKS[channel] == table.c.id))
        .where(_accepted(table, clinic_id))
        .group_by(table.c.id)
        .having(found != 1)
    )
    return [
        AuditProblem(ProblemKind.ACTIVITIES, channel, record_id=row.id, found=row.found)
        for row in connection.execute(query)
    ]


def _events(connection: Connection, clinic_id: int | None) -> list[AuditProblem]:
    """Activities with no event, or more than one."""
    found = func.count(_e.c.id)
    query: Select[Any] = (
        select(
            _a.c.id, _a.c.activity_type, _a.c.text_message_id, _a.c.voice_call_id, found.label("n")
        )
        .select_from(_a.outerjoin(_e, _e.c.activity_id == _a.c.id))
        .where(*_of_clinic(_a, clinic_id))
        .group_by(_a.c.id, _a.c.activity_type, _a.c.text_message_id, _a.c.voice_call_id)
        .having(found != 1)
    )
    return [
        AuditProblem(
            ProblemKind.EVENTS,
            *_record_of(row),
            activity_id=row.id,
            found=row.n,
        )
        for row in connection.execute(query)
    ]


def _events_without_activity(connection: Connection, clinic_id: int | None) -> list[AuditProblem]:
    query = (
        select(_e.c.id, _e.c.activity_id)
        .select_from(_e.outerjoin(_a, _a.c.id == _e.c.activity_id))
        .where(_a.c.id.is_(None), *_of_clinic(_e, clinic_id))
    )
    return [
        AuditProblem(
            ProblemKind.EVENT_WITHOUT_ACTIVITY, event_id=row.id, activity_id=row.activity_id
        )
        for row in connection.execute(query)
    ]


def _activities_without_communication(
    connection: Connection, clinic_id: int | None
) -> list[AuditProblem]:
    """Activities whose SMS or call (as their type says) is not on record."""
    sms, call = _TABLES[Channel.SMS], _TABLES[Channel.CALL]
    query = (
        select(_a.c.id, _a.c.activity_type, _a.c.text_message_id, _a.c.voice_call_id)
        .select_from(
            _a.outerjoin(sms, sms.c.id == _a.c.text_message_id).outerjoin(
                call, call.c.id == _a.c.voice_call_id
            )
        )
        .where(
            or_(
                and_(_a.c.activity_type == Channel.SMS.value, sms.c.id.is_(None)),
                and_(_a.c.activity_type == Channel.CALL.value, call.c.id.is_(None)),
            ),
            *_of_clinic(_a, clinic_id),
        )
    )
    return [
        AuditProblem(
            ProblemKind.ACTIVITY_WITHOUT_COMMUNICATION, *_record_of(row), activity_id=row.id
        )
        for row in connection.execute(query)
    ]


def _record_of(row: Any) -> tuple[Channel, int | None]:
    """The SMS or call an activity names, as its type says."""
    channel = Channel(row.activity_type)
    return channel, row.text_message_id if channel is Channel.SMS else row.voice_call_id
