"""Campaigns: written in a unit of work (``uow.campaigns``), read through views that count their
recipients by outcome."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Engine, bindparam, func, insert, select, update

from ecm_comms.adapters.sql import tables
from ecm_comms.adapters.sql.engine import reading
from ecm_comms.domain.automated_sms import Outcome
from ecm_comms.domain.campaigns import Campaign, CampaignCounts, CampaignSummary, Recipient
from ecm_comms.domain.ecm_records import PageRequest

_c, _a = tables.campaigns, tables.automated_sms

_ADDING = insert(_c).returning(_c.c.id)
_OF_CLINIC = select(_c).where(
    _c.c.id == bindparam("campaign_id"), _c.c.clinic_id == bindparam("clinic_id")
)
_LOCKING = _OF_CLINIC.with_for_update()
_UPDATING = update(_c).where(_c.c.id == bindparam("campaign_id"))
_COUNTS = (
    select(_a.c.outcome, func.count().label("recipients"))
    .where(_a.c.campaign_id == bindparam("campaign_id"))
    .group_by(_a.c.outcome)
)
# A campaign's recipients are the clinic's automated SMS that name it.
_RECIPIENTS = (
    _a.c.campaign_id == bindparam("campaign_id"),
    _a.c.clinic_id == bindparam("clinic_id"),
)
_RECIPIENT_COUNT = select(func.count()).select_from(_a).where(*_RECIPIENTS)
_RECIPIENT_PAGE = (
    select(_a.c.patient_id, _a.c.sms_id, _a.c.outcome, _a.c.skip_reason)
    .where(*_RECIPIENTS)
    .order_by(_a.c.id)  # the order they were given in
    .limit(bindparam("limit"))
    .offset(bindparam("offset"))
)


def _from_row(row: Any) -> Campaign:
    return Campaign(
        id=row.id,
        clinic_id=row.clinic_id,
        name=row.name,
        body=row.body,
        send_at=row.send_at,
        total=row.total,
        max_segments=row.max_segments,
        created_by_id=row.created_by_id,
        created_at=row.created_at,
        canceled_at=row.canceled_at,
    )


class SqlCampaignRepository:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def add(self, campaign: Campaign) -> None:
        values = {
            "clinic_id": campaign.clinic_id,
            "name": campaign.name,
            "body": campaign.body,
            "send_at": campaign.send_at,
            "total": campaign.total,
            "max_segments": campaign.max_segments,
            "created_by_id": campaign.created_by_id,
            "created_at": campaign.created_at,
            "canceled_at": campaign.canceled_at,
        }
        campaign.id = int(self._connection.execute(_ADDING, values).scalar_one())

    def lock(self, campaign_id: int, clinic_id: int) -> Campaign | None:
        row = self._connection.execute(
            _LOCKING, {"campaign_id": campaign_id, "clinic_id": clinic_id}
        ).first()
        return None if row is None else _from_row(row)

    def update(self, campaign: Campaign) -> None:
        assert campaign.id is not None
        self._connection.execute(
            _UPDATING, {"campaign_id": campaign.id, "canceled_at": campaign.canceled_at}
        )


class SqlCampaignViews:
    """``CampaignViews``: each read on a connection of its own, outside any unit of work."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def campaign(self, campaign_id: int, clinic_id: int) -> CampaignSummary | None:
        with reading(self._engine) as connection:
            row = connection.execute(
                _OF_CLINIC, {"campaign_id": campaign_id, "clinic_id": clinic_id}
            ).first()
            if row is None:
                return None
            counted = connection.execute(_COUNTS, {"campaign_id": campaign_id}).all()
        by_outcome = {Outcome(outcome): int(recipients) for outcome, recipients in counted}
        return CampaignSummary(_from_row(row), CampaignCounts.of(by_outcome))

    def recipients(
        self, campaign_id: int, clinic_id: int, page: PageRequest
    ) -> tuple[list[Recipient], int]:
        scope = {"campaign_id": campaign_id, "clinic_id": clinic_id}
        with reading(self._engine) as connection:
            total = int(connection.execute(_RECIPIENT_COUNT, scope).scalar_one())
            if page.offset >= total:
                return [], total
            rows = connection.execute(
                _RECIPIENT_PAGE, {**scope, "limit": page.size, "offset": page.offset}
            ).all()
        return [
            Recipient(row.patient_id, row.sms_id, Outcome(row.outcome), row.skip_reason)
            for row in rows
        ], total
