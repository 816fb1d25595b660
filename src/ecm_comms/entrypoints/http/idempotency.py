"""``Idempotency-Key`` on the POST endpoints: a repeat gets the first answer, and sends nothing.

An HTTP concern: the keys are kept behind the ``IdempotencyKeys`` port, the rules live here.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import timedelta
from functools import wraps
from typing import Any, TypeVar, cast

from flask import Response, current_app, request

from ecm_comms.entrypoints.http.auth import current_user
from ecm_comms.entrypoints.http.errors import RequestRefused
from ecm_comms.entrypoints.http.services import container
from ecm_comms.ports.clock import Clock
from ecm_comms.ports.idempotency import IdempotencyKeys, KeyUse, StoredResponse

KEY_HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
MAX_KEY_LENGTH = 255
# How long a key is remembered: a client retrying later than this is making a new request.
KEY_LIFETIME = timedelta(hours=24)
# A request still unfinished after this died with its process (requests are bounded by 30 s).
ABANDONED_AFTER = timedelta(minutes=2)
# Answers that promise nothing happened, kept from no one: a retry with the key runs afresh.
# A 502 is kept: the provider may have sent it, and a retry must not send it again.
_NOT_KEPT = {500, 503}


class InvalidIdempotencyKey(RequestRefused):
    def __init__(self) -> None:
        super().__init__(
            422, [f"{KEY_HEADER} must be 1 to {MAX_KEY_LENGTH} printable ASCII characters"]
        )


class IdempotencyKeyReused(RequestRefused):
    def __init__(self) -> None:
        super().__init__(422, [f"{KEY_HEADER} was already used for a different request"])


class RequestInProgress(RequestRefused):
    def __init__(self) -> None:
        super().__init__(
            409, [f"A request with this {KEY_HEADER} is still in progress; retry it shortly"]
        )


class RequestAbandoned(RequestRefused):
    """The first request with this key never finished (its process died): it may have sent."""

    def __init__(self) -> None:
        super().__init__(
            409,
            [
                f"The request with this {KEY_HEADER} did not finish and may have been sent; "
                "check the patient's communications before sending again with a new key"
            ],
        )


def parse_key(raw: str) -> str:
    if not 0 < len(raw) <= MAX_KEY_LENGTH or not raw.isascii() or not raw.isprintable():
        raise InvalidIdempotencyKey()
    return raw


class IdempotentRequests:
    """The replay rules over the kept key uses.

    ``begin`` answers None (go ahead: the key is this request's now) or the ``StoredResponse``
    to replay. The same key for a different request is refused; a repeat while the first is
    still running is refused as in progress (the client retries and then gets the replay). A
    first request that never finished keeps its key: it may have reached the provider, and
    running it again could text the patient twice, so the client is told to look first.
    """

    def __init__(self, keys: IdempotencyKeys, clock: Clock) -> None:
        self._keys = keys
        self._clock = clock

    def begin(self, user_id: int, key: str, fingerprint: str) -> StoredResponse | None:
        use = KeyUse(user_id, parse_key(key), fingerprint, self._clock.now())
        stored = self._keys.claim(use)
        if stored is None:
            return None
        if stored.started_at <= use.started_at - KEY_LIFETIME:  # expired: a new request
            if self._keys.take_over(stored, use):
                return None
            raise RequestInProgress()
        if stored.fingerprint != use.fingerprint:
            raise IdempotencyKeyReused()
        if stored.response is None:
            if stored.started_at <= use.started_at - ABANDONED_AFTER:
                raise RequestAbandoned()
            raise RequestInProgress()
        return stored.response

    def finish(self, user_id: int, key: str, response: StoredResponse) -> None:
        self._keys.complete(user_id, parse_key(key), response)

    def release(self, user_id: int, key: str) -> None:
        """Forget an unfinished request's key: it ended in a way no retry should be held to."""
        self._keys.release(user_id, parse_key(key))

    def prune(self) -> int:
        """Forget keys past their lifetime; run it daily (``ecm-comms idempotency prune``)."""
        return self._keys.prune(self._clock.now() - KEY_LIFETIME)


def idempotent_requests() -> IdempotentRequests:
    return IdempotentRequests(container().idempotency_keys(), container().clock())


def request_fingerprint() -> str:
    """The request as far as sameness goes: method, path and body (JSON compared as data, so
    spacing and key order do not make two requests different)."""
    raw = request.get_data(cache=True)
    try:
        body = json.dumps(json.loads(raw), sort_keys=True, separators=(",", ":")).encode()
    except (ValueError, RecursionError):
        body = raw
    parts = [request.method.encode(), request.path.encode(), body]
    return hashlib.sha256(b"\n".join(parts)).hexdigest()


View = TypeVar("View", bound=Callable[..., Any])


def _answer(view: Callable[..., Any], arguments: dict[str, Any]) -> Response:
    """The view's answer, errors included, as the error handlers would give it."""
    try:
        return current_app.make_response(view(**arguments))
    except Exception as error:
        return current_app.make_response(current_app.handle_user_exception(error))


def idempotent(view: View) -> View:
    """Run ``view`` once per user and key; repeats replay its answer, errors included."""

    @wraps(view)
    def run_once(**arguments: Any) -> Response:
        key = request.headers.get(KEY_HEADER)
        if key is None:
            return current_app.make_response(view(**arguments))
        user = current_user()
        requests = idempotent_requests()
        replay = requests.begin(user.id, key, request_fingerprint())
        if replay is not None:
            response = Response(replay.body, status=replay.status, mimetype="application/json")
            response.headers[REPLAYED_HEADER] = "true"
            return response
        try:
            response = _answer(view, arguments)
        except Exception:
            requests.release(user.id, key)
            raise
        if response.status_code in _NOT_KEPT:
            requests.release(user.id, key)
        else:
            requests.finish(
                user.id, key, StoredResponse(response.status_code, response.get_data(as_text=True))
            )
        return response

    return cast(View, run_once)
