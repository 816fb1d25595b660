"""Reading requests into the models of ``schemas``: path ids, JSON bodies, forms and query
strings. A request of the wrong shape is refused here, with one message per problem."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import Any, TypeVar

from flask import request
from pydantic import AliasChoices, BaseModel, ValidationError
from pydantic.fields import FieldInfo
from pydantic_core import ErrorDetails
from werkzeug.exceptions import BadRequest

from ecm_comms.domain.errors import CampaignNotFound, PatientNotFound, RecordNotFound
from ecm_comms.entrypoints.http.errors import RequestRefused
from ecm_comms.entrypoints.http.schemas.fields import (
    ID,
    NOT_A_POSITIVE_INTEGER,
    WRONG_SHAPE,
    present,
)

Model = TypeVar("Model", bound=BaseModel)

# What each kind of pydantic error says about the field it names.
_COMPLAINTS = {
    "missing": "is required",
    "model_type": "must be an object",
    "string_type": "must be a string",
    "string_pattern_mismatch": "is not one Twilio sends",
    NOT_A_POSITIVE_INTEGER: "must be a positive integer",
}


def patient_id_from_path(raw: str) -> int:
    if not ID.fullmatch(raw):
        raise PatientNotFound()
    return int(raw)


def record_id_from_path(raw: str) -> int:
    if not ID.fullmatch(raw):
        raise RecordNotFound()
    return int(raw)


def campaign_id_from_path(raw: str) -> int:
    if not ID.fullmatch(raw):
        raise CampaignNotFound()
    return int(raw)


def json_body(model: type[Model]) -> Model:
    """The body as ``model``: 400 unless it is a JSON object, 422 for a member of a wrong type."""
    try:
        payload = request.get_json(force=True)
    except (BadRequest, RecursionError) as error:  # deep nesting exhausts the parser's stack
        raise RequestRefused(400, ["Request body must be valid JSON"]) from error
    if not isinstance(payload, dict):
        raise RequestRefused(400, ["Request body must be a JSON object"])
    return _validated(model, payload, status=422)


def query(model: type[Model]) -> Model:
    """The query string as ``model``; an empty parameter counts as absent."""
    return _validated(model, present(request.args), status=422)


def twilio_form(model: type[Model]) -> Model:
    """Twilio's form as ``model``; 400 for the first field missing or not as Twilio sends it."""
    return _validated(model, present(request.form), status=400, first_only=True)


def _validated(
    model: type[Model], data: Mapping[str, Any], *, status: int, first_only: bool = False
) -> Model:
    try:
        return model.model_validate(data)
    except ValidationError as error:
        problems = error.errors(include_url=False, include_context=False)
        shown = problems[:1] if first_only else problems
        raise RequestRefused(status, [_message(model, problem) for problem in shown]) from None


def _message(model: type[BaseModel], problem: ErrorDetails) -> str:
    if problem["type"] == WRONG_SHAPE:
        return problem["msg"]
    complaint = _COMPLAINTS.get(problem["type"], "is invalid")
    if problem.get("input", "") is None:  # a JSON null where an object belongs
        complaint = _COMPLAINTS["missing"]
    return f"{_label(model, problem['loc'])} {complaint}"


def _label(model: type[BaseModel], location: tuple[int | str, ...]) -> str:
    """The name messages give the field at ``location``: its title, else the first name Twilio
    gives it, else its own name."""
    label = "Request body"
    current: type[BaseModel] | None = model
    for key in location:
        field = _fields_by_key(current).get(str(key)) if current is not None else None
        if field is None:
            return str(key)
        label = field.title or _first_name(field) or str(key)
        annotation = field.annotation
        nested = isinstance(annotation, type) and issubclass(annotation, BaseModel)
        current = annotation if nested and isinstance(annotation, type) else None
    return label


@cache
def _fields_by_key(model: type[BaseModel]) -> dict[str, FieldInfo]:
    """``model``'s fields under their names and every name they are read from."""
    keys: dict[str, FieldInfo] = {}
    for name, field in model.model_fields.items():
        keys[name] = field
        alias = field.validation_alias
        choices = alias.choices if isinstance(alias, AliasChoices) else [alias]
        keys.update({choice: field for choice in choices if isinstance(choice, str)})
    return keys


def _first_name(field: FieldInfo) -> str | None:
    alias = field.validation_alias
    if isinstance(alias, AliasChoices):
        first = alias.choices[0]
        return first if isinstance(first, str) else None
    return alias if isinstance(alias, str) else None
