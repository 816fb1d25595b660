"""Who the clinics are and which Twilio numbers they hold."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from ecm_comms.domain.clinics import Clinic, ClinicNumber
from ecm_comms.domain.phone_numbers import PhoneNumber


class ClinicDirectory(Protocol):
    def get(self, clinic_id: int) -> Clinic | None:
        """The clinic with its numbers, if it has a record."""

    def holding(self, number: PhoneNumber) -> Clinic | None:
        """The clinic this Twilio number belongs to, with its numbers; None for any other number
        (the shared fallback number, or one never registered)."""

    def all(self) -> Sequence[Clinic]:
        """Every clinic with its numbers, by id."""


class ClinicRegistry(Protocol):
    def upsert(self, clinic: Clinic) -> None:
        """Store the clinic's name, NPI, main line and time zone; its numbers are kept."""

    def add_number(self, number: ClinicNumber) -> None:
        """Give the clinic this number; ``UnknownClinic`` if it has no record, ``NumberTaken``
        if any clinic holds the number. A number marked default becomes the only default."""

    def remove_number(self, number: PhoneNumber) -> bool:
        """The number belongs to no clinic any more; False if none held it."""
