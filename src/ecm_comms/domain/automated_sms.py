"""Automated SMS: a scheduled SMS, or one campaign recipient's. Each is tracked from scheduling
to its outcome, which the worker decides when it is about to send."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from ecm_comms.domain.clinics import DEFAULT_TIMEZONE, Clinic
from ecm_comms.domain.errors import ValidationError
from ecm_comms.domain.people import Patient

# A transient failure (429, 503, no connection) is tried again after these delays, so that at
# most five attempts fall within half an hour; then the SMS fails with the provider's words.
RETRY_DELAYS = (
    timedelta(seconds=30),
    timedelta(minutes=2),
    timedelta(minutes=5),
    timedelta(minutes=10),
)
MAX_ATTEMPTS = len(RETRY_DELAYS) + 1
MAX_SCHEDULE_AHEAD = timedelta(days=90)

SEND_AT_FORMAT = (
    "send_at must be an ISO 8601 date and time with a time zone, e.g. 2026-12-04T17:00:00Z"
)
SEND_AT_PAST = "send_at must be in the future"
SEND_AT_TOO_FAR = "send_at must be within 90 days"


class Outcome(StrEnum):
    """Where an automated SMS stands; every one is in exactly one of these."""

    SCHEDULED = "scheduled"  # not handed to the provider yet: its time, its window, the worker
    SENT = "sent"  # handed to the provider, whatever its delivery status is now
    SKIPPED = "skipped"  # the sending rules did not let it out
    FAILED = "failed"  # refused by the provider, or out of retries
    CANCELED = "canceled"


class SkipReason(StrEnum):
    NO_PHONE_NUMBER = "no_phone_number"
    OPTED_OUT = "opted_out"
    FREQUENCY_CAP = "frequency_cap"
    BODY_TOO_LONG = "body_too_long"


MISSING_VALUE = "missing_value"


def missing_value(name: str) -> str:
    """The skip reason of a recipient without a value for the placeholder ``name``."""
    return f"{MISSING_VALUE}:{name}"


def reason_kind(reason: str) -> str:
    """A skip reason without the placeholder it may name: one of a few, whatever the template."""
    return reason.partition(":")[0]


def parse_send_at(raw: str, now: datetime) -> datetime:
    """A moment in the next 90 days, given with its zone (a bare local time is ambiguous)."""
    try:
        at = datetime.fromisoformat(raw.strip().replace("z", "Z"))
    except ValueError as error:
        raise ValidationError(SEND_AT_FORMAT) from error
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValidationError(SEND_AT_FORMAT)
    if at <= now:
        raise ValidationError(SEND_AT_PAST)
    if at > now + MAX_SCHEDULE_AHEAD:
        raise ValidationError(SEND_AT_TOO_FAR)
    return at.astimezone(now.tzinfo)


def patient_zone(patient: Patient | None, clinic: Clinic | None) -> ZoneInfo:
    """The patient's own time zone, else their clinic's, else California's."""
    own = patient.timezone if patient else None
    return ZoneInfo(own or (clinic.timezone if clinic else DEFAULT_TIMEZONE))


@dataclass(kw_only=True, eq=False)
class AutomatedSms:
    """One automated SMS to one patient. ``sms_id`` is None when no SMS could be written (no
    phone number, a missing template value): such a recipient is skipped from the start."""

    clinic_id: int
    patient_id: int
    sms_id: int | None
    campaign_id: int | None = None
    outcome: Outcome = Outcome.SCHEDULED
    skip_reason: str | None = None
    due_at: datetime  # when a worker should next look at it
    attempts: int = 0  # times handed to the provider
    handed_at: datetime | None = None
    dispatched_at: datetime | None = None  # when the queue should hand it to a worker
    id: int | None = None

    @property
    def is_scheduled(self) -> bool:
        return self.outcome is Outcome.SCHEDULED

    def hand_over(self, at: datetime) -> None:
        """About to be handed to the provider: from here on it may have been sent."""
        self.outcome = Outcome.SENT
        self.handed_at = at
        self.attempts += 1

    def retry_later(self, at: datetime) -> datetime | None:
        """After a failure that promises nothing was sent: scheduled again, and when; None if
        it has had all its attempts (then it fails)."""
        if self.attempts >= MAX_ATTEMPTS:
            self.outcome = Outcome.FAILED
            return None
        self.outcome = Outcome.SCHEDULED
        self.handed_at = None
        self.wait_until(at + RETRY_DELAYS[self.attempts - 1])
        return self.due_at

    def fail(self) -> None:
        self.outcome = Outcome.FAILED

    def skip(self, reason: str) -> None:
        self.outcome = Outcome.SKIPPED
        self.skip_reason = reason

    def cancel(self) -> None:
        self.outcome = Outcome.CANCELED

    def wait_until(self, at: datetime) -> None:
        """Not before ``at``, and put on the queue for then: ``dispatched_at`` is when the queue
        should hand it to a worker. Still scheduled well after that, it was lost (its worker
        died, or the process died before queuing it) and the sweep queues it again."""
        self.due_at = at
        self.dispatched_at = at
