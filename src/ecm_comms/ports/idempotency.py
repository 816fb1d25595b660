"""Where the HTTP layer keeps its Idempotency-Key uses (the replay rules live with it)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True, slots=True)
class StoredResponse:
    """The first answer given for a key, replayed to every repeat."""

    status: int
    body: str


@dataclass(frozen=True, slots=True)
class KeyUse:
    """A key as stored: who used it, for which request, since when, and the answer if done."""

    user_id: int
    key: str
    fingerprint: str  # a digest of the request: method, path and body
    started_at: datetime
    response: StoredResponse | None = None


class IdempotencyKeys(Protocol):
    """Each method is its own transaction, visible to other requests at once, so a concurrent
    repeat sees the first request in progress."""

    def claim(self, use: KeyUse) -> KeyUse | None:
        """Store ``use`` as in progress unless the user's key is taken: None if stored, else
        the use already stored. The database refuses the duplicate, not a prior read."""

    def take_over(self, stale: KeyUse, use: KeyUse) -> bool:
        """Replace ``stale`` (an expired use) with ``use``, unless another request did first;
        True if replaced."""

    def complete(self, user_id: int, key: str, response: StoredResponse) -> None: ...

    def release(self, user_id: int, key: str) -> None:
        """Forget an unfinished use, so that a retry runs (the request failed unexpectedly)."""

    def prune(self, older_than: datetime) -> int:
        """Forget uses started before ``older_than``; how many were forgotten."""
