"""What the compliance reports read: each event with what happened, its PRTF category, and the
reporting period as calendar days in the clinic's time zone."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from ecm_comms.domain.channels import Channel, Direction
from ecm_comms.domain.errors import InvalidInput
from ecm_comms.domain.statuses import CallStatus

_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
# Where the bounds of a period at the very ends of the calendar (years 1 and 9999) stop.
# A call this long or longer that completed is an encounter (ECM_ENCOUNTER_MIN_CALL_SECONDS).
DEFAULT_ENCOUNTER_MIN_CALL_SECONDS = 60


class PrtfCategory(StrEnum):
    OUTREACH = "Telehealth Outreach"
    ENCOUNTER = "Telehealth Encounter"
    RESPONSE = "Member Response"


@dataclass(frozen=True, slots=True)
class EventRow:
    """One ECM event with its activity and its SMS or call, as the reports read it."""

    event_id: int
    activity_id: int
    patient_id: int
    channel: Channel
    direction: Direction
    status: str  # the communication's current status
    duration_seconds: int | None
    occurred_at: datetime
    performed_by_id: int | None
    assigned_to_id: int | None
    # What a view may read with the event, where it can: None when it did not, or did not know.
    member_id: str | None = None  # the patient's Member CIN
    performed_by_name: str | None = None
    assigned_to_name: str | None = None

    def category(self, encounter_min_call_seconds: int) -> PrtfCategory:
        """Derived when read, never stored: a call's outcome arrives after its event."""
        if (
            self.channel is Channel.CALL
            and self.status == CallStatus.COMPLETED
            and (self.duration_seconds or 0) >= encounter_min_call_seconds
        ):
            return PrtfCategory.ENCOUNTER
        if self.direction is Direction.OUTBOUND:
            return PrtfCategory.OUTREACH
        return PrtfCategory.RESPONSE


@dataclass(frozen=True, slots=True)
class ReportingPeriod:
    """Calendar days, both ends inclusive, in a clinic's time zone."""

    start: date
    end: date
    zone: ZoneInfo

    @classmethod
    def parse(
        cls,
        start: str | None,
        end: str | None,
        zone: ZoneInfo,
        fields: tuple[str, str] = ("start_date", "end_date"),
    ) -> ReportingPeriod:
        """Both days as ``YYYY-MM-DD``; every problem reported at once, naming its field."""
        problems: dict[str, str] = {}
        first, last = parse_days(start, end, fields, problems)
        if problems or first is None or last is None:
            raise InvalidInput.of_fields(problems)
        return cls(first, last, zone)

    def utc_bounds(self) -> tuple[datetime, datetime]:
        """From the start day's first instant up to (not including) the day after the end."""
        return midnight_utc(self.start, self.zone), day_after_utc(self.end, self.zone)

    def local_day(self, instant: datetime) -> date:
        return instant.astimezone(self.zone).date()


# What starts a formula in a spreadsheet: a cell of free text starting so is written after a "'".
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(text: str | None) -> str:
    """Free text as a cell a spreadsheet shows and never runs: empty when unknown, a leading
    ``'`` before what would start a formula."""
    if not text:
        return ""
    return "'" + text if text.startswith(FORMULA_TRIGGERS) else text


def midnight_utc(day: date, zone: ZoneInfo) -> datetime:
    """The day's first instant in ``zone``, in UTC; days at the ends of the calendar clamp to
    the earliest or latest instant there is."""
    try:
        return datetime.combine(day, time.min, zone).astimezone(UTC)
    except OverflowError:  # before year 1 or after 9999 in UTC
        return (datetime.min if day.year == 1 else datetime.max).replace(tzinfo=UTC)


def day_after_utc(day: date, zone: ZoneInfo) -> datetime:
    """Where ``day`` ends in ``zone``: the next day's first instant, in UTC."""
    if day == date.max:
        return datetime.max.replace(tzinfo=UTC)
    return midnight_utc(day + timedelta(days=1), zone)


def parse_days(
    start: str | None,
    end: str | None,
    fields: tuple[str, str],
    problems: dict[str, str],
    *,
    required: bool = True,
) -> tuple[date | None, date | None]:
    """The first and last of a span of days, ``YYYY-MM-DD``, the first not after the last; each
    problem noted under its field. Not ``required``: a day that is absent leaves that end open."""
    days = [
        None if raw is None and not required else _day(raw, field, problems)
        for raw, field in zip((start, end), fields, strict=True)
    ]
    first, last = days
    if first is not None and last is not None and first > last:
        problems.setdefault(fields[0], f"{fields[0]} must not be after {fields[1]}")
    return first, last


def parse_day(raw: str, name: str, label: str | None = None) -> date:
    """A ``YYYY-MM-DD`` day; the message names the field (or says ``label``)."""
    problems: dict[str, str] = {}
    day = _day(raw, name, problems, label)
    if day is None:
        raise InvalidInput.of_fields(problems)
    return day


def _day(
    raw: str | None, name: str, problems: dict[str, str], label: str | None = None
) -> date | None:
    if raw is None or not raw.strip():
        problems[name] = f"{label or name} is required"
        return None
    text = raw.strip()
    try:
        if not _DAY.fullmatch(text):
            raise ValueError(text)
        return date.fromisoformat(text)
    except ValueError:
        problems[name] = f"{label or name} must be a date as YYYY-MM-DD"
        return None
