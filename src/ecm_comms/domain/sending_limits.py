"""The limits every automated SMS obeys: the TCPA's healthcare exemption lets a provider text
patients automatically only in the daytime and only so often. Checked when the worker is about
to send, not when the SMS is scheduled."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from ecm_comms.domain.errors import ValidationError

# The exemption's hours in the patient's time zone; a clinic may only narrow them.
EARLIEST = time(8, 0)
LATEST = time(21, 0)
# The exemption's frequency: a clinic may set its own caps.
DEFAULT_DAILY_CAP = 1
DEFAULT_WEEKLY_CAP = 3
WEEK_DAYS = 7

INVALID_SEND_WINDOW = "Send window must be HH:MM-HH:MM within 08:00-21:00, the start before the end"
INVALID_DAILY_CAP = "Daily cap must be a whole number of at least 1"
INVALID_WEEKLY_CAP = "Weekly cap must be a whole number of at least 1, and not below the daily cap"


@dataclass(frozen=True, slots=True)
class SendWindow:
    """The hours, in the patient's time zone, when an automated SMS may go out."""

    start: time = EARLIEST
    end: time = LATEST

    @classmethod
    def parse(cls, raw: str) -> SendWindow:
        try:
            first, last = (time.fromisoformat(part.strip()) for part in raw.split("-"))
        except ValueError as error:
            raise ValidationError(INVALID_SEND_WINDOW) from error
        if first.second or last.second or first.microsecond or last.microsecond:
            raise ValidationError(INVALID_SEND_WINDOW)
        if not EARLIEST <= first < last <= LATEST:
            raise ValidationError(INVALID_SEND_WINDOW)
        return cls(first, last)

    def __str__(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M}"

    def is_open(self, at: datetime, zone: ZoneInfo) -> bool:
        local = at.astimezone(zone).time()
        return self.start <= local < self.end

    def next_opening(self, at: datetime, zone: ZoneInfo) -> datetime:
        """The first moment at or after ``at`` when the window is open (``at`` itself if open)."""
        if self.is_open(at, zone):
            return at
        local = at.astimezone(zone)
        day = local.date() if local.time() < self.start else local.date() + timedelta(days=1)
        # Through the wall clock: a daylight-saving change moves the instant, not the hour.
        return datetime.combine(day, self.start, zone).astimezone(at.tzinfo)


@dataclass(frozen=True, slots=True)
class FrequencyCaps:
    """At most ``daily`` automated SMS per patient per calendar day and ``weekly`` in the seven
    calendar days ending that day, in the patient's time zone."""

    daily: int = DEFAULT_DAILY_CAP
    weekly: int = DEFAULT_WEEKLY_CAP

    @classmethod
    def of(cls, daily: int | None, weekly: int | None) -> FrequencyCaps:
        """The caps with either left at its default; refused if below 1 or weekly < daily."""
        caps = cls(
            DEFAULT_DAILY_CAP if daily is None else daily,
            DEFAULT_WEEKLY_CAP if weekly is None else weekly,
        )
        if caps.daily < 1:
            raise ValidationError(INVALID_DAILY_CAP)
        if caps.weekly < 1 or caps.weekly < caps.daily:
            raise ValidationError(INVALID_WEEKLY_CAP)
        return caps

    def week_start(self, at: datetime, zone: ZoneInfo) -> datetime:
        """The start (local midnight) of the seven calendar days ending on ``at``'s day."""
        first_day = at.astimezone(zone).date() - timedelta(days=WEEK_DAYS - 1)
        return datetime.combine(first_day, time(0), zone)

    def allows(self, at: datetime, zone: ZoneInfo, sent: list[datetime]) -> bool:
        """Whether one more may go out at ``at``, given when the patient's earlier automated SMS
        went out (those since ``week_start`` at least)."""
        today = at.astimezone(zone).date()
        first_day = today - timedelta(days=WEEK_DAYS - 1)
        days: list[date] = [when.astimezone(zone).date() for when in sent]
        this_week = [day for day in days if first_day <= day <= today]
        return (
            sum(1 for day in this_week if day == today) < self.daily
            and len(this_week) < self.weekly
        )
