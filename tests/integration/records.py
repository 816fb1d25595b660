"""What an API request left behind: its answer, the rows in the database, what went to Twilio.

Tests compare a whole ``Outcome`` with the one they expect (``refused(422, [...])``), so that a
failure shows every difference at once and pytest's dataclass diff names the field.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import RowMapping, Table, func, select
from werkzeug.test import TestResponse

from ecm_comms.adapters.memory import FakeGateway
from ecm_comms.adapters.sql import tables
from ecm_comms.container import Container

API = "/v1/clinic/ecm/communications"

# The tables an outbound communication can write to: the record, its activity and event, and the
# consent entry (an opt-out) Twilio's error 21610 puts on record. (Status callbacks are written by
# webhooks only.)
RECORD_TABLES: tuple[Table, ...] = (
    tables.text_messages,
    tables.voice_calls,
    tables.activities,
    tables.events,
    tables.consent_entries,
    tables.status_callbacks,
)

NOTHING_RECORDED: dict[str, int] = {table.name: 0 for table in RECORD_TABLES}


def sms_url(patient_id: int | str = 123) -> str:
    return f"{API}/patients/{patient_id}/sms"


def call_url(patient_id: int | str = 123) -> str:
    return f"{API}/patients/{patient_id}/call"


def count_rows(container: Container) -> dict[str, int]:
    """The number of rows in each of ``RECORD_TABLES``, by table name."""
    with container.engine().connect() as connection:
        return {
            table.name: connection.execute(select(func.count()).select_from(table)).scalar_one()
            for table in RECORD_TABLES
        }


def recorded(
    *,
    text_messages: int = 0,
    voice_calls: int = 0,
    activities: int = 0,
    consent_entries: int = 0,
) -> dict[str, int]:
    """The expected ``count_rows``; every activity comes with exactly one event."""
    return {
        "text_messages": text_messages,
        "voice_calls": voice_calls,
        "activities": activities,
        "events": activities,
        "consent_entries": consent_entries,
        "status_callbacks": 0,
    }


def rows(container: Container, table: Table) -> list[RowMapping]:
    """Every row of ``table``, in the order of its primary key (oldest first, for ids)."""
    with container.engine().connect() as connection:
        query = select(table).order_by(*table.primary_key.columns)
        return list(connection.execute(query).mappings())


def only_row(container: Container, table: Table) -> RowMapping:
    found = rows(container, table)
    assert len(found) == 1, f"{table.name}: {len(found)} rows, expected exactly one"
    return found[0]


@dataclass(frozen=True)
class Outcome:
    status: int
    content_type: str | None
    body: Any
    records: dict[str, int]
    sms_sent: int
    calls_started: int


def outcome(response: TestResponse, container: Container, gateway: FakeGateway) -> Outcome:
    return Outcome(
        status=response.status_code,
        content_type=response.mimetype,
        body=response.get_json(silent=True),
        records=count_rows(container),
        sms_sent=len(gateway.sent),
        calls_started=len(gateway.calls),
    )


def refused(status: int, errors: list[str]) -> Outcome:
    """A JSON error answer after which nothing is on record and nothing went to Twilio."""
    return Outcome(
        status=status,
        content_type="application/json",
        body={"errors": errors},
        records=NOTHING_RECORDED,
        sms_sent=0,
        calls_started=0,
    )


def not_sent(status: int, errors: list[str], records: dict[str, int]) -> Outcome:
    """A JSON error answer after Twilio did not take the SMS or call: it stays on record (as
    ``records`` says: the record, never an activity or event) and nothing was sent."""
    return Outcome(
        status=status,
        content_type="application/json",
        body={"errors": errors},
        records=records,
        sms_sent=0,
        calls_started=0,
    )
