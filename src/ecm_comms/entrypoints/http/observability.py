"""Every request of the served app: an id (the caller's ``X-Request-Id``, or a new one) returned
on its response and written on its log lines, and its count and duration by route template."""

from __future__ import annotations

import re
import time
import uuid

from flask import Flask, Response, g, request

from ecm_comms.entrypoints.logs import REQUEST_ID_HEADER, ROUTE_ENVIRON_KEY, current_request_id
from ecm_comms.ports.metrics import ServiceMetrics

# A caller's id is kept if it is a plain token; anything else (too long, spaces, quotes, control
# characters that could forge a log line) is replaced by a new one.
_ACCEPTED_ID = re.compile(r"[A-Za-z0-9._:@/+=-]{1,128}")
UNMATCHED_ROUTE = "unmatched"  # a path no route serves: a 404 or a probe, never its path


def observe_requests(app: Flask, metrics: ServiceMetrics) -> None:
    @app.before_request
    def _begin() -> None:
        g.ecm_started = time.perf_counter()
        given = request.headers.get(REQUEST_ID_HEADER, "")
        request_id = given if _ACCEPTED_ID.fullmatch(given) else uuid.uuid4().hex
        g.ecm_request_id = request_id
        g.ecm_request_id_token = current_request_id.set(request_id)
        request.environ[ROUTE_ENVIRON_KEY] = route_of_request()

    @app.after_request
    def _end(response: Response) -> Response:
        request_id = g.get("ecm_request_id")
        if request_id is None:  # before_request did not run: nothing to tell
            return response
        response.headers[REQUEST_ID_HEADER] = request_id
        elapsed = time.perf_counter() - g.ecm_started
        metrics.request_served(route_of_request(), request.method, response.status_code, elapsed)
        return response

    @app.teardown_request
    def _forget(_error: BaseException | None) -> None:
        token = g.pop("ecm_request_id_token", None)
        if token is not None:
            current_request_id.reset(token)


def route_of_request() -> str:
    rule = request.url_rule
    return rule.rule if rule is not None else UNMATCHED_ROUTE
