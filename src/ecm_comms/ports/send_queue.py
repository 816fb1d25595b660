"""The queue the workers take automated SMS from (a task-queue engine in production)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol


class SendQueue(Protocol):
    def enqueue(self, automated_sms_ids: Sequence[int], eta: datetime | None = None) -> None:
        """Have a worker send these at ``eta`` (None: now). Queuing one twice is harmless: the
        worker sends an automated SMS only while it is scheduled and due."""

    def backlog(self) -> int:
        """How many batches wait on the queue, due or not."""
