"""Clinics and their Twilio numbers, as the operator registers them."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from ecm_comms.domain.clinics import (
    DEFAULT_TIMEZONE,
    Clinic,
    ClinicNumber,
    Npi,
    parse_messaging_service_sid,
    parse_timezone,
)
from ecm_comms.domain.commands import AddClinicNumber, RemoveClinicNumber, UpsertClinic
from ecm_comms.domain.errors import InvalidInput, UnknownClinic, ValidationError
from ecm_comms.domain.phone_numbers import PhoneNumber
from ecm_comms.domain.sending_limits import INVALID_DAILY_CAP, FrequencyCaps, SendWindow
from ecm_comms.ports.clinics import ClinicRegistry

T = TypeVar("T")


class UpsertClinicHandler:
    def __init__(self, clinics: ClinicRegistry, default_region: str = "US") -> None:
        self._clinics = clinics
        self._region = default_region

    def __call__(self, command: UpsertClinic) -> Clinic:
        problems: dict[str, str] = {}
        clinic = Clinic(
            id=command.clinic_id,
            name=command.name.strip(),
            npi=_checked(problems, "npi", command.npi, Npi.parse),
            phone=_checked(problems, "phone", command.phone_number, self._phone),
            timezone=_checked(problems, "timezone", command.timezone, parse_timezone)
            or DEFAULT_TIMEZONE,
            send_window=_checked(problems, "send_window", command.send_window, SendWindow.parse)
            or SendWindow(),
            caps=_caps(problems, command.daily_cap, command.weekly_cap),
        )
        if not clinic.name:
            problems["name"] = "Name is required"
        if problems:
            raise InvalidInput.of_fields(problems)
        self._clinics.upsert(clinic)
        return clinic

    def _phone(self, raw: str) -> PhoneNumber:
        return PhoneNumber.parse(raw, self._region)


class AddClinicNumberHandler:
    """A Twilio number for a clinic: the first it gets is its sending number, unless another is
    marked default."""

    def __init__(self, clinics: ClinicRegistry, default_region: str = "US") -> None:
        self._clinics = clinics
        self._region = default_region

    def __call__(self, command: AddClinicNumber) -> ClinicNumber:
        problems: dict[str, str] = {}
        number = None
        try:
            number = PhoneNumber.parse(command.number, self._region)
        except ValidationError as problem:
            problems["number"] = problem.message
        service = _checked(
            problems,
            "messaging_service_sid",
            command.messaging_service_sid,
            parse_messaging_service_sid,
        )
        if problems or number is None:
            raise InvalidInput.of_fields(problems)
        added = ClinicNumber(number, command.clinic_id, service, command.default)
        self._clinics.add_number(added)
        return added


class RemoveClinicNumberHandler:
    def __init__(self, clinics: ClinicRegistry, default_region: str = "US") -> None:
        self._clinics = clinics
        self._region = default_region

    def __call__(self, command: RemoveClinicNumber) -> PhoneNumber:
        try:
            number = PhoneNumber.parse(command.number, self._region)
        except ValidationError as problem:
            raise InvalidInput([problem.message], ["number"]) from problem
        if not self._clinics.remove_number(number):
            raise UnknownClinic([f"No clinic holds the number ending {number.e164[-4:]}"])
        return number


def _caps(problems: dict[str, str], daily: int | None, weekly: int | None) -> FrequencyCaps:
    """The caps given (either may be left at its default); a problem is noted under the field
    of the cap at fault."""
    try:
        return FrequencyCaps.of(daily, weekly)
    except ValidationError as problem:
        if problem.message != INVALID_DAILY_CAP:
            problems["weekly_cap"] = problem.message
            return FrequencyCaps()
        problems["daily_cap"] = problem.message
        # The weekly cap may be wrong as well, on its own: reported together.
        return _caps(problems, None, weekly)


def _checked(
    problems: dict[str, str], field: str, raw: str | None, parse: Callable[[str], T]
) -> T | None:
    """``parse(raw)`` for an optional field; a problem is noted under ``field``."""
    if raw is None or not raw.strip():
        return None
    try:
        return parse(raw)
    except ValidationError as problem:
        problems[field] = problem.message
        return None
