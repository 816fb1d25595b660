"""A campaign's body: text with ``{{name}}`` placeholders filled in per patient."""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass

from ecm_comms.domain.errors import ValidationError

# What every campaign may use; its own variables add to these.
STANDARD_PLACEHOLDERS = (
    "first_name",
    "last_name",
    "clinic_name",
    "clinic_phone",
    "coordinator_name",
)
_PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
_VARIABLE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class MissingValue(Exception):
    """A patient has no value for a placeholder the body uses."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


@dataclass(frozen=True, slots=True)
class Template:
    text: str

    @property
    def placeholders(self) -> tuple[str, ...]:
        """The names used, each once, in order of first use."""
        return tuple(dict.fromkeys(m.group(1) for m in _PLACEHOLDER.finditer(self.text)))

    def unknown_placeholders(self, variables: Collection[str]) -> list[str]:
        """The names that are neither standard nor among the campaign's ``variables``."""
        known = set(STANDARD_PLACEHOLDERS) | set(variables)
        return [name for name in self.placeholders if name not in known]

    def render(self, values: Mapping[str, str | None]) -> str:
        """The text with every placeholder replaced; ``MissingValue`` for the first one without
        a value (absent, None or blank)."""
        for name in self.placeholders:
            value = values.get(name)
            if value is None or not value.strip():
                raise MissingValue(name)
        return _PLACEHOLDER.sub(lambda m: str(values[m.group(1)]), self.text)


def check_variable_name(name: str) -> str:
    if not _VARIABLE_NAME.fullmatch(name) or name in STANDARD_PLACEHOLDERS:
        raise ValidationError(
            f"Variable names must be letters, digits and _ and not a standard placeholder: {name}"
        )
    return name
