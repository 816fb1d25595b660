from __future__ import annotations

import copy
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import datetime
from typing import Generic, Protocol, Self, TypeVar

from ecm_comms.domain.activities import Activity, Event
from ecm_comms.domain.automated_sms import AutomatedSms, Outcome
from ecm_comms.domain.campaigns import Campaign
from ecm_comms.domain.channels import Channel
from ecm_comms.domain.communications import StatusReport, TextMessage, VoiceCall
from ecm_comms.domain.consent import Consent, ConsentEntry
from ecm_comms.domain.phone_numbers import PhoneNumber
from ecm_comms.ports.unit_of_work import Record, UnitOfWork


class _Identified(Protocol):
    id: int | None


Row = TypeVar("Row", bound=_Identified)


class InMemoryTable(Generic[Row]):
    """Rows by id, with ids handed out in order as a database sequence would."""

    def __init__(self) -> None:
        self.rows: dict[int, Row] = {}
        self._last_id = 0

    def add(self, row: Row) -> None:
        self._last_id += 1
        row.id = self._last_id
        # A copy, as a database keeps: the caller changing its object later changes nothing
        # here until it writes the change back in a unit of work of its own.
        self.rows[self._last_id] = copy.deepcopy(row)

    def get(self, row_id: int) -> Row | None:
        return self.rows.get(row_id)


class InMemoryCommunications(InMemoryTable[Record]):
    def add_if_new(self, record: Record) -> bool:
        if record.twilio_sid is not None and self.get_by_sid(record.twilio_sid) is not None:
            return False
        self.add(record)
        return True

    def get_by_sid(self, sid: str) -> Record | None:
        return next((r for r in self.rows.values() if r.twilio_sid == sid), None)

    def lock(self, *, sid: str | None = None, record_id: int | None = None) -> Record | None:
        if sid is not None and (found := self.get_by_sid(sid)) is not None:
            return found
        record = self.rows.get(record_id) if record_id is not None else None
        return record if record is not None and record.twilio_sid is None else None

    def update(self, record: Record) -> None:
        assert record.id is not None
        self.rows[record.id] = copy.deepcopy(record)  # a copy, as ``add`` keeps

    def update_unsent(self, record: Record) -> bool:
        assert record.id is not None
        stored = self.rows.get(record.id)
        if stored is None or stored.twilio_sid is not None:
            return False
        self.update(record)
        return True


class InMemoryActivities(InMemoryTable[Activity]):
    def for_record(self, channel: Channel, record_id: int) -> Activity | None:
        def links(a: Activity) -> bool:
            linked = a.text_message_id if channel is Channel.SMS else a.voice_call_id
            return linked == record_id

        return next((a for a in self.rows.values() if links(a)), None)

    def last_performer(self, patient_id: int) -> int | None:
        performed = [
            a for a in self.rows.values() if a.patient_id == patient_id and a.performed_by_id
        ]
        latest = max(performed, key=lambda a: (a.created_at, a.id or 0), default=None)
        return latest.performed_by_id if latest else None


class InMemoryEvents(InMemoryTable[Event]):
    def for_activity(self, activity_id: int) -> Event | None:
        return next((e for e in self.rows.values() if e.activity_id == activity_id), None)


@dataclass
class InMemoryConsentLedger:
    entries: list[ConsentEntry] = field(default_factory=list)

    def append(self, entry: ConsentEntry) -> None:
        self.entries.append(replace(entry, id=len(self.entries) + 1))

    def consent(self, phone: PhoneNumber, clinic_id: int | None) -> Consent:
        mine = [e for e in self.entries if e.phone == phone and e.clinic_id == clinic_id]
        return Consent(phone, tuple(reversed(mine)))

    def opted_out(self, phones: Collection[PhoneNumber], clinic_id: int | None) -> set[PhoneNumber]:
        return {phone for phone in phones if self.consent(phone, clinic_id).sms_opted_out}


class InMemoryTextMessages(InMemoryCommunications[TextMessage]):
    def __init__(self, consent: InMemoryConsentLedger) -> None:
        super().__init__()
        self.consent = consent

    def add_unless_opted_out(self, message: TextMessage, clinic_id: int | None) -> bool:
        if self.consent.consent(message.to, clinic_id).sms_opted_out:
            return False
        self.add(message)
        return True

    def add_many(self, messages: Sequence[TextMessage]) -> None:
        for message in messages:
            self.add(message)


class InMemoryAutomatedSms(InMemoryTable[AutomatedSms]):
    """Automated SMS; canceling a campaign's cancels their SMS in ``messages`` too."""

    def __init__(self, messages: InMemoryTextMessages) -> None:
        super().__init__()
        self.messages = messages

    def add_many(self, sends: Sequence[AutomatedSms]) -> None:
        for send in sends:
            self.add(send)

    def lock(self, automated_sms_id: int) -> AutomatedSms | None:
        # A copy, as a database row read is: a change not written back with ``update`` is lost.
        return copy.deepcopy(self.rows.get(automated_sms_id))

    def lock_by_sms(self, sms_id: int) -> AutomatedSms | None:
        found = next((s for s in self.rows.values() if s.sms_id == sms_id), None)
        return copy.deepcopy(found)

    def update(self, send: AutomatedSms) -> None:
        assert send.id is not None
        self.rows[send.id] = copy.deepcopy(send)

    def hold_patient(self, patient_id: int) -> None:
        """Nothing to wait for: no other unit of work changes the store meanwhile."""

    def handed_since(self, patient_id: int, since: datetime) -> list[datetime]:
        return sorted(
            s.handed_at
            for s in self.rows.values()
            if s.patient_id == patient_id
            and s.outcome is Outcome.SENT
            and s.handed_at is not None
            and s.handed_at >= since
        )

    def take_due(self, now: datetime, lease_expired_before: datetime, limit: int) -> list[int]:
        due = sorted(
            (
                s
                for s in self.rows.values()
                if s.is_scheduled
                and s.due_at <= now
                and (s.dispatched_at is None or s.dispatched_at < lease_expired_before)
            ),
            key=lambda s: (s.due_at, s.id or 0),
        )[:limit]
        for send in due:
            send.dispatched_at = now
        return [send.id for send in due if send.id is not None]

    def cancel_campaign(self, campaign_id: int, at: datetime) -> int:
        canceled = [
            s for s in self.rows.values() if s.campaign_id == campaign_id and s.is_scheduled
        ]
        for send in canceled:
            send.cancel()
            message = self.messages.get(send.sms_id) if send.sms_id is not None else None
            if message is not None and message.is_scheduled:
                message.cancel(at)
        return len(canceled)


class InMemoryCampaigns(InMemoryTable[Campaign]):
    def lock(self, campaign_id: int, clinic_id: int) -> Campaign | None:
        found = self.rows.get(campaign_id)
        return copy.deepcopy(found) if found is not None and found.clinic_id == clinic_id else None

    def update(self, campaign: Campaign) -> None:
        assert campaign.id is not None
        self.rows[campaign.id].canceled_at = campaign.canceled_at  # all that may change


@dataclass
class InMemoryStatusLog:
    reports: list[StatusReport] = field(default_factory=list)

    def append(self, report: StatusReport) -> bool:
        key = (report.channel, report.twilio_sid, report.status)
        if any((r.channel, r.twilio_sid, r.status) == key for r in self.reports):
            return False
        self.reports.append(report)
        return True


@dataclass
class InMemoryStore:
    """The committed records, shared by every unit of work built on it."""

    consent: InMemoryConsentLedger = field(default_factory=InMemoryConsentLedger)
    messages: InMemoryTextMessages = field(init=False)
    calls: InMemoryCommunications[VoiceCall] = field(default_factory=InMemoryCommunications)
    activities: InMemoryActivities = field(default_factory=InMemoryActivities)
    events: InMemoryEvents = field(default_factory=InMemoryEvents)
    status_log: InMemoryStatusLog = field(default_factory=InMemoryStatusLog)
    automated: InMemoryAutomatedSms = field(init=False)
    campaigns: InMemoryCampaigns = field(default_factory=InMemoryCampaigns)

    def __post_init__(self) -> None:
        # The messages see the consent of the same store, and the automated SMS its messages
        # (deepcopy keeps them together).
        self.messages = InMemoryTextMessages(self.consent)
        self.automated = InMemoryAutomatedSms(self.messages)

    def records(self) -> list[TextMessage | VoiceCall]:
        return [*self.messages.rows.values(), *self.calls.rows.values()]


class InMemoryContacts:
    """Reads across a store's SMS and calls."""

    def __init__(self, store: InMemoryStore) -> None:
        self._store = store

    def most_recently_contacted(self, patient_ids: Sequence[int], phone: PhoneNumber) -> int | None:
        at_phone = [
            r
            for r in self._store.records()
            if r.patient_id in patient_ids and phone in (r.to, r.from_)
        ]
        latest = max(at_phone, key=lambda r: r.created_at, default=None)
        return latest.patient_id if latest else None


class InMemoryUnitOfWork(UnitOfWork):
    """Works on a copy of the store and publishes it on commit, so a rollback discards it all."""

    def __init__(self, store: InMemoryStore | None = None) -> None:
        self.store = store if store is not None else InMemoryStore()
        self.committed = False

    def __enter__(self) -> Self:
        self.committed = False
        self._start_from_store()
        return self

    def commit(self) -> None:
        for name in (f.name for f in fields(self.store)):
            setattr(self.store, name, getattr(self._working, name))
        self.committed = True
        self._start_from_store()

    def rollback(self) -> None:
        self._start_from_store()

    def _start_from_store(self) -> None:
        self._working = copy.deepcopy(self.store)
        self.messages = self._working.messages
        self.calls = self._working.calls
        self.activities = self._working.activities
        self.events = self._working.events
        self.consent = self._working.consent
        self.status_log = self._working.status_log
        self.automated = self._working.automated
        self.campaigns = self._working.campaigns
        self.contacts = InMemoryContacts(self._working)
