"""Field types shared by the models: ids, timestamps, and the text and numbers Twilio posts."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import BeforeValidator, PlainSerializer, WithJsonSchema
from pydantic_core import PydanticCustomError

# Ids are 64-bit integers; anything else cannot name a patient or a record.
ID = re.compile(r"[0-9]{1,18}")
_MAX_INT = 2**31 - 1  # error codes and durations are 32-bit columns

NOT_A_POSITIVE_INTEGER = "positive_integer"
# A value of the wrong shape whose error's own message says what was expected, in full.
WRONG_SHAPE = "wrong_shape"


def timestamp(moment: datetime) -> str:
    """UTC with milliseconds: ``2024-11-27T10:00:00.000Z``."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def present(values: Mapping[str, str]) -> dict[str, str]:
    """The first value of each non-empty field: an empty field counts as absent, as Twilio's
    older field names are read when the newer one is empty."""
    return {name: value for name, value in values.items() if value}


def without_nul(value: Any) -> Any:
    """No record can hold a NUL character."""
    return value.replace("\x00", "") if isinstance(value, str) else value


def _text_or_none(value: Any) -> Any:
    return without_nul(value) or None


def _int_or_none(value: Any) -> int | None:
    """A number Twilio sent, if it is one; anything else is ignored, as Twilio adds fields."""
    if not isinstance(value, str) or not ID.fullmatch(value.strip()):
        return None
    number = int(value)
    return number if number <= _MAX_INT else None


def _id_or_none(value: Any) -> int | None:
    return int(value) if isinstance(value, str) and ID.fullmatch(value) else None


def _positive_integer(value: Any) -> int:
    if not isinstance(value, str) or not ID.fullmatch(value):
        raise PydanticCustomError(NOT_A_POSITIVE_INTEGER, "not a positive integer")
    return int(value)


Timestamp = Annotated[
    datetime,
    PlainSerializer(timestamp, return_type=str),
    WithJsonSchema(
        {
            "type": "string",
            "format": "date-time",
            "pattern": r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z$",
            "description": "UTC, ISO 8601 with milliseconds.",
            "examples": ["2024-11-27T10:00:00.000Z"],
        }
    ),
]
FORM_TEXT = {"type": "string"}
# A form field, without NUL characters.
Text = Annotated[str, BeforeValidator(without_nul)]
# An optional form field: absent, empty or only NULs is None.
OptionalText = Annotated[str | None, BeforeValidator(_text_or_none), WithJsonSchema(FORM_TEXT)]
# A number in a form; anything but an integer of at most 18 digits (and 32 bits) is None.
OptionalInt = Annotated[int | None, BeforeValidator(_int_or_none), WithJsonSchema(FORM_TEXT)]
# Our record's id in a query string; anything but an integer is None.
OptionalId = Annotated[
    int | None, BeforeValidator(_id_or_none), WithJsonSchema({"type": "integer", "format": "int64"})
]
# A query parameter that must be an integer of at most 18 digits if given.
PositiveInteger = Annotated[int, BeforeValidator(_positive_integer)]
