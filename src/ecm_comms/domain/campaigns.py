"""Campaigns: one templated SMS to many patients of a clinic."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from ecm_comms.domain.automated_sms import Outcome

MAX_RECIPIENTS = 10_000
MAX_NAME_LENGTH = 200
# Patient ids named in a refusal; the rest are counted.
NAMED_IDS = 2


class CampaignStatus(StrEnum):
    SCHEDULED = "scheduled"  # none handed to the provider yet
    SENDING = "sending"
    COMPLETED = "completed"  # none left scheduled
    CANCELED = "canceled"


@dataclass(kw_only=True, eq=False)
class Campaign:
    clinic_id: int
    name: str
    body: str  # the template, as written
    send_at: datetime | None  # None: as soon as the sending rules allow
    total: int  # recipients
    max_segments: int  # of the rendered messages
    created_by_id: int
    created_at: datetime
    canceled_at: datetime | None = None
    id: int | None = None


@dataclass(frozen=True, slots=True)
class CampaignCounts:
    """Every recipient once, by outcome."""

    scheduled: int = 0
    sent: int = 0
    skipped: int = 0
    failed: int = 0
    canceled: int = 0

    @classmethod
    def of(cls, by_outcome: dict[Outcome, int]) -> CampaignCounts:
        return cls(**{outcome.value: by_outcome.get(outcome, 0) for outcome in Outcome})

    def status(self, campaign: Campaign) -> CampaignStatus:
        if campaign.canceled_at is not None:
            return CampaignStatus.CANCELED
        if self.scheduled == 0:
            return CampaignStatus.COMPLETED
        if self.sent == 0 and self.failed == 0:
            return CampaignStatus.SCHEDULED
        return CampaignStatus.SENDING


@dataclass(frozen=True, slots=True)
class CampaignSummary:
    campaign: Campaign
    counts: CampaignCounts

    @property
    def status(self) -> CampaignStatus:
        return self.counts.status(self.campaign)


@dataclass(frozen=True, slots=True)
class Recipient:
    patient_id: int
    sms_id: int | None
    outcome: Outcome
    skip_reason: str | None


def patients_not_found(missing: list[int]) -> str:
    named = ", ".join(str(i) for i in missing[:NAMED_IDS])
    rest = len(missing) - NAMED_IDS
    return f"Patients not found: {named}" + (f" (and {rest} more)" if rest > 0 else "")
