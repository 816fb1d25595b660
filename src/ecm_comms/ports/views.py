"""Reading the record: small queries that return plain values and open no writing transaction."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Protocol

from ecm_comms.domain.audit import AuditFindings
from ecm_comms.domain.campaigns import CampaignSummary, Recipient
from ecm_comms.domain.channels import Channel
from ecm_comms.domain.consent import Consent
from ecm_comms.domain.ecm_records import ActivityEntry, ActivityFilters, EventFilters, PageRequest
from ecm_comms.domain.history import HistoryItem, Position
from ecm_comms.domain.phone_numbers import PhoneNumber
from ecm_comms.domain.reporting import EventRow


class CommunicationViews(Protocol):
    def find(self, channel: Channel, record_id: int) -> HistoryItem | None:
        """The SMS or call with this id, with its activity, of whichever clinic."""

    def history(self, patient_id: int, limit: int, after: Position | None) -> list[HistoryItem]:
        """Up to ``limit`` of the patient's SMS and calls, newest first, after ``after``."""


class ConsentViews(Protocol):
    def consent(self, phone: PhoneNumber, clinic_id: int | None) -> Consent:
        """The number's consent ledger with this clinic (None: the shared number), newest first."""


class ReportViews(Protocol):
    def events(self, clinic_id: int, since: datetime, until: datetime) -> Iterator[EventRow]:
        """The clinic's events with ``since <= occurred_at < until``, oldest first, read as a
        stream: the caller iterates to the end (or closes the iterator)."""


class ActivityViews(Protocol):
    def activities(
        self, patient_id: int, clinic_id: int, filters: ActivityFilters, page: PageRequest
    ) -> tuple[list[ActivityEntry], int]:
        """The page of the patient's activities with the clinic that match ``filters``, newest
        first (by creation, then id), and how many match in all."""

    def events(
        self, patient_id: int, clinic_id: int, filters: EventFilters, page: PageRequest
    ) -> tuple[list[EventRow], int]:
        """The page of the patient's events with the clinic that match ``filters``, newest
        first (by occurrence, then id), and how many match in all."""


class AuditViews(Protocol):
    def audit(self, clinic_id: int | None) -> AuditFindings:
        """The accepted communications matched to a patient counted, and every broken link
        between communications, activities and events, read from one snapshot; of one clinic,
        or of all (None)."""


class CampaignViews(Protocol):
    def campaign(self, campaign_id: int, clinic_id: int) -> CampaignSummary | None:
        """The clinic's campaign with its recipients counted by outcome; None for another
        clinic's."""

    def recipients(
        self, campaign_id: int, clinic_id: int, page: PageRequest
    ) -> tuple[list[Recipient], int]:
        """A page of the campaign's recipients in the order they were given, and how many it
        has; ([], 0) for another clinic's campaign."""
