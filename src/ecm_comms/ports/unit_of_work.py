"""One transaction over the communication records, and the repositories inside it."""

from __future__ import annotations

import abc
from collections.abc import Sequence
from types import TracebackType
from typing import Any, Protocol, Self, TypeVar

from ecm_comms.domain.activities import Activity, Event
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
