from __future__ import annotations

import hmac
from collections.abc import Collection
from dataclasses import replace

from ecm_comms.domain.clinics import Clinic, ClinicNumber, number_taken_message
from ecm_comms.domain.errors import NumberTaken, UnknownClinic, UnknownUser, UserAlreadyExists
from ecm_comms.domain.people import Patient, Role, User
from ecm_comms.domain.phone_numbers import PhoneNumber


class InMemoryPatientDirectory:
    """A ``PatientDirectory`` and ``PatientRegistry`` kept in a dict."""

    def __init__(self, patients: tuple[Patient, ...] = ()) -> None:
        self.patients = {patient.id: patient for patient in patients}

    def find(self, patient_id: int, clinic_id: int) -> Patient | None:
        patient = self.patients.get(patient_id)
        return patient if patient is not None and patient.belongs_to(clinic_id) else None

    def find_by_phone(self, phone: PhoneNumber, clinic_id: int | None = None) -> list[Patient]:
        # Newest first, as the SQL directory lists most recently updated first.
        return [
            p
            for p in reversed(self.patients.values())
            if phone in p.phones and (clinic_id is None or p.belongs_to(clinic_id))
        ]

    def find_many(self, patient_ids: Collection[int], clinic_id: int) -> list[Patient]:
        return [
            patient
            for patient_id in set(patient_ids)
            if (patient := self.find(patient_id, clinic_id)) is not None
        ]

    def upsert(self, patient: Patient) -> None:
        self.patients.pop(patient.id, None)
        self.patients[patient.id] = patient


class InMemoryUserDirectory:
    """A ``UserDirectory`` and ``UserRegistry`` kept in dicts."""

    def __init__(self) -> None:
        self.users: dict[int, User] = {}
        self.token_digests: dict[int, str] = {}

    def get(self, user_id: int) -> User | None:
        return self.users.get(user_id)

    def get_many(self, user_ids: Collection[int]) -> list[User]:
        return [self.users[user_id] for user_id in set(user_ids) if user_id in self.users]

    def add(self, user: User, token_digest: str) -> None:
        if user.id in self.users:
            raise UserAlreadyExists([f"User {user.id} already exists"])
        self.users[user.id] = user
        self.token_digests[user.id] = token_digest

    def replace_token(self, user_id: int, token_digest: str) -> None:
        if user_id not in self.users:
            raise UnknownUser([f"User {user_id} not found"])
        self.token_digests[user_id] = token_digest

    def set_role(self, user_id: int, role: Role) -> None:
        user = self.users.get(user_id)
        if user is None:
            raise UnknownUser([f"User {user_id} not found"])
        self.users[user_id] = replace(user, role=role)

    def revoke_token(self, user_id: int) -> None:
        if user_id not in self.users:
            raise UnknownUser([f"User {user_id} not found"])
        self.token_digests.pop(user_id, None)

    def find_by_token_digest(self, digest: str) -> User | None:
        for user_id, stored in self.token_digests.items():
            if hmac.compare_digest(stored, digest):
                return self.users[user_id]
        return None


class InMemoryClinicDirectory:
    """A ``ClinicDirectory`` and ``ClinicRegistry`` kept in a dict."""

    def __init__(self, clinics: tuple[Clinic, ...] = ()) -> None:
        self.clinics = {clinic.id: clinic for clinic in clinics}

    def get(self, clinic_id: int) -> Clinic | None:
        return self.clinics.get(clinic_id)

    def holding(self, number: PhoneNumber) -> Clinic | None:
        return next(
            (c for c in self.clinics.values() if any(n.number == number for n in c.numbers)), None
        )

    def all(self) -> list[Clinic]:
        return [self.clinics[clinic_id] for clinic_id in sorted(self.clinics)]

    def upsert(self, clinic: Clinic) -> None:
        known = self.clinics.get(clinic.id)
        self.clinics[clinic.id] = replace(clinic, numbers=known.numbers if known else ())

    def add_number(self, number: ClinicNumber) -> None:
        clinic = self.clinics.get(number.clinic_id)
        if clinic is None:
            raise UnknownClinic([f"Clinic {number.clinic_id} not found"])
        if self.holding(number.number) is not None:
            raise NumberTaken([number_taken_message(number.number)])
        numbers = clinic.numbers
        if number.is_default:
            numbers = tuple(replace(n, is_default=False) for n in numbers)
        self.clinics[clinic.id] = replace(clinic, numbers=(*numbers, number))

    def remove_number(self, number: PhoneNumber) -> bool:
        clinic = self.holding(number)
        if clinic is None:
            return False
        kept = tuple(n for n in clinic.numbers if n.number != number)
        self.clinics[clinic.id] = replace(clinic, numbers=kept)
        return True
