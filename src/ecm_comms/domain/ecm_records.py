"""A patient's ECM activities and events as the clinic API lists them: what may filter them,
and numbered pages of them, newest first."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Generic, TypeVar
from zoneinfo import ZoneInfo

from ecm_comms.domain.activities import Activity, ActivityStatus
from ecm_comms.domain.channels import Channel, Direction
from ecm_comms.domain.errors import InvalidInput
from ecm_comms.domain.reporting import (
    EventRow,
    PrtfCategory,
    day_after_utc,
    midnight_utc,
    parse_days,
)

DEFAULT_PER_PAGE = 25
MAX_PER_PAGE = 100

Item = TypeVar("Item")
Choice = TypeVar("Choice", bound=StrEnum)


class Problems:
    """Every problem of a query's fields, each under the field's name, raised together."""

    def __init__(self) -> None:
        self._by_field: dict[str, str] = {}

    def add(self, field: str, message: str) -> None:
        self._by_field.setdefault(field, message)

    def raise_any(self) -> None:
        if self._by_field:
            raise InvalidInput.of_fields(self._by_field)


@dataclass(frozen=True, slots=True)
class PageRequest:
    """Page ``number`` (from 1) of pages of ``size`` items."""

    number: int
    size: int

    @property
    def offset(self) -> int:
        return (self.number - 1) * self.size

    @classmethod
    def parse(
        cls, number: int | None, size: int | None, size_field: str, problems: Problems
    ) -> PageRequest:
        """Defaults for what is absent; ``size_field`` names the size in messages."""
        number = 1 if number is None else number
        size = DEFAULT_PER_PAGE if size is None else size
        if number < 1:
            problems.add("page", "page must be 1 or more")
        if not 1 <= size <= MAX_PER_PAGE:
            problems.add(size_field, f"{size_field} must be between 1 and {MAX_PER_PAGE}")
        return cls(number, size)


@dataclass(frozen=True, slots=True)
class Page(Generic[Item]):
    """One page of the items matching a query, and how many match in all."""

    items: list[Item]
    request: PageRequest
    total_count: int

    @property
    def total_pages(self) -> int:
        """Pages that hold anything: none when nothing matches."""
        return -(-self.total_count // self.request.size)


@dataclass(frozen=True, slots=True)
class ActivityFilters:
    activity_type: Channel | None = None
    assigned_to_id: int | None = None
    status: ActivityStatus | None = None


@dataclass(frozen=True, slots=True)
class EventFilters:
    """``since <= occurred_at < until``; None leaves that end open."""

    event_type: Channel | None = None
    since: datetime | None = None
    until: datetime | None = None


@dataclass(frozen=True, slots=True)
class ActivityEntry:
    """An activity with what its SMS or call says: which way it went, the SMS's text (None for
    a call), and when its event occurred."""

    activity: Activity
    direction: Direction
    body: str | None
    occurred_at: datetime


@dataclass(frozen=True, slots=True)
class EventEntry:
    """An event with its PRTF category, derived as it is read."""

    row: EventRow
    category: PrtfCategory


def parse_choice(
    raw: str | None, choices: type[Choice], field: str, problems: Problems
) -> Choice | None:
    """One of ``choices`` by its value, or None when absent."""
    if raw is None:
        return None
    try:
        return choices(raw)
    except ValueError:
        names = [choice.value for choice in choices]
        listed = ", ".join(names[:-1]) + " or " + names[-1]
        problems.add(field, f"{field} must be {listed}")
        return None


@dataclass(frozen=True, slots=True)
class DayRange:
    """Calendar days, both ends inclusive; either end may be open."""

    first: date | None
    last: date | None

    @classmethod
    def parse(
        cls,
        start: str | None,
        end: str | None,
        problems: Problems,
        fields: tuple[str, str] = ("start_date", "end_date"),
    ) -> DayRange:
        found: dict[str, str] = {}
        first, last = parse_days(start, end, fields, found, required=False)
        for field, message in found.items():
            problems.add(field, message)
        return cls(first, last)

    def utc_bounds(self, zone: ZoneInfo) -> tuple[datetime | None, datetime | None]:
        """From the first day's first instant in ``zone`` up to (not including) the day after
        the last; days at the ends of the calendar clamp to the earliest or latest instant."""
        since = None if self.first is None else midnight_utc(self.first, zone)
        return since, None if self.last is None else day_after_utc(self.last, zone)
