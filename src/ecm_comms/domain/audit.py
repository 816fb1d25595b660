"""The audit of the record: every communication Twilio accepted (it has a sid, or it came in) and
that matched a patient has exactly one activity and one event; every event has its activity and
every activity its communication. Problems name ids only: never a number or a body."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from ecm_comms.domain.channels import Channel


class ProblemKind(StrEnum):
    ACTIVITIES = "activities"  # an accepted communication without exactly one activity
    EVENTS = "events"  # an activity without exactly one event
    EVENT_WITHOUT_ACTIVITY = "event_without_activity"
    ACTIVITY_WITHOUT_COMMUNICATION = "activity_without_communication"


@dataclass(frozen=True, slots=True)
class AuditProblem:
    """One broken link. ``found`` counts what there should be exactly one of (activities,
    events); ``channel`` and ``record_id`` name the SMS or call concerned, where there is one."""

    kind: ProblemKind
    channel: Channel | None = None
    record_id: int | None = None
    activity_id: int | None = None
    event_id: int | None = None
    found: int = 0

    @property
    def line(self) -> str:
        """The problem in words, naming ids only."""
        match self.kind:
            case ProblemKind.ACTIVITIES:
                return f"{self._record}: accepted, has {self.found} activities (expected 1)"
            case ProblemKind.EVENTS:
                return (
                    f"activity {self.activity_id} ({self._record}): "
                    f"has {self.found} events (expected 1)"
                )
            case ProblemKind.EVENT_WITHOUT_ACTIVITY:
                return f"event {self.event_id}: its activity {self.activity_id} does not exist"
            case ProblemKind.ACTIVITY_WITHOUT_COMMUNICATION:
                if self.record_id is None:
                    return f"activity {self.activity_id}: names no {self._channel}"
                return f"activity {self.activity_id}: its {self._record} does not exist"

    @property
    def _channel(self) -> str:
        return self.channel.value if self.channel else "communication"

    @property
    def _record(self) -> str:
        return f"{self._channel} {self.record_id}" if self.record_id is not None else "no record"


@dataclass(frozen=True, slots=True)
class AuditFindings:
    checked: int  # accepted communications matched to a patient
    problems: tuple[AuditProblem, ...]

    @property
    def summary(self) -> str:
        return f"checked {self.checked} communications: {len(self.problems)} problems"
