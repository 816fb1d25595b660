"""Scheduled and campaign SMS as the worker tracks them, over one connection of a unit of work.

Locks. On PostgreSQL, ``lock`` and ``lock_by_sms`` take the row (SELECT … FOR UPDATE),
``take_due`` skips rows another transaction holds (FOR UPDATE SKIP LOCKED), and ``hold_patient``
takes a transaction-level advisory lock with the two-integer key
(``PATIENT_LOCK_SPACE``, the patient id folded into 32 bits). That constant spells "ECMS" in
ASCII and is used for nothing else; advisory locks taken with one 64-bit key (as some tools
do) live in another key space and never meet it. Two patients whose ids fold to the same key
only wait for each other. On SQLite a unit of work's transaction holds the database's only
write lock from its BEGIN IMMEDIATE, so writers run one at a time and none of this is needed.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import (
    Connection,
    Integer,
    Select,
    Update,
    bindparam,
    cast,
    func,
    or_,
    select,
    update,
)

from ecm_comms.adapters.sql import tables
from ecm_comms.adapters.sql.repositories import insert_many
from ecm_comms.adapters.sql.types import UtcDateTime
from ecm_comms.domain.automated_sms import AutomatedSms, Outcome
from ecm_comms.domain.statuses import SmsStatus

PATIENT_LOCK_SPACE = 0x45434D53  # "ECMS"
_INT4 = 2**32

_a, _t = tables.automated_sms, tables.text_messages

# What the worker changes on an automated SMS after it is added.
_UPDATABLE = ("outcome", "skip_reason", "due_at", "attempts", "handed_at", "dispatched_at")


def _values(send: AutomatedSms) -> dict[str, Any]:
    return {
        "clinic_id": send.clinic_id,
        "patient_id": send.patient_id,
        "sms_id": send.sms_id,
        "campaign_id": send.campaign_id,
        "outcome": send.outcome.value,
        "skip_reason": send.skip_reason,
        "due_at": send.due_at,
        "attempts": send.attempts,
        "handed_at": send.handed_at,
        "dispatched_at": send.dispatched_at,
    }


def _from_row(row: Any) -> AutomatedSms:
    return AutomatedSms(
        id=row.id,
        clinic_id=row.clinic_id,
        patient_id=row.patient_id,
        sms_id=row.sms_id,
        campaign_id=row.campaign_id,
        outcome=Outcome(row.outcome),
        skip_reason=row.skip_reason,
        due_at=row.due_at,
        attempts=row.attempts,
        handed_at=row.handed_at,
        dispatched_at=row.dispatched_at,
    )


@cache
def _locking(column: str) -> Select[Any]:
    return select(_a).where(_a.c[column] == bindparam("value")).with_for_update()


# Moments as parameters, typed for what they are compared with or set to.
_NOW = bindparam("now", type_=UtcDateTime())
_AT = bindparam("at", type_=UtcDateTime())

_UPDATING = update(_a).where(_a.c.id == bindparam("record_id"))
_HOLDING_PATIENT = select(
    func.pg_advisory_xact_lock(cast(bindparam("space"), Integer), cast(bindparam("key"), Integer))
)
_HANDED_SINCE = (
    select(_a.c.handed_at)
    .where(
        _a.c.patient_id == bindparam("patient_id"),
        # Handed to the provider; one it refused at once is "failed" and never went out.
        _a.c.outcome == Outcome.SENT.value,
        _a.c.handed_at >= bindparam("since"),
    )
    .order_by(_a.c.handed_at)
)
_DUE = (
    select(_a.c.id)
    .where(
        _a.c.outcome == Outcome.SCHEDULED.value,
        _a.c.due_at <= _NOW,
        or_(
            _a.c.dispatched_at.is_(None),
            _a.c.dispatched_at < bindparam("lease_expired_before"),
        ),
    )
    .order_by(_a.c.due_at, _a.c.id)
    .limit(bindparam("limit"))
    .with_for_update(skip_locked=True)
)
_TAKING_DUE: Update = (
    update(_a)
    .where(_a.c.id.in_(_DUE.scalar_subquery()))
    .values(dispatched_at=_NOW)
    .returning(_a.c.id, _a.c.due_at)
)
# The automated SMS first: on PostgreSQL this takes their rows, waiting for a worker that holds
# one and skipping it if that worker sent it; their SMS are then the campaign's canceled ones
# still scheduled, which no one else can be changing.
_CANCELING_SENDS = (
    update(_a)
    .where(
        _a.c.campaign_id == bindparam("campaign"),
        _a.c.outcome == Outcome.SCHEDULED.value,
    )
    .values(outcome=Outcome.CANCELED.value)
)
_CANCELING_THEIR_SMS = (
    update(_t)
    .where(
        _t.c.id.in_(
            select(_a.c.sms_id).where(
                _a.c.campaign_id == bindparam("campaign"),
                _a.c.outcome == Outcome.CANCELED.value,
            )
        ),
        _t.c.status == SmsStatus.SCHEDULED.value,
    )
    .values(status=SmsStatus.CANCELED.value, updated_at=_AT)
)


class SqlAutomatedSmsRepository:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection
        self._is_postgres = connection.dialect.name == "postgresql"

    def add_many(self, sends: Sequence[AutomatedSms]) -> None:
        ids = insert_many(self._connection, _a, [_values(send) for send in sends])
        for send, new_id in zip(sends, ids, strict=True):
            send.id = new_id

    def lock(self, automated_sms_id: int) -> AutomatedSms | None:
        return self._locked("id", automated_sms_id)

    def lock_by_sms(self, sms_id: int) -> AutomatedSms | None:
        return self._locked("sms_id", sms_id)

    def _locked(self, column: str, value: int) -> AutomatedSms | None:
        row = self._connection.execute(_locking(column), {"value": value}).first()
        return None if row is None else _from_row(row)

    def update(self, send: AutomatedSms) -> None:
        assert send.id is not None
        values = _values(send)
        self._connection.execute(
            _UPDATING, {**{key: values[key] for key in _UPDATABLE}, "record_id": send.id}
        )

    def hold_patient(self, patient_id: int) -> None:
        if self._is_postgres:
            key = (patient_id + _INT4 // 2) % _INT4 - _INT4 // 2
            self._connection.execute(_HOLDING_PATIENT, {"space": PATIENT_LOCK_SPACE, "key": key})

    def handed_since(self, patient_id: int, since: datetime) -> list[datetime]:
        rows = self._connection.execute(_HANDED_SINCE, {"patient_id": patient_id, "since": since})
        return list(rows.scalars())

    def take_due(self, now: datetime, lease_expired_before: datetime, limit: int) -> list[int]:
        taken = self._connection.execute(
            _TAKING_DUE, {"now": now, "lease_expired_before": lease_expired_before, "limit": limit}
        ).all()
        # RETURNING promises no order.
        return [row.id for row in sorted(taken, key=lambda row: (row.due_at, row.id))]

    def cancel_campaign(self, campaign_id: int, at: datetime) -> int:
        canceled = self._connection.execute(_CANCELING_SENDS, {"campaign": campaign_id})
        self._connection.execute(_CANCELING_THEIR_SMS, {"campaign": campaign_id, "at": at})
        return canceled.rowcount
