"""Idempotency keys: a client may repeat a POST without the patient hearing from us twice."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from ecm_comms.domain.errors import InvalidInput

# How long a key is remembered: a client retrying later than this is making a new request.
KEY_LIFETIME = timedelta(hours=24)
# A request still unfinished after this died with its process (requests are bounded by 30 s).
ABANDONED_AFTER = timedelta(minutes=2)
MAX_KEY_LENGTH = 255


@dataclass(frozen=True, slots=True)
class IdempotencyKey:
    value: str

    @classmethod
    def parse(cls, raw: str) -> IdempotencyKey:
        if not 0 < len(raw) <= MAX_KEY_LENGTH or not raw.isascii() or not raw.isprintable():
            raise InvalidInput(
                [f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} printable ASCII characters"]
            )
        return cls(raw)


@dataclass(frozen=True, slots=True)
class StoredResponse:
    """The first answer given for a key, replayed to every repeat."""

    status: int
    body: str


@dataclass(frozen=True, slots=True)
class KeyUse:
    """A key as stored: who used it, for which request, since when, and the answer if done."""

    user_id: int
    key: IdempotencyKey
    fingerprint: str  # a digest of the request: method, path and body
    started_at: datetime
    response: StoredResponse | None = None

    def expired(self, now: datetime) -> bool:
        return self.started_at <= now - KEY_LIFETIME

    def abandoned(self, now: datetime) -> bool:
        return self.response is None and self.started_at <= now - ABANDONED_AFTER
