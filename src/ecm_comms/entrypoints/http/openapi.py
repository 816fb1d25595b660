"""GET /openapi.json: the OpenAPI document, generated from the models and the operations."""

from __future__ import annotations

from functools import cache
from typing import Any

from flask import Blueprint
from pydantic.json_schema import models_json_schema

from ecm_comms.entrypoints.http import operations
from ecm_comms.entrypoints.http.errors import register_error_handlers
from ecm_comms.entrypoints.http.schemas.json_schema import DocumentSchema
from ecm_comms.entrypoints.http.services import mount_prefix

openapi = Blueprint("ecm_openapi", __name__)
register_error_handlers(openapi)


@cache
def document() -> dict[str, Any]:
    """Built once, on first use."""
    _, schemas = models_json_schema(
        [(model, "validation") for model in operations.REQUEST_MODELS]
        + [(model, "serialization") for model in operations.ANSWER_MODELS],
        ref_template="#/components/schemas/{model}",
        schema_generator=DocumentSchema,
    )
    return {
        "openapi": "3.1.0",
        "info": operations.INFO,
        "tags": operations.TAGS,
        "paths": operations.operations(),
        "components": {
            "schemas": schemas["$defs"],
            "responses": operations.SHARED_RESPONSES,
            "securitySchemes": operations.SECURITY_SCHEMES,
        },
    }


@openapi.get("/openapi.json")
def openapi_document() -> dict[str, Any]:
    # The cached document is shared: the host's mount prefix goes into a shallow copy.
    prefix = mount_prefix()
    if not prefix:
        return document()
    return document() | {"servers": [{"url": prefix}]}
