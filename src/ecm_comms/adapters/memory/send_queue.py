from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime


@dataclass
class InMemorySendQueue:
    """Keeps what was queued, for tests to look at or to run by hand."""

    queued: list[tuple[list[int], datetime | None]] = field(default_factory=list)

    def enqueue(self, automated_sms_ids: Sequence[int], eta: datetime | None = None) -> None:
        self.queued.append((list(automated_sms_ids), eta))

    def backlog(self) -> int:
        return len(self.queued)

    def take(self) -> list[tuple[list[int], datetime | None]]:
        """Everything queued so far, in order; the queue is left empty."""
        taken, self.queued = self.queued, []
        return taken
