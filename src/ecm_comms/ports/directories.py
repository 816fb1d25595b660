"""Who the patients and users are. A host service may bring its own directories."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Protocol

from ecm_comms.domain.people import Patient, Role, User
from ecm_comms.domain.phone_numbers import PhoneNumber


class PatientDirectory(Protocol):
    def find(self, patient_id: int, clinic_id: int) -> Patient | None:
        """The patient with this id if they belong to this clinic, else None."""

    def find_by_phone(self, phone: PhoneNumber, clinic_id: int | None = None) -> Sequence[Patient]:
        """Every patient of this clinic (of any clinic, if None) reachable at ``phone``; most
        recently updated first."""

    def find_many(self, patient_ids: Collection[int], clinic_id: int) -> Sequence[Patient]:
        """The patients with these ids that belong to this clinic, in any order; ids of no
        patient of the clinic are left out."""


class PatientRegistry(Protocol):
    def upsert(self, patient: Patient) -> None:
        """Store the patient, replacing what was known of them (phone numbers included)."""


class UserDirectory(Protocol):
    def find_by_token_digest(self, digest: str) -> User | None: ...

    def get(self, user_id: int) -> User | None: ...

    def get_many(self, user_ids: Collection[int]) -> Sequence[User]:
        """The users with these ids, in any order; unknown ids are left out."""


class UserRegistry(Protocol):
    def get(self, user_id: int) -> User | None: ...

    def add(self, user: User, token_digest: str) -> None:
        """Store a new user; ``UserAlreadyExists`` if the id is taken."""

    def replace_token(self, user_id: int, token_digest: str) -> None:
        """The user's previous token stops working."""

    def revoke_token(self, user_id: int) -> None:
        """The user's token stops working, and they have none until one is issued."""

    def set_role(self, user_id: int, role: Role) -> None:
        """``UnknownUser`` if there is no such user."""
