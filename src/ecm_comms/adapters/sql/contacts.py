"""Who was contacted last at a number: how an inbound sender on a family phone is matched."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Select, Table, or_, select, union_all

from ecm_comms.adapters.sql import tables
from ecm_comms.domain.phone_numbers import PhoneNumber


class SqlContactHistory:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def most_recently_contacted(self, patient_ids: Sequence[int], phone: PhoneNumber) -> int | None:
        # One "latest at this number" per candidate and table, each the first row of a backward
        # scan of (patient_id, created_at): a family's history can grow without this growing.
        def latest(table: Table, patient_id: int) -> Select[Any]:
            newest = (
                select(table.c.patient_id, table.c.created_at)
                .where(
                    table.c.patient_id == patient_id,
                    or_(table.c.to_number == phone.e164, table.c.from_number == phone.e164),
                )
                .order_by(table.c.created_at.desc())
                .limit(1)
                .subquery()
            )
            return select(newest)

        branches = [
            latest(table, patient_id)
            for patient_id in patient_ids
            for table in (tables.text_messages, tables.voice_calls)
        ]
        if not branches:
            return None
        both = union_all(*branches).subquery()
        patient_id = self._connection.execute(
            select(both.c.patient_id).order_by(both.c.created_at.desc()).limit(1)
        ).scalar_one_or_none()
        return None if patient_id is None else int(patient_id)
