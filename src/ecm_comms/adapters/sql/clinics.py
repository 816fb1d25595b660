"""Clinics and their Twilio numbers in the service's own database."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, Select, bindparam, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from ecm_comms.adapters.sql import tables
from ecm_comms.adapters.sql.engine import begin, reading
from ecm_comms.domain.clinics import Clinic, ClinicNumber, Npi, number_taken_message
from ecm_comms.domain.errors import NumberTaken, UnknownClinic
from ecm_comms.domain.phone_numbers import PhoneNumber
from ecm_comms.domain.sending_limits import (
    DEFAULT_DAILY_CAP,
    DEFAULT_WEEKLY_CAP,
    FrequencyCaps,
    SendWindow,
)

_c, _n = tables.clinics, tables.clinic_numbers
# Clinics with their numbers in one query, numbers in the order they were added.
_CLINICS = (
    select(
        _c.c.id,
        _c.c.name,
        _c.c.npi,
        _c.c.phone,
        _c.c.timezone,
        _c.c.send_window,
        _c.c.daily_cap,
        _c.c.weekly_cap,
        _n.c.number,
        _n.c.messaging_service_sid,
        _n.c.is_default,
    )
    .outerjoin(_n, _n.c.clinic_id == _c.c.id)
    .order_by(_c.c.id, _n.c.added_at, _n.c.number)
)
_CLINIC = _CLINICS.where(_c.c.id == bindparam("id"))
_CLINIC_HOLDING = _CLINICS.where(
    _c.c.id == select(_n.c.clinic_id).where(_n.c.number == bindparam("number")).scalar_subquery()
)


class SqlClinicDirectory:
    """A ``ClinicDirectory`` and ``ClinicRegistry``."""

    def __init__(self, engine: Engine, now: Callable[[], datetime]) -> None:
        self._engine = engine
        self._now = now

    def get(self, clinic_id: int) -> Clinic | None:
        found = self._clinics(_CLINIC, {"id": clinic_id})
        return found[0] if found else None

    def holding(self, number: PhoneNumber) -> Clinic | None:
        found = self._clinics(_CLINIC_HOLDING, {"number": number.e164})
        return found[0] if found else None

    def all(self) -> list[Clinic]:
        return self._clinics(_CLINICS, {})

    def _clinics(self, query: Select[Any], parameters: dict[str, Any]) -> list[Clinic]:
        with reading(self._engine) as connection:
            rows = connection.execute(query, parameters).all()
        clinics: dict[int, Clinic] = {}
        numbers: dict[int, list[ClinicNumber]] = {}
        for row in rows:
            clinics.setdefault(
                row.id,
                Clinic(
                    id=row.id,
                    name=row.name,
                    npi=Npi(row.npi) if row.npi else None,
                    phone=PhoneNumber(row.phone) if row.phone else None,
                    timezone=row.timezone,
                    send_window=_send_window(row.send_window),
                    caps=_caps(row.daily_cap, row.weekly_cap),
                ),
            )
            held = numbers.setdefault(row.id, [])
            if row.number is not None:
                held.append(
                    ClinicNumber(
                        PhoneNumber(row.number),
                        row.id,
                        row.messaging_service_sid,
                        bool(row.is_default),
                    )
                )
        return [replace(clinic, numbers=tuple(numbers[clinic.id])) for clinic in clinics.values()]

    def upsert(self, clinic: Clinic) -> None:
        values = {
            "name": clinic.name,
            "npi": clinic.npi.value if clinic.npi else None,
            "phone": clinic.phone.e164 if clinic.phone else None,
            "timezone": clinic.timezone,
            # NULL for a limit left at the exemption's own, so that it follows the default.
            "send_window": None if clinic.send_window == SendWindow() else str(clinic.send_window),
            "daily_cap": None if clinic.caps.daily == DEFAULT_DAILY_CAP else clinic.caps.daily,
            "weekly_cap": None if clinic.caps.weekly == DEFAULT_WEEKLY_CAP else clinic.caps.weekly,
            "updated_at": self._now(),
        }
        with begin(self._engine) as connection:
            updated = connection.execute(update(_c).where(_c.c.id == clinic.id).values(values))
            if updated.rowcount == 0:
                connection.execute(insert(_c).values(id=clinic.id, **values))

    def add_number(self, number: ClinicNumber) -> None:
        try:
            with begin(self._engine) as connection:
                known = connection.execute(select(_c.c.id).where(_c.c.id == number.clinic_id))
                if known.first() is None:
                    raise UnknownClinic([f"Clinic {number.clinic_id} not found"])
                if number.is_default:
                    connection.execute(
                        update(_n)
                        .where(_n.c.clinic_id == number.clinic_id)
                        .values(is_default=False)
                    )
                connection.execute(
                    insert(_n).values(
                        number=number.number.e164,
                        clinic_id=number.clinic_id,
                        messaging_service_sid=number.messaging_service_sid,
                        is_default=number.is_default,
                        added_at=self._now(),
                    )
                )
        except IntegrityError as error:  # the number's primary key: another clinic holds it
            raise NumberTaken([number_taken_message(number.number)]) from error

    def remove_number(self, number: PhoneNumber) -> bool:
        with begin(self._engine) as connection:
            removed = connection.execute(delete(_n).where(_n.c.number == number.e164))
        return removed.rowcount > 0


def _send_window(stored: str | None) -> SendWindow:
    return SendWindow() if stored is None else SendWindow.parse(stored)


def _caps(daily: int | None, weekly: int | None) -> FrequencyCaps:
    # Checked when they were set: built, not checked again.
    return FrequencyCaps(
        DEFAULT_DAILY_CAP if daily is None else daily,
        DEFAULT_WEEKLY_CAP if weekly is None else weekly,
    )
