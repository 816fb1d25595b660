"""``Idempotency-Key`` on the POST endpoints: a repeat gets the first answer, and sends nothing."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

from flask import Response, current_app, request

from ecm_comms.domain.commands import (
    BeginIdempotentRequest,
    FinishIdempotentRequest,
    ReleaseIdempotentRequest,
)
from ecm_comms.entrypoints.http.auth import current_user
from ecm_comms.entrypoints.http.services import container

KEY_HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"

View = TypeVar("View", bound=Callable[..., Any])


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


# Answers that promise nothing happened, kept from no one: a retry with the key runs afresh.
# A 502 is kept: the provider may have sent it, and a retry must not send it again.
_NOT_KEPT = {500, 503}


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
        replay = container().begin_idempotent_request()(
            BeginIdempotentRequest(user.id, key, request_fingerprint())
        )
        if replay is not None:
            response = Response(replay.body, status=replay.status, mimetype="application/json")
            response.headers[REPLAYED_HEADER] = "true"
            return response
        try:
            response = _answer(view, arguments)
        except Exception:
            container().release_idempotent_request()(ReleaseIdempotentRequest(user.id, key))
            raise
        if response.status_code in _NOT_KEPT:
            container().release_idempotent_request()(ReleaseIdempotentRequest(user.id, key))
        else:
            container().finish_idempotent_request()(
                FinishIdempotentRequest(
                    user.id, key, response.status_code, response.get_data(as_text=True)
                )
            )
        return response

    return cast(View, run_once)
