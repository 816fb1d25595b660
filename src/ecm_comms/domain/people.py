"""The people the service knows of; their ids come from the host clinic system."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from ecm_comms.domain.errors import AdminRequired
from ecm_comms.domain.phone_numbers import PhoneNumber


class Role(StrEnum):
    COORDINATOR = "coordinator"
    ADMIN = "admin"  # may also produce the clinic's compliance reports


@dataclass(frozen=True, slots=True)
class User:
    """A care coordinator (or any clinic staff member) who acts through the API."""

    id: int
    clinic_id: int
    name: str
    phone: PhoneNumber | None = None
    role: Role = Role.COORDINATOR

    def require_admin(self) -> None:
        if self.role is not Role.ADMIN:
            raise AdminRequired()


@dataclass(frozen=True, slots=True)
class Patient:
    id: int
    clinic_id: int
    phones: tuple[PhoneNumber, ...] = ()
    name: str | None = None
    coordinator_id: int | None = None
    member_id: str | None = None  # the Medi-Cal Client Index Number (CIN)
    first_name: str | None = None
    last_name: str | None = None
    date_of_birth: date | None = None
    timezone: str | None = None  # IANA name; None: their clinic's

    def belongs_to(self, clinic_id: int) -> bool:
        return self.clinic_id == clinic_id
