"""The container serving the current Flask app."""

from __future__ import annotations

from typing import cast

from flask import current_app

from ecm_comms.container import Container

EXTENSION_KEY = "ecm_comms"


def container() -> Container:
    # A DeclarativeContainer's instances are DynamicContainers, hence the cast.
    return cast(Container, current_app.extensions[EXTENSION_KEY])
