"""GET /openapi.json: the OpenAPI document of every endpoint the service serves."""

from __future__ import annotations

import json
from functools import cache
from importlib.resources import files
from typing import Any

from flask import Blueprint

from ecm_comms.entrypoints.http.errors import register_error_handlers
from ecm_comms.entrypoints.http.services import mount_prefix

PACKAGE = "ecm_comms.entrypoints.http"
DOCUMENT = "openapi.json"

openapi = Blueprint("ecm_openapi", __name__)
register_error_handlers(openapi)


@cache
def document() -> dict[str, Any]:
    """The document shipped beside this module, read once, on first use."""
    text = files(PACKAGE).joinpath(DOCUMENT).read_text(encoding="utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded


@openapi.get("/openapi.json")
def openapi_document() -> dict[str, Any]:
    # The cached document is shared: the host's mount prefix goes into a shallow copy.
    prefix = mount_prefix()
    if not prefix:
        return document()
    return document() | {"servers": [{"url": prefix}]}
