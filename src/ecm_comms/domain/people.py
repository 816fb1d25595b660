"""The people the service knows of; their ids come from the host clinic system."""

from __future__ import annotations

from dataclasses import dataclass

from ecm_comms.domain.phone_numbers import PhoneNumber


@dataclass(frozen=True, slots=True)
class User:
    """A care coordinator (or any clinic staff member) who acts through the API."""

    id: int
    clinic_id: int
    name: str
    phone: PhoneNumber | None = None


@dataclass(frozen=True, slots=True)
class Patient:
    id: int
    clinic_id: int
    phones: tuple[PhoneNumber, ...] = ()
    name: str | None = None
    coordinator_id: int | None = None

    def belongs_to(self, clinic_id: int) -> bool:
        return self.clinic_id == clinic_id
