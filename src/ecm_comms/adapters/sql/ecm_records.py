"""A patient's ECM activities and events, a numbered page at a time, newest first.

Each list takes two statements on one reading connection: a count of what matches, then, only
when the page holds anything, the page itself. The page is picked from its own table first
(a backward scan of (patient_id, created_at) or (patient_id, occurred_at)) and only its rows are
joined to their SMS, calls and events.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Connection, Engine, Select, Table, func, select

from ecm_comms.adapters.sql import tables
from ecm_comms.adapters.sql.engine import reading
from ecm_comms.adapters.sql.reports import event_row, event_rows
from ecm_comms.adapters.sql.rows import activity_from_row
from ecm_comms.domain.channels import Direction
from ecm_comms.domain.ecm_records import (
    ActivityEntry,
    ActivityFilters,
    EventFilters,
    PageRequest,
)
from ecm_comms.domain.reporting import EventRow

_a, _e = tables.activities, tables.events
_t, _v = tables.text_messages, tables.voice_calls


class SqlActivityViews:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def activities(
        self, patient_id: int, clinic_id: int, filters: ActivityFilters, page: PageRequest
    ) -> tuple[list[ActivityEntry], int]:
        matching = _activities_matching(patient_id, clinic_id, filters)
        with reading(self._engine) as connection:
            total = _count(connection, matching, _a)
            if page.offset >= total:
                return [], total
            rows = connection.execute(_activity_page(matching, page)).all()
        return [_activity_entry(row) for row in rows], total

    def events(
        self, patient_id: int, clinic_id: int, filters: EventFilters, page: PageRequest
    ) -> tuple[list[EventRow], int]:
        matching = _events_matching(patient_id, clinic_id, filters)
        with reading(self._engine) as connection:
            total = _count(connection, matching, _e)
            if page.offset >= total:
                return [], total
            rows = connection.execute(_event_page(matching, page)).all()
        return [event_row(row) for row in rows], total


def _count(connection: Connection, conditions: list[ColumnElement[bool]], table: Table) -> int:
    counted = connection.execute(select(func.count()).select_from(table).where(*conditions))
    return int(counted.scalar_one())


def _activities_matching(
    patient_id: int, clinic_id: int, filters: ActivityFilters
) -> list[ColumnElement[bool]]:
    conditions = [_a.c.patient_id == patient_id, _a.c.clinic_id == clinic_id]
    if filters.activity_type is not None:
        conditions.append(_a.c.activity_type == filters.activity_type.value)
    if filters.assigned_to_id is not None:
        conditions.append(_a.c.assigned_to_id == filters.assigned_to_id)
    if filters.status is not None:
        conditions.append(_a.c.status == filters.status.value)
    return conditions


def _activity_page(conditions: list[ColumnElement[bool]], page: PageRequest) -> Select[Any]:
    chosen = (
        select(_a)
        .where(*conditions)
        .order_by(_a.c.created_at.desc(), _a.c.id.desc())
        .limit(page.size)
        .offset(page.offset)
        .subquery()
    )
    return (
        select(
            chosen,
            func.coalesce(_t.c.direction, _v.c.direction).label("direction"),
            _t.c.body,
            func.coalesce(_e.c.occurred_at, chosen.c.created_at).label("occurred_at"),
        )
        .select_from(
            chosen.outerjoin(_t, _t.c.id == chosen.c.text_message_id)
            .outerjoin(_v, _v.c.id == chosen.c.voice_call_id)
            .outerjoin(_e, _e.c.activity_id == chosen.c.id)
        )
        .order_by(chosen.c.created_at.desc(), chosen.c.id.desc())
    )


def _activity_entry(row: Any) -> ActivityEntry:
    return ActivityEntry(
        activity=activity_from_row(row),
        direction=Direction(row.direction),
        body=row.body,
        occurred_at=row.occurred_at,
    )


def _events_matching(
    patient_id: int, clinic_id: int, filters: EventFilters
) -> list[ColumnElement[bool]]:
    conditions = [_e.c.patient_id == patient_id, _e.c.clinic_id == clinic_id]
    if filters.event_type is not None:
        conditions.append(_e.c.event_type == filters.event_type.value)
    if filters.since is not None:
        conditions.append(_e.c.occurred_at >= filters.since)
    if filters.until is not None:
        conditions.append(_e.c.occurred_at < filters.until)
    return conditions


def _event_page(conditions: list[ColumnElement[bool]], page: PageRequest) -> Select[Any]:
    chosen = (
        select(_e)
        .where(*conditions)
        .order_by(_e.c.occurred_at.desc(), _e.c.id.desc())
        .limit(page.size)
        .offset(page.offset)
        .subquery()
    )
    return event_rows(chosen).order_by(chosen.c.occurred_at.desc(), chosen.c.id.desc())
