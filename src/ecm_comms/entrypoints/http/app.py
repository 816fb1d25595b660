"""The Flask app factories: the standalone service, and the worker's health endpoints."""

from __future__ import annotations

import logging

from flask import Flask

from ecm_comms.container import Container, create_container
from ecm_comms.entrypoints.http.errors import register_error_handlers
from ecm_comms.entrypoints.http.extension import init_app
from ecm_comms.entrypoints.http.health import health
from ecm_comms.entrypoints.http.observability import observe_requests
from ecm_comms.entrypoints.http.services import EXTENSION_KEY

log = logging.getLogger(__name__)

# Larger bodies are refused with 413 before any view reads them.
MAX_REQUEST_BYTES = 64 * 1024


def create_app(container: Container | None = None) -> Flask:
    """The service as a WSGI app; settings come from the environment unless a container is given."""
    container = container if container is not None else create_container()
    app = _operated_app(container)
    app.config["MAX_CONTENT_LENGTH"] = MAX_REQUEST_BYTES
    # A doubled slash would otherwise be redirected with an HTML body.
    app.url_map.merge_slashes = False
    init_app(app, container)
    settings = container.settings()
    log.info("ecm-comms: %s gateway (%s)", settings.gateway.value, settings.gateway_reason)
    return app


def create_health_app(container: Container) -> Flask:
    """``/healthz``, ``/readyz`` and ``/metrics`` alone: what a worker serves on its health port."""
    app = _operated_app(container)
    app.extensions[EXTENSION_KEY] = container
    app.register_blueprint(health)
    return app


def _operated_app(container: Container) -> Flask:
    """An app of our own process: JSON errors, and an id and metrics for every request."""
    app = Flask("ecm_comms", static_folder=None)  # an API: no static files to serve
    app.json.sort_keys = False  # type: ignore[attr-defined]  # keep the document's field order
    register_error_handlers(app)
    observe_requests(app, container.metrics())
    return app
