"""Clinics as the service knows them: who they are, and the Twilio numbers they use."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from ecm_comms.domain.errors import ValidationError
from ecm_comms.domain.phone_numbers import PhoneNumber
from ecm_comms.domain.sending_limits import FrequencyCaps, SendWindow

# ECM is a California Medi-Cal program.
DEFAULT_TIMEZONE = "America/Los_Angeles"
INVALID_NPI = "NPI must be 10 digits with a valid check digit"
UNKNOWN_TIMEZONE = "Unknown time zone (expected an IANA name such as America/Los_Angeles)"
INVALID_MESSAGING_SERVICE_SID = "Messaging Service SID must be MG followed by 32 hex digits"
_MESSAGING_SERVICE_SID = re.compile(r"MG[0-9a-fA-F]{32}")
# An NPI's check digit is the Luhn digit of the number prefixed with the US health card issuer
# 80840; prefixing those five digits adds this constant to the Luhn sum.
_NPI_PREFIX_SUM = 24


@dataclass(frozen=True, slots=True)
class Npi:
    """A National Provider Identifier."""

    value: str

    @classmethod
    def parse(cls, raw: str) -> Npi:
        digits = raw.strip()
        if len(digits) != 10 or not digits.isascii() or not digits.isdigit():
            raise ValidationError(INVALID_NPI)
        if _luhn_check_digit(digits[:9]) != int(digits[9]):
            raise ValidationError(INVALID_NPI)
        return cls(digits)


def _luhn_check_digit(body: str) -> int:
    total = _NPI_PREFIX_SUM
    for position, digit in enumerate(int(d) for d in reversed(body)):
        if position % 2 == 0:  # every other digit from the right, starting next to the check digit
            digit *= 2
            digit = digit - 9 if digit > 9 else digit
        total += digit
    return (10 - total % 10) % 10


def parse_timezone(raw: str) -> str:
    """An IANA time zone name, as given; unknown names are refused."""
    name = raw.strip()
    if name not in available_timezones():
        try:
            ZoneInfo(name)  # a link name the list leaves out is still a zone
        except (ZoneInfoNotFoundError, ValueError) as error:
            raise ValidationError(UNKNOWN_TIMEZONE) from error
    return name


def parse_messaging_service_sid(raw: str) -> str:
    sid = raw.strip()
    if not _MESSAGING_SERVICE_SID.fullmatch(sid):
        raise ValidationError(INVALID_MESSAGING_SERVICE_SID)
    return sid


@dataclass(frozen=True, slots=True)
class ClinicNumber:
    """A Twilio number of a clinic; with a Messaging Service, SMS go through the service."""

    number: PhoneNumber
    clinic_id: int
    messaging_service_sid: str | None = None
    is_default: bool = False


@dataclass(frozen=True, slots=True)
class Sender:
    """Where an outbound SMS or call comes from.

    ``clinic_id`` is the clinic whose own number this is; None for the shared fallback number.
    Opt-outs are kept per sender in this sense: a STOP to a clinic's number stops that clinic's
    SMS from all its numbers, a STOP to the shared number stops what goes through it.
    """

    number: PhoneNumber
    messaging_service_sid: str | None = None
    clinic_id: int | None = None


@dataclass(frozen=True, slots=True)
class Clinic:
    id: int
    name: str
    npi: Npi | None = None
    phone: PhoneNumber | None = None  # the main line calls are put through to
    timezone: str = DEFAULT_TIMEZONE
    numbers: tuple[ClinicNumber, ...] = ()  # in the order they were added
    send_window: SendWindow = field(default_factory=SendWindow)  # for automated SMS
    caps: FrequencyCaps = field(default_factory=FrequencyCaps)  # for automated SMS

    @property
    def sending_number(self) -> ClinicNumber | None:
        """The number marked default, else the first added."""
        marked = next((n for n in self.numbers if n.is_default), None)
        return marked or next(iter(self.numbers), None)


def sender_for(clinic: Clinic | None, fallback: PhoneNumber) -> Sender:
    """A clinic's sending number (through its Messaging Service if it has one), else the shared
    fallback number."""
    own = clinic.sending_number if clinic else None
    if own is None:
        return Sender(fallback)
    return Sender(own.number, own.messaging_service_sid, own.clinic_id)


def consent_scope(clinic: Clinic | None) -> int | None:
    """Whose opt-outs bind a clinic's SMS: its own when it texts from numbers of its own, else
    the shared number's (None)."""
    own = clinic.sending_number if clinic else None
    return own.clinic_id if own else None


def zone_of(clinic: Clinic | None) -> ZoneInfo:
    """The clinic's time zone, in which report days are counted."""
    return ZoneInfo(clinic.timezone if clinic else DEFAULT_TIMEZONE)


def main_line(clinic: Clinic | None, fallback: PhoneNumber | None) -> PhoneNumber | None:
    """The number a call is put through to when no coordinator can take it."""
    return (clinic.phone if clinic else None) or fallback


def number_taken_message(number: PhoneNumber) -> str:
    # The last four digits only: a full number is not for logs or error messages.
    return f"The number ending {number.e164[-4:]} belongs to another clinic"
