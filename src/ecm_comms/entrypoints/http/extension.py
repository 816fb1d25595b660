"""Attaching the service to a Flask app: ours from ``create_app``, or a host service's own."""

from __future__ import annotations

from flask import Flask

from ecm_comms.container import Container
from ecm_comms.entrypoints.http.communications import communications
from ecm_comms.entrypoints.http.services import EXTENSION_KEY

API_PREFIX = "/v1/clinic/ecm/communications"


def init_app(app: Flask, container: Container, *, url_prefix: str = "") -> None:
    """Register the blueprints on ``app``, served by ``container``'s use cases.

    ``url_prefix`` mounts the API below a path of the host's (``/comms/v1/clinic/...``).
    """
    app.extensions[EXTENSION_KEY] = container
    app.register_blueprint(communications, url_prefix=url_prefix + API_PREFIX)
