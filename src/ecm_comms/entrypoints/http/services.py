"""The container serving the current Flask app."""

from __future__ import annotations

from typing import cast

from flask import current_app

from ecm_comms.container import Container

EXTENSION_KEY = "ecm_comms"
MOUNT_PREFIX_KEY = "ecm_comms.url_prefix"


def mount_prefix() -> str:
    """The path below which a host app mounted the service ("" for the standalone service)."""
    return str(current_app.extensions.get(MOUNT_PREFIX_KEY, ""))


def container() -> Container:
    # A DeclarativeContainer's instances are DynamicContainers, hence the cast.
    return cast(Container, current_app.extensions[EXTENSION_KEY])
