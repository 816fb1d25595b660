"""Patients and users in the service's own database."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from ecm_comms.adapters.sql import tables
from ecm_comms.adapters.sql.engine import begin, connect
from ecm_comms.domain.errors import UnknownUser, UserAlreadyExists
from ecm_comms.domain.people import Patient, User
from ecm_comms.domain.phone_numbers import PhoneNumber


class SqlPatientDirectory:
    """A ``PatientDirectory`` and ``PatientRegistry``."""

    def __init__(self, engine: Engine, now: Callable[[], datetime]) -> None:
        self._engine = engine
        self._now = now

    def find(self, patient_id: int, clinic_id: int) -> Patient | None:
        p = tables.patients
        found = self._patients_where(p.c.id == patient_id, p.c.clinic_id == clinic_id)
        return found[0] if found else None

    def find_by_phone(self, phone: PhoneNumber) -> list[Patient]:
        phones = tables.patient_phones
        at_phone = select(phones.c.patient_id).where(phones.c.phone == phone.e164)
        return self._patients_where(tables.patients.c.id.in_(at_phone))

    def _patients_where(self, *conditions: Any) -> list[Patient]:
        """Patients with their phone numbers in one query, most recently updated first."""
        p, phones = tables.patients, tables.patient_phones
        query = (
            select(p.c.id, p.c.clinic_id, p.c.name, p.c.coordinator_id, phones.c.phone)
            .outerjoin(phones, phones.c.patient_id == p.c.id)
            .where(*conditions)
            .order_by(p.c.updated_at.desc(), p.c.id, phones.c.position)
        )
        with connect(self._engine) as connection:
            rows = connection.execute(query).all()
        patients: dict[int, Patient] = {}
        for row in rows:
            known = patients.get(row.id) or Patient(
                id=row.id, clinic_id=row.clinic_id, name=row.name, coordinator_id=row.coordinator_id
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
        u = tables.users
        with connect(self._engine) as connection:
            row = connection.execute(select(u).where(u.c.token_digest == digest)).first()
        return None if row is None else _user(row.id, row.clinic_id, row.name, row.phone)

    def get(self, user_id: int) -> User | None:
        u = tables.users
        with connect(self._engine) as connection:
            row = connection.execute(select(u).where(u.c.id == user_id)).first()
        return None if row is None else _user(row.id, row.clinic_id, row.name, row.phone)

    def add(self, user: User, token_digest: str) -> None:
        try:
            with begin(self._engine) as connection:
                connection.execute(
                    insert(tables.users).values(
                        id=user.id,
                        clinic_id=user.clinic_id,
                        name=user.name,
                        phone=user.phone.e164 if user.phone else None,
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

    def _set_token_digest(self, user_id: int, token_digest: str | None) -> None:
        u = tables.users
        with begin(self._engine) as connection:
            result = connection.execute(
                update(u).where(u.c.id == user_id).values(token_digest=token_digest)
            )
        if result.rowcount == 0:
            raise UnknownUser([f"User {user_id} not found"])


def _user(user_id: int, clinic_id: int, name: str, phone: str | None) -> User:
    return User(
        id=user_id,
        clinic_id=clinic_id,
        name=name,
        phone=PhoneNumber(phone) if phone else None,
    )
