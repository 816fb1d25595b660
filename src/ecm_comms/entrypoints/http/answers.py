"""A model as the JSON answer: serialized once, by pydantic, in the model's field order."""

from __future__ import annotations

from flask import Response
from pydantic import BaseModel


def answer(body: BaseModel, status: int = 200) -> Response:
    return Response(body.model_dump_json(by_alias=True), status=status, mimetype="application/json")
