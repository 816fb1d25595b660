"""What the compliance reports read: a clinic's events with their activities and communications,
as a stream, so a month of any size is read in batches. Each row carries the patient's Member CIN
and the users' names, joined in the same statement rather than looked up row by row."""

from __future__ import annotations

from collections.abc import Generator, Iterator
from contextlib import closing
from datetime import UTC, datetime
from functools import cache
from typing import Any

from sqlalchemy import Connection, Dialect, Engine, FromClause, Select, bindparam, func, select

from ecm_comms.adapters.sql import tables
from ecm_comms.adapters.sql.engine import begin
from ecm_comms.domain.channels import Channel, Direction
from ecm_comms.domain.errors import StorageUnavailable
from ecm_comms.domain.reporting import EventRow

# Rows fetched per round trip while streaming.
BATCH_SIZE = 2000

_a, _t, _v = tables.activities, tables.text_messages, tables.voice_calls
_p = tables.patients
_performer, _assignee = tables.users.alias("performer"), tables.users.alias("assignee")


def event_rows(events: FromClause = tables.events) -> Select[Any]:
    """The events of ``events`` (the table, or a selection of its rows with all its columns)
    with their activities and SMS or calls, in the columns ``event_row`` reads."""
    e = events
    return select(
        e.c.id.label("event_id"),
        e.c.activity_id,
        e.c.patient_id,
        e.c.event_type,
        func.coalesce(_t.c.direction, _v.c.direction).label("direction"),
        func.coalesce(_t.c.status, _v.c.status).label("status"),
        _v.c.duration_seconds,
        e.c.occurred_at,
        _a.c.performed_by_id,
        _a.c.assigned_to_id,
        _p.c.member_id,
        _performer.c.name.label("performed_by_name"),
        _assignee.c.name.label("assigned_to_name"),
    ).select_from(
        e.join(_a, _a.c.id == e.c.activity_id)
        .outerjoin(_t, _t.c.id == _a.c.text_message_id)
        .outerjoin(_v, _v.c.id == _a.c.voice_call_id)
        .outerjoin(_p, _p.c.id == e.c.patient_id)
        .outerjoin(_performer, _performer.c.id == _a.c.performed_by_id)
        .outerjoin(_assignee, _assignee.c.id == _a.c.assigned_to_id)
    )


_e = tables.events
_EVENT_ROWS = (
    event_rows()
    .where(
        _e.c.clinic_id == bindparam("clinic_id"),
        _e.c.occurred_at >= bindparam("since"),
        _e.c.occurred_at < bindparam("until"),
    )
    .order_by(_e.c.occurred_at, _e.c.id)
)


_CHANNELS = {channel.value: channel for channel in Channel}
_DIRECTIONS = {direction.value: direction for direction in Direction}


class SqlReportViews:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def events(self, clinic_id: int, since: datetime, until: datetime) -> Iterator[EventRow]:
        # Each row is built with as little work as possible: a month can hold hundreds of
        # thousands. On SQLite a deferred BEGIN, which never takes the write lock.
        parameters = {"clinic_id": clinic_id, "since": since, "until": until}
        channels, directions = _CHANNELS, _DIRECTIONS
        with begin(self._engine) as connection, closing(_rows(connection, parameters)) as rows:
            # Closed before the transaction ends, even when the reader stops early: an unfinished
            # PostgreSQL stream holds its connection until then.
            for (
                event_id,
                activity_id,
                patient_id,
                event_type,
                direction,
                status,
                duration_seconds,
                occurred_at,
                performed_by_id,
                assigned_to_id,
                member_id,
                performed_by_name,
                assigned_to_name,
            ) in rows:
                yield EventRow(
                    event_id,
                    activity_id,
                    patient_id,
                    channels[event_type],
                    directions[direction],
                    status,
                    duration_seconds,
                    occurred_at.astimezone(UTC),  # PostgreSQL's are in the session's zone
                    performed_by_id,
                    assigned_to_id,
                    member_id,
                    performed_by_name,
                    assigned_to_name,
                )


def event_row(row: Any) -> EventRow:
    return EventRow(
        event_id=row.event_id,
        activity_id=row.activity_id,
        patient_id=row.patient_id,
        channel=Channel(row.event_type),
        direction=Direction(row.direction),
        status=row.status,
        duration_seconds=row.duration_seconds,
        occurred_at=row.occurred_at,
        performed_by_id=row.performed_by_id,
        assigned_to_id=row.assigned_to_id,
        member_id=row.member_id,
        performed_by_name=row.performed_by_name,
        assigned_to_name=row.assigned_to_name,
    )


def _rows(connection: Connection, parameters: dict[str, Any]) -> Generator[tuple[Any, ...]]:
    if connection.dialect.name == "postgresql":
        return _streamed_from_postgresql(connection, parameters)
    return _fetched_in_batches(connection, parameters)


def _fetched_in_batches(
    connection: Connection, parameters: dict[str, Any]
) -> Generator[tuple[Any, ...]]:
    """SQLite's cursor reads as it is iterated; SQLAlchemy is told not to buffer it all."""
    options = connection.execution_options(yield_per=BATCH_SIZE)
    with closing(options.execute(_EVENT_ROWS, parameters)) as result:
        yield from result


def _streamed_from_postgresql(
    connection: Connection, parameters: dict[str, Any]
) -> Generator[tuple[Any, ...]]:
    """The rows as the server sends them, a batch at a time (psycopg's ``stream``).

    Not a server-side cursor: PostgreSQL plans a cursor's query for its first rows and never in
    parallel, which makes a month read through one several times slower than the query itself.
    A plain query streamed in batches is planned as a whole, as ``COPY`` would plan it.
    """
    driver = connection.connection.driver_connection
    dbapi = connection.dialect.loaded_dbapi
    assert driver is not None
    capabilities = getattr(dbapi, "capabilities", None)  # psycopg 3.2 or later
    # Batches need libpq 17 or later; before that, psycopg reads a row at a time.
    chunked = capabilities is not None and capabilities.has_stream_chunked()
    try:
        with driver.cursor() as cursor:
            yield from cursor.stream(
                _postgresql_statement(connection.dialect),
                parameters,
                size=BATCH_SIZE if chunked else 1,
            )
    except dbapi.OperationalError as error:  # the server went away mid-stream
        raise StorageUnavailable() from error


@cache
def _postgresql_statement(dialect: Dialect) -> str:
    return str(_EVENT_ROWS.compile(dialect=dialect))
