"""One transaction over the communication records, and the repositories inside it."""

from __future__ import annotations

import abc
from collections.abc import Collection, Sequence
from datetime import datetime
from types import TracebackType
from typing import Any, Protocol, Self, TypeVar

from ecm_comms.domain.activities import Activity, Event
from ecm_comms.domain.automated_sms import AutomatedSms
from ecm_comms.domain.campaigns import Campaign
from ecm_comms.domain.channels import Channel
from ecm_comms.domain.communications import StatusReport, TextMessage, VoiceCall
from ecm_comms.domain.consent import ConsentEntry
from ecm_comms.domain.phone_numbers import PhoneNumber

Record = TypeVar("Record", TextMessage, VoiceCall)


class CommunicationRepository(Protocol[Record]):
    """The SMS (``uow.messages``) or the calls (``uow.calls``)."""

    def add(self, record: Record) -> None:
        """Store the record and set its ``id``."""

    def add_if_new(self, record: Record) -> bool:
        """Store the record unless one with its ``twilio_sid`` exists; True if stored.

        Safe under concurrency: duplicates are refused by the database, not by a prior check.
        """

    def get(self, record_id: int) -> Record | None: ...

    def get_by_sid(self, sid: str) -> Record | None: ...

    def lock(self, *, sid: str | None = None, record_id: int | None = None) -> Record | None:
        """The record with this sid, or else the one with this id that has no sid yet, locked
        for update until the end of the transaction."""

    def update(self, record: Record) -> None:
        """Write back the record's status, sid, sender, duration and error."""

    def update_unsent(self, record: Record) -> bool:
        """``update`` an outbound record that has no sid on record yet; False, and nothing
        written, when it has one: a status callback completed it meanwhile (see ApplyStatus).

        Safe under concurrency: the database decides, as it writes, not a prior read.
        """


class TextMessageRepository(CommunicationRepository[TextMessage], Protocol):
    def add_unless_opted_out(self, message: TextMessage, clinic_id: int | None) -> bool:
        """``add`` an outbound SMS unless its recipient has opted out of SMS from this clinic
        (None: the shared number); False, and nothing stored, if they have. The check and the
        insert are one step."""

    def add_many(self, messages: Sequence[TextMessage]) -> None:
        """``add`` each (no opt-out check: the caller has decided), in one round trip where
        the database allows."""


VoiceCallRepository = CommunicationRepository[VoiceCall]


class ActivityRepository(Protocol):
    def add(self, activity: Activity) -> None:
        """Store the activity and set its ``id``."""

    def for_record(self, channel: Channel, record_id: int) -> Activity | None: ...

    def last_performer(self, patient_id: int) -> int | None:
        """The user who most recently reached out to the patient, if any did."""


class EventRepository(Protocol):
    def add(self, event: Event) -> None:
        """Store the event and set its ``id``."""

    def for_activity(self, activity_id: int) -> Event | None: ...


class ConsentLedger(Protocol):
    def append(self, entry: ConsentEntry) -> None:
        """Keep the entry; entries are never changed or removed."""

    def opted_out(self, phones: Collection[PhoneNumber], clinic_id: int | None) -> set[PhoneNumber]:
        """Those of ``phones`` whose latest entry with this clinic (None: the shared number) is
        an opt-out."""


class AutomatedSmsRepository(Protocol):
    """Scheduled and campaign SMS, as the worker tracks them (``uow.automated``)."""

    def add_many(self, sends: Sequence[AutomatedSms]) -> None:
        """Store each and set its ``id``."""

    def lock(self, automated_sms_id: int) -> AutomatedSms | None:
        """The one with this id, locked for update until the end of the transaction."""

    def lock_by_sms(self, sms_id: int) -> AutomatedSms | None:
        """The one of this SMS, locked for update until the end of the transaction."""

    def update(self, send: AutomatedSms) -> None:
        """Write back its outcome, skip reason, due time, attempts and hand-over time."""

    def hold_patient(self, patient_id: int) -> None:
        """Until the end of the transaction, no other transaction gets past ``hold_patient``
        for this patient: their frequency caps are checked and used one sender at a time."""

    def handed_since(self, patient_id: int, since: datetime) -> list[datetime]:
        """When the patient's automated SMS handed to the provider since ``since`` were handed
        (those the provider refused at once do not count)."""

    def take_due(self, now: datetime, lease_expired_before: datetime, limit: int) -> list[int]:
        """Up to ``limit`` ids of scheduled ones due by ``now`` that are on no queue: never
        dispatched, or dispatched before ``lease_expired_before`` (their worker died). They are
        marked dispatched at ``now``; concurrent callers get different ones."""

    def cancel_campaign(self, campaign_id: int, at: datetime) -> int:
        """Cancel every scheduled one of the campaign, and their SMS; how many were."""


class CampaignRepository(Protocol):
    def add(self, campaign: Campaign) -> None:
        """Store the campaign and set its ``id``."""

    def lock(self, campaign_id: int, clinic_id: int) -> Campaign | None:
        """The clinic's campaign with this id, locked for update; None for another clinic's."""

    def update(self, campaign: Campaign) -> None:
        """Write back its cancellation."""


class StatusLog(Protocol):
    def append(self, report: StatusReport) -> bool:
        """Keep the report unless one for the same (channel, sid, status) is kept; True if new."""


class ContactHistory(Protocol):
    def most_recently_contacted(self, patient_ids: Sequence[int], phone: PhoneNumber) -> int | None:
        """Of these patients, the one with the latest SMS or call at ``phone``, if any has one."""


class UnitOfWork(abc.ABC):
    """``with uow: ...; uow.commit()``; leaving the block without commit rolls back."""

    messages: TextMessageRepository
    calls: VoiceCallRepository
    activities: ActivityRepository
    events: EventRepository
    consent: ConsentLedger
    automated: AutomatedSmsRepository
    campaigns: CampaignRepository
    status_log: StatusLog
    contacts: ContactHistory

    def records(self, channel: Channel) -> CommunicationRepository[Any]:
        """The SMS or the calls: what the use cases that treat both alike write to."""
        return self.messages if channel is Channel.SMS else self.calls

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.rollback()

    @abc.abstractmethod
    def commit(self) -> None: ...

    @abc.abstractmethod
    def rollback(self) -> None: ...
