"""Attaching the service to a Flask app: ours from ``create_app``, or a host service's own."""

from __future__ import annotations

import logging

from flask import Flask

from ecm_comms.container import Container
from ecm_comms.entrypoints.http.campaigns import campaigns
from ecm_comms.entrypoints.http.communications import communications
from ecm_comms.entrypoints.http.consent import consent
from ecm_comms.entrypoints.http.ecm_records import ecm_records
from ecm_comms.entrypoints.http.health import health
from ecm_comms.entrypoints.http.history import history
from ecm_comms.entrypoints.http.openapi import openapi
from ecm_comms.entrypoints.http.outreach_attempts import outreach_attempts
from ecm_comms.entrypoints.http.paths import ADMIN_PREFIX, API_PREFIX, ECM_PREFIX
from ecm_comms.entrypoints.http.prtf_reports import prtf_reports
from ecm_comms.entrypoints.http.services import EXTENSION_KEY, MOUNT_PREFIX_KEY
from ecm_comms.entrypoints.http.webhooks import webhooks
from ecm_comms.webhook_routes import WEBHOOK_PREFIX

log = logging.getLogger(__name__)


def init_app(app: Flask, container: Container, *, url_prefix: str = "") -> None:
    """Register the blueprints on ``app``, served by ``container``'s use cases.

    ``url_prefix`` mounts everything below a path of the host's (``/comms/v1/clinic/...``);
    ECM_PUBLIC_BASE_URL must then end with that prefix for Twilio's callbacks to find it.
    """
    app.extensions[EXTENSION_KEY] = container
    app.extensions[MOUNT_PREFIX_KEY] = url_prefix
    app.register_blueprint(communications, url_prefix=url_prefix + API_PREFIX)
    app.register_blueprint(history, url_prefix=url_prefix + API_PREFIX)
    app.register_blueprint(consent, url_prefix=url_prefix + API_PREFIX)
    app.register_blueprint(campaigns, url_prefix=url_prefix + API_PREFIX)
    app.register_blueprint(ecm_records, url_prefix=url_prefix + ECM_PREFIX)
    app.register_blueprint(outreach_attempts, url_prefix=url_prefix + ADMIN_PREFIX)
    app.register_blueprint(prtf_reports, url_prefix=url_prefix + ADMIN_PREFIX)
    app.register_blueprint(webhooks, url_prefix=url_prefix + WEBHOOK_PREFIX)
    app.register_blueprint(openapi, url_prefix=url_prefix)
    app.register_blueprint(health, url_prefix=url_prefix)
    _say_how_webhooks_are_guarded(container)


def _say_how_webhooks_are_guarded(container: Container) -> None:
    settings = container.settings()
    if settings.skip_webhook_signatures:
        log.warning(
            "!!! TWILIO SIGNATURE VALIDATION IS OFF (ECM_INSECURE_SKIP_TWILIO_SIGNATURES): anyone "
            "can post to the webhooks. Never run like this outside development. !!!"
        )
    elif not settings.twilio.auth_token:
        log.warning("Twilio webhooks will be refused (403): TWILIO_AUTH_TOKEN is not set")
