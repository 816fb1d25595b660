"""What a load balancer and a scraper ask: liveness, readiness, metrics. No token but the
metrics' own (ECM_METRICS_TOKEN), and no versions, hosts or credentials in any answer."""

from __future__ import annotations

import hmac

from flask import Blueprint, Response, jsonify, request

from ecm_comms.entrypoints.http.errors import RequestRefused, register_error_handlers
from ecm_comms.entrypoints.http.services import container

health = Blueprint("ecm_health", __name__)
register_error_handlers(health)

HEALTHZ = "/healthz"
READYZ = "/readyz"
METRICS = "/metrics"
METRICS_TOKEN_REQUIRED = "Metrics need the bearer token of ECM_METRICS_TOKEN"


@health.get(HEALTHZ)
def healthz() -> Response:
    """The process answers; nothing else is asked (a database outage is not a reason to restart
    it)."""
    return jsonify({"status": "ok"})


@health.get(READYZ)
def readyz() -> tuple[Response, int]:
    readiness = container().readiness().check()
    body = {
        "status": "ready" if readiness.ready else "not_ready",
        "checks": {
            "database": readiness.database.value,
            "migrations": readiness.migrations.value,
        },
    }
    return jsonify(body), 200 if readiness.ready else 503


@health.get(METRICS)
def metrics() -> Response:
    settings = container().settings()
    if not settings.metrics_enabled:
        raise RequestRefused(404, ["Not found"])
    token = settings.metrics_token
    if token is not None and not _bearer_matches(token):
        raise RequestRefused(
            401,
            [METRICS_TOKEN_REQUIRED],
            headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
        )
    text, content_type = container().metrics().exposition()
    return Response(text, content_type=content_type)


def _bearer_matches(token: str) -> bool:
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    given_token = given.strip().encode()
    return scheme.lower() == "bearer" and hmac.compare_digest(given_token, token.encode())
