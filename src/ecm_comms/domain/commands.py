"""What callers ask the service to do. Fields hold what the caller sent, still unchecked."""

from __future__ import annotations

from dataclasses import dataclass

from ecm_comms.domain.people import User


@dataclass(frozen=True, slots=True)
class SendSms:
    patient_id: int
    phone_number: str | None
    body: str | None
    performed_by: User


@dataclass(frozen=True, slots=True)
class InitiateCall:
    patient_id: int
    phone_number: str | None
    performed_by: User


@dataclass(frozen=True, slots=True)
class Authenticate:
    token: str | None


@dataclass(frozen=True, slots=True)
class RegisterUser:
    user_id: int
    clinic_id: int
    name: str
    phone_number: str | None = None


@dataclass(frozen=True, slots=True)
class IssueToken:
    """Give an existing user a new API token; the old one stops working."""

    user_id: int


@dataclass(frozen=True, slots=True)
class UpsertPatient:
    patient_id: int
    clinic_id: int
    phone_numbers: tuple[str, ...] = ()
    name: str | None = None
    coordinator_id: int | None = None
