from __future__ import annotations

from datetime import datetime
from typing import Protocol

from ecm_comms.domain.idempotency import IdempotencyKey, KeyUse, StoredResponse


class IdempotencyKeys(Protocol):
    """Where key uses are kept; each method is its own transaction, visible to other requests
    at once, so a concurrent repeat sees the first request in progress."""

    def claim(self, use: KeyUse) -> KeyUse | None:
        """Store ``use`` as in progress unless the user's key is taken: None if stored, else
        the use already stored. The database refuses the duplicate, not a prior read."""

    def take_over(self, stale: KeyUse, use: KeyUse) -> bool:
        """Replace ``stale`` (an expired use) with ``use``, unless another request did first;
        True if replaced."""

    def complete(self, user_id: int, key: IdempotencyKey, response: StoredResponse) -> None: ...

    def release(self, user_id: int, key: IdempotencyKey) -> None:
        """Forget an unfinished use, so that a retry runs (the request failed unexpectedly)."""

    def prune(self, older_than: datetime) -> int:
        """Forget uses started before ``older_than``; how many were forgotten."""
