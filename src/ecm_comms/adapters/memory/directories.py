from __future__ import annotations

import hmac

from ecm_comms.domain.errors import UnknownUser, UserAlreadyExists
from ecm_comms.domain.people import Patient, User
from ecm_comms.domain.phone_numbers import PhoneNumber


class InMemoryPatientDirectory:
    """A ``PatientDirectory`` and ``PatientRegistry`` kept in a dict."""

    def __init__(self, patients: tuple[Patient, ...] = ()) -> None:
        self.patients = {patient.id: patient for patient in patients}

    def find(self, patient_id: int, clinic_id: int) -> Patient | None:
        patient = self.patients.get(patient_id)
        return patient if patient is not None and patient.belongs_to(clinic_id) else None

    def find_by_phone(self, phone: PhoneNumber) -> list[Patient]:
        # Newest first, as the SQL directory lists most recently updated first.
        return [p for p in reversed(self.patients.values()) if phone in p.phones]

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

    def add(self, user: User, token_digest: str) -> None:
        if user.id in self.users:
            raise UserAlreadyExists([f"User {user.id} already exists"])
        self.users[user.id] = user
        self.token_digests[user.id] = token_digest

    def replace_token(self, user_id: int, token_digest: str) -> None:
        if user_id not in self.users:
            raise UnknownUser([f"User {user_id} not found"])
        self.token_digests[user_id] = token_digest

    def revoke_token(self, user_id: int) -> None:
        if user_id not in self.users:
            raise UnknownUser([f"User {user_id} not found"])
        self.token_digests.pop(user_id, None)

    def find_by_token_digest(self, digest: str) -> User | None:
        for user_id, stored in self.token_digests.items():
            if hmac.compare_digest(stored, digest):
                return self.users[user_id]
        return None
