"""The clinic API and Twilio's webhooks over HTTP."""

from ecm_comms.entrypoints.http.app import create_app
from ecm_comms.entrypoints.http.extension import init_app

__all__ = ["create_app", "init_app"]
