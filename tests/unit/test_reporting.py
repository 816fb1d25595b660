"""An event's PRTF category, derived when read; reporting periods as days in the clinic's zone."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from ecm_comms.domain.channels import Channel, Direction
from ecm_comms.domain.errors import InvalidInput
from ecm_comms.domain.reporting import EventRow, PrtfCategory, ReportingPeriod

MIN_CALL = 60
LOS_ANGELES = ZoneInfo("America/Los_Angeles")
SMS = EventRow(
    event_id=1,
    activity_id=1,
    patient_id=123,
    channel=Channel.SMS,
    direction=Direction.OUTBOUND,
    status="delivered",
    duration_seconds=None,
    occurred_at=datetime(2024, 7, 1, 17, 0, tzinfo=UTC),
    performed_by_id=101,
    assigned_to_id=101,
)
CALL = replace(SMS, channel=Channel.CALL, status="completed", duration_seconds=MIN_CALL)


def test_an_outbound_sms_is_telehealth_outreach() -> None:
    assert SMS.category(MIN_CALL) is PrtfCategory.OUTREACH


def test_an_inbound_sms_is_a_member_response() -> None:
    inbound = replace(SMS, direction=Direction.INBOUND, status="received")

    assert inbound.category(MIN_CALL) is PrtfCategory.RESPONSE


@pytest.mark.parametrize("direction", list(Direction))
def test_a_completed_call_of_the_minimum_length_is_an_encounter_either_way(
    direction: Direction,
) -> None:
    assert replace(CALL, direction=direction).category(MIN_CALL) is PrtfCategory.ENCOUNTER


@pytest.mark.parametrize(
    ("status", "duration"),
    [
        ("completed", MIN_CALL - 1),
        ("completed", None),
        ("busy", None),
        ("no-answer", None),
        ("failed", None),
        ("canceled", None),
        ("in-progress", None),
    ],
)
def test_any_other_outbound_call_is_outreach(status: str, duration: int | None) -> None:
    call = replace(CALL, status=status, duration_seconds=duration)

    assert call.category(MIN_CALL) is PrtfCategory.OUTREACH


def test_any_other_inbound_call_is_a_member_response() -> None:
    short = replace(CALL, direction=Direction.INBOUND, duration_seconds=MIN_CALL - 1)

    assert short.category(MIN_CALL) is PrtfCategory.RESPONSE


def test_the_encounter_length_is_the_settings() -> None:
    assert CALL.category(MIN_CALL + 1) is PrtfCategory.OUTREACH


def test_a_period_covers_its_days_in_the_clinics_zone_both_ends_included() -> None:
    period = ReportingPeriod.parse("2024-07-01", "2024-07-31", LOS_ANGELES)

    assert period.utc_bounds() == (
        datetime(2024, 7, 1, 7, 0, tzinfo=UTC),
        datetime(2024, 8, 1, 7, 0, tzinfo=UTC),
    )


def test_an_instant_is_on_the_day_the_clinic_lived_it() -> None:
    period = ReportingPeriod.parse("2024-07-01", "2024-07-31", LOS_ANGELES)

    assert period.local_day(datetime(2024, 8, 1, 3, 0, tzinfo=UTC)) == date(2024, 7, 31)


@pytest.mark.parametrize(
    ("start", "end", "problems"),
    [
        (None, "2024-07-31", ["start_date is required"]),
        ("2024-07-01", "", ["end_date is required"]),
        ("07/01/2024", "2024-07-31", ["start_date must be a date as YYYY-MM-DD"]),
        ("2024-07-01", "2024-02-30", ["end_date must be a date as YYYY-MM-DD"]),
        ("2024-W27-1", "2024-07-31", ["start_date must be a date as YYYY-MM-DD"]),
        ("2024-08-01", "2024-07-31", ["start_date must not be after end_date"]),
        ("x", "y", ["start_date must be a date as YYYY-MM-DD",
                    "end_date must be a date as YYYY-MM-DD"]),
    ],
)  # fmt: skip
def test_a_bad_period_is_refused_naming_each_field(
    start: str | None, end: str | None, problems: list[str]
) -> None:
    with pytest.raises(InvalidInput) as refused:
        ReportingPeriod.parse(start, end, LOS_ANGELES)

    assert refused.value.messages == problems
