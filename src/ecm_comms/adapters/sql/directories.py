"""Patients and users in the service's own database."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, Select, bindparam, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from ecm_comms.adapters.sql import tables
from ecm_comms.adapters.sql.engine import begin, reading
from ecm_comms.domain.errors import UnknownUser, UserAlreadyExists
from ecm_comms.domain.people import Patient, Role, User
from ecm_comms.domain.phone_numbers import PhoneNumber

# Built once, executed with parameters (see repositories.py).
_p, _phones, _u = tables.patients, tables.patient_phones, tables.users
# Patients with their phone numbers in one query, most recently updated first.
_PATIENTS = (
    select(
        _p.c.id,
        _p.c.clinic_id,
        _p.c.name,
        _p.c.coordinator_id,
        _p.c.member_id,
        _p.c.first_name,
        _p.c.last_name,
        _p.c.date_of_birth,
        _p.c.timezone,
        _phones.c.phone,
    )
    .outerjoin(_phones, _phones.c.patient_id == _p.c.id)
    .order_by(_p.c.updated_at.desc(), _p.c.id, _phones.c.position)
)
_PATIENT_OF_CLINIC = _PATIENTS.where(
    _p.c.id == bindparam("id"), _p.c.clinic_id == bindparam("clinic_id")
)
_PATIENTS_AT_PHONE = _PATIENTS.where(
    _p.c.id.in_(select(_phones.c.patient_id).where(_phones.c.phone == bindparam("phone")))
)
_CLINIC_PATIENTS_AT_PHONE = _PATIENTS_AT_PHONE.where(_p.c.clinic_id == bindparam("clinic_id"))
_PATIENTS_OF_CLINIC_BY_IDS = _PATIENTS.where(
    _p.c.id.in_(bindparam("ids", expanding=True)), _p.c.clinic_id == bindparam("clinic_id")
)
_USER_BY_TOKEN_DIGEST = select(_u).where(_u.c.token_digest == bindparam("digest"))
_USER_BY_ID = select(_u).where(_u.c.id == bindparam("id"))
_USERS_BY_IDS = select(_u).where(_u.c.id.in_(bindparam("ids", expanding=True)))
# Ids per lookup by ids: within every SQLite build's limit of bound parameters (999).
IDS_PER_QUERY = 900


class SqlPatientDirectory:
    """A ``PatientDirectory`` and ``PatientRegistry``."""

    def __init__(self, engine: Engine, now: Callable[[], datetime]) -> None:
        self._engine = engine
        self._now = now

    def find(self, patient_id: int, clinic_id: int) -> Patient | None:
        found = self._patients(_PATIENT_OF_CLINIC, {"id": patient_id, "clinic_id": clinic_id})
        return found[0] if found else None

    def find_by_phone(self, phone: PhoneNumber, clinic_id: int | None = None) -> list[Patient]:
        if clinic_id is None:
            return self._patients(_PATIENTS_AT_PHONE, {"phone": phone.e164})
        return self._patients(
            _CLINIC_PATIENTS_AT_PHONE, {"phone": phone.e164, "clinic_id": clinic_id}
        )

    def find_many(self, patient_ids: Collection[int], clinic_id: int) -> list[Patient]:
        return [
            patient
            for ids in _chunks(patient_ids)
            for patient in self._patients(
                _PATIENTS_OF_CLINIC_BY_IDS, {"ids": ids, "clinic_id": clinic_id}
            )
        ]

    def _patients(self, query: Select[Any], parameters: dict[str, Any]) -> list[Patient]:
        with reading(self._engine) as connection:
            rows = connection.execute(query, parameters).all()
        patients: dict[int, Patient] = {}
        for row in rows:
            known = patients.get(row.id) or Patient(
                id=row.id,
                clinic_id=row.clinic_id,
                name=row.name,
                coordinator_id=row.coordinator_id,
                member_id=row.member_id,
                first_name=row.first_name,
                last_name=row.last_name,
                date_of_birth=row.date_of_birth,
                timezone=row.timezone,
            )
            if row.phone is not None:
                known = replace(known, phones=(*known.phones, PhoneNumber(row.phone)))
            patients[row.id] = known
        return list(patients.values())

    def upsert(self, patient: Patient) -> None:
        values = {
            "clinic_id": patient.clinic_id,
            "name": patient.name,
            "coordinator_id": patient.coordinator_id,
            "member_id": patient.member_id,
            "first_name": patient.first_name,
            "last_name": patient.last_name,
            "date_of_birth": patient.date_of_birth,
            "timezone": patient.timezone,
            "updated_at": self._now(),
        }
        with begin(self._engine) as connection:
            p = tables.patients
            updated = connection.execute(update(p).where(p.c.id == patient.id).values(values))
            if updated.rowcount == 0:
                connection.execute(insert(p).values(id=patient.id, **values))
            phones = tables.patient_phones
            connection.execute(delete(phones).where(phones.c.patient_id == patient.id))
            if patient.phones:
                connection.execute(
                    insert(phones),
                    [
                        {"patient_id": patient.id, "phone": phone.e164, "position": position}
                        for position, phone in enumerate(patient.phones)
                    ],
                )


class SqlUserDirectory:
    """A ``UserDirectory`` and ``UserRegistry``; tokens are kept only as digests."""

    def __init__(self, engine: Engine, now: Callable[[], datetime]) -> None:
        self._engine = engine
        self._now = now

    def find_by_token_digest(self, digest: str) -> User | None:
        return self._user(_USER_BY_TOKEN_DIGEST, {"digest": digest})

    def get(self, user_id: int) -> User | None:
        return self._user(_USER_BY_ID, {"id": user_id})

    def get_many(self, user_ids: Collection[int]) -> list[User]:
        found: list[User] = []
        for ids in _chunks(user_ids):
            with reading(self._engine) as connection:
                rows = connection.execute(_USERS_BY_IDS, {"ids": ids}).all()
            found += [_user(row.id, row.clinic_id, row.name, row.phone, row.role) for row in rows]
        return found

    def _user(self, query: Select[Any], parameters: dict[str, Any]) -> User | None:
        with reading(self._engine) as connection:
            row = connection.execute(query, parameters).first()
        return None if row is None else _user(row.id, row.clinic_id, row.name, row.phone, row.role)

    def add(self, user: User, token_digest: str) -> None:
        try:
            with begin(self._engine) as connection:
                connection.execute(
                    insert(tables.users).values(
                        id=user.id,
                        clinic_id=user.clinic_id,
                        name=user.name,
                        phone=user.phone.e164 if user.phone else None,
                        role=user.role.value,
                        token_digest=token_digest,
                        created_at=self._now(),
                    )
                )
        except IntegrityError as error:
            raise UserAlreadyExists([f"User {user.id} already exists"]) from error

    def replace_token(self, user_id: int, token_digest: str) -> None:
        self._set_token_digest(user_id, token_digest)

    def revoke_token(self, user_id: int) -> None:
        self._set_token_digest(user_id, None)

    def set_role(self, user_id: int, role: Role) -> None:
        self._set(user_id, role=role.value)

    def _set_token_digest(self, user_id: int, token_digest: str | None) -> None:
        self._set(user_id, token_digest=token_digest)

    def _set(self, user_id: int, **values: Any) -> None:
        u = tables.users
        with begin(self._engine) as connection:
            result = connection.execute(update(u).where(u.c.id == user_id).values(values))
        if result.rowcount == 0:
            raise UnknownUser([f"User {user_id} not found"])


def _user(user_id: int, clinic_id: int, name: str, phone: str | None, role: str) -> User:
    return User(
        id=user_id,
        clinic_id=clinic_id,
        name=name,
        phone=PhoneNumber(phone) if phone else None,
        role=Role(role),
    )


def _chunks(ids: Collection[int]) -> Iterator[list[int]]:
    """``ids`` (without repeats) a bounded number at a time; none for no ids."""
    unique = sorted(set(ids))
    for start in range(0, len(unique), IDS_PER_QUERY):
        yield unique[start : start + IDS_PER_QUERY]
