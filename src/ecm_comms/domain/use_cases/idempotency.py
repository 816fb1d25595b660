"""Replaying the first answer to a repeated request, so that a retry never sends twice."""

from __future__ import annotations

from ecm_comms.domain.commands import (
    BeginIdempotentRequest,
    FinishIdempotentRequest,
    ReleaseIdempotentRequest,
)
from ecm_comms.domain.errors import IdempotencyKeyReused, RequestAbandoned, RequestInProgress
from ecm_comms.domain.idempotency import KEY_LIFETIME, IdempotencyKey, KeyUse, StoredResponse
from ecm_comms.ports.clock import Clock
from ecm_comms.ports.idempotency import IdempotencyKeys


class BeginIdempotentRequestHandler:
    """None: go ahead, the key is this request's now. A ``StoredResponse``: answer with it.

    The same key for a different request is refused; a repeat while the first is still running
    is refused as in progress (the client retries and then gets the replay). A first request
    that never finished keeps its key: it may have reached the provider, and running it again
    could text the patient twice, so the client is told to look before sending anew.
    """

    def __init__(self, keys: IdempotencyKeys, clock: Clock) -> None:
        self._keys = keys
        self._clock = clock

    def __call__(self, command: BeginIdempotentRequest) -> StoredResponse | None:
        use = KeyUse(
            user_id=command.user_id,
            key=IdempotencyKey.parse(command.key),
            fingerprint=command.fingerprint,
            started_at=self._clock.now(),
        )
        stored = self._keys.claim(use)
        if stored is None:
            return None
        if stored.expired(use.started_at):
            if self._keys.take_over(stored, use):
                return None
            raise RequestInProgress()
        if stored.fingerprint != use.fingerprint:
            raise IdempotencyKeyReused()
        if stored.abandoned(use.started_at):
            raise RequestAbandoned()
        if stored.response is None:
            raise RequestInProgress()
        return stored.response


class FinishIdempotentRequestHandler:
    def __init__(self, keys: IdempotencyKeys) -> None:
        self._keys = keys

    def __call__(self, command: FinishIdempotentRequest) -> None:
        self._keys.complete(
            command.user_id,
            IdempotencyKey.parse(command.key),
            StoredResponse(command.status, command.body),
        )


class ReleaseIdempotentRequestHandler:
    """Forget an unfinished request's key: it ended in a way no retry should be held to."""

    def __init__(self, keys: IdempotencyKeys) -> None:
        self._keys = keys

    def __call__(self, command: ReleaseIdempotentRequest) -> None:
        self._keys.release(command.user_id, IdempotencyKey.parse(command.key))


class PruneIdempotencyKeysHandler:
    """Forget keys past their lifetime; run it daily (``ecm-comms idempotency prune``)."""

    def __init__(self, keys: IdempotencyKeys, clock: Clock) -> None:
        self._keys = keys
        self._clock = clock

    def __call__(self) -> int:
        return self._keys.prune(self._clock.now() - KEY_LIFETIME)
