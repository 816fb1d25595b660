"""Reading request bodies and path parameters into plain values; shape errors only."""

from __future__ import annotations

import re
from typing import Any

from flask import request
from werkzeug.exceptions import BadRequest

from ecm_comms.domain.errors import PatientNotFound, RecordNotFound
from ecm_comms.entrypoints.http.errors import RequestRefused

# Ids are 64-bit integers; anything else cannot name a patient or a record.
ID = re.compile(r"[0-9]{1,18}")


def patient_id_from_path(raw: str) -> int:
    if not ID.fullmatch(raw):
        raise PatientNotFound()
    return int(raw)


def record_id_from_path(raw: str) -> int:
    if not ID.fullmatch(raw):
        raise RecordNotFound()
    return int(raw)


def optional_int_argument(name: str) -> int | None:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return None
    if not ID.fullmatch(raw):
        raise RequestRefused(422, [f"{name} must be a positive integer"])
    return int(raw)


def json_object() -> dict[str, Any]:
    try:
        payload = request.get_json(force=True)
    except (BadRequest, RecursionError) as error:  # deep nesting exhausts the parser's stack
        raise RequestRefused(400, ["Request body must be valid JSON"]) from error
    if not isinstance(payload, dict):
        raise RequestRefused(400, ["Request body must be a JSON object"])
    return payload


def member_object(payload: dict[str, Any], name: str) -> dict[str, Any]:
    """``payload[name]``, which must be an object (``{"sms": {...}}``)."""
    member = payload.get(name)
    if member is None:
        raise RequestRefused(422, [f'"{name}" is required'])
    if not isinstance(member, dict):
        raise RequestRefused(422, [f'"{name}" must be an object'])
    return member


def optional_strings(member: dict[str, Any], fields: dict[str, str]) -> dict[str, str | None]:
    """The named fields as strings or None; ``fields`` maps each key to its label in messages."""
    problems = [
        f"{label} must be a string"
        for key, label in fields.items()
        if member.get(key) is not None and not isinstance(member[key], str)
    ]
    if problems:
        raise RequestRefused(422, problems)
    return {key: member.get(key) for key in fields}
