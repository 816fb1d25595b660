from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime
from typing import TypeVar

from ecm_comms.adapters.memory.unit_of_work import InMemoryStore
from ecm_comms.domain.activities import Activity, Event
from ecm_comms.domain.audit import AuditFindings, AuditProblem, ProblemKind
from ecm_comms.domain.campaigns import CampaignCounts, CampaignSummary, Recipient
from ecm_comms.domain.channels import Channel, Direction
from ecm_comms.domain.communications import TextMessage, VoiceCall
from ecm_comms.domain.consent import Consent
from ecm_comms.domain.ecm_records import ActivityEntry, ActivityFilters, EventFilters, PageRequest
from ecm_comms.domain.history import HistoryItem, Position
from ecm_comms.domain.phone_numbers import PhoneNumber
from ecm_comms.domain.reporting import EventRow
from ecm_comms.ports.directories import PatientDirectory, UserDirectory

Row = TypeVar("Row")


class InMemoryCommunicationViews:
    """``CommunicationViews`` over the committed records of an ``InMemoryStore``."""

    def __init__(self, store: InMemoryStore) -> None:
        self._store = store

    def find(self, channel: Channel, record_id: int) -> HistoryItem | None:
        records = self._store.messages if channel is Channel.SMS else self._store.calls
        record = records.get(record_id)
        return None if record is None else self._item(record)

    def history(self, patient_id: int, limit: int, after: Position | None) -> list[HistoryItem]:
        items = [self._item(r) for r in self._store.records() if r.patient_id == patient_id]
        items.sort(key=_order, reverse=True)
        if after is not None:
            items = [i for i in items if _order(i) < _order_of(after)]
        return items[:limit]

    def _item(self, record: TextMessage | VoiceCall) -> HistoryItem:
        assert record.id is not None
        return HistoryItem(record, self._store.activities.for_record(record.CHANNEL, record.id))


class InMemoryConsentViews:
    """``ConsentViews`` over the committed ledger of an ``InMemoryStore``."""

    def __init__(self, store: InMemoryStore) -> None:
        self._store = store

    def consent(self, phone: PhoneNumber, clinic_id: int | None) -> Consent:
        return self._store.consent.consent(phone, clinic_id)


class InMemoryReportViews:
    """``ReportViews`` over the committed records of an ``InMemoryStore``; given directories, its
    rows carry the Member CIN and the users' names, as the SQL view's do."""

    def __init__(
        self,
        store: InMemoryStore,
        patients: PatientDirectory | None = None,
        users: UserDirectory | None = None,
    ) -> None:
        self._store = store
        self._patients = patients
        self._users = users

    def events(self, clinic_id: int, since: datetime, until: datetime) -> Iterator[EventRow]:
        events = [
            e
            for e in self._store.events.rows.values()
            if e.clinic_id == clinic_id and since <= e.occurred_at < until
        ]
        for event in sorted(events, key=lambda e: (e.occurred_at, e.id or 0)):
            row = _event_row(self._store, event)
            yield replace(
                row,
                member_id=self._member_id(event.patient_id, event.clinic_id),
                performed_by_name=self._name(row.performed_by_id),
                assigned_to_name=self._name(row.assigned_to_id),
            )

    def _member_id(self, patient_id: int, clinic_id: int) -> str | None:
        patient = self._patients.find(patient_id, clinic_id) if self._patients else None
        return patient.member_id if patient else None

    def _name(self, user_id: int | None) -> str | None:
        user = self._users.get(user_id) if self._users and user_id is not None else None
        return user.name if user else None


class InMemoryActivityViews:
    """``ActivityViews`` over the committed records of an ``InMemoryStore``."""

    def __init__(self, store: InMemoryStore) -> None:
        self._store = store

    def activities(
        self, patient_id: int, clinic_id: int, filters: ActivityFilters, page: PageRequest
    ) -> tuple[list[ActivityEntry], int]:
        matching = [
            a
            for a in self._store.activities.rows.values()
            if a.patient_id == patient_id
            and a.clinic_id == clinic_id
            and filters.activity_type in (None, a.activity_type)
            and filters.assigned_to_id in (None, a.assigned_to_id)
            and filters.status in (None, a.status)
        ]
        matching.sort(key=lambda a: (a.created_at, a.id or 0), reverse=True)
        return [self._entry(a) for a in _page(matching, page)], len(matching)

    def events(
        self, patient_id: int, clinic_id: int, filters: EventFilters, page: PageRequest
    ) -> tuple[list[EventRow], int]:
        matching = [
            e
            for e in self._store.events.rows.values()
            if e.patient_id == patient_id
            and e.clinic_id == clinic_id
            and filters.event_type in (None, e.event_type)
            and (filters.since is None or filters.since <= e.occurred_at)
            and (filters.until is None or e.occurred_at < filters.until)
        ]
        matching.sort(key=lambda e: (e.occurred_at, e.id or 0), reverse=True)
        return [_event_row(self._store, e) for e in _page(matching, page)], len(matching)

    def _entry(self, activity: Activity) -> ActivityEntry:
        assert activity.id is not None
        record = _record_of(self._store, activity)
        event = self._store.events.for_activity(activity.id)
        return ActivityEntry(
            activity=activity,
            direction=record.direction,
            body=record.body.text if isinstance(record, TextMessage) else None,
            occurred_at=event.occurred_at if event is not None else activity.created_at,
        )


class InMemoryCampaignViews:
    """``CampaignViews`` over the committed records of an ``InMemoryStore``."""

    def __init__(self, store: InMemoryStore) -> None:
        self._store = store

    def campaign(self, campaign_id: int, clinic_id: int) -> CampaignSummary | None:
        campaign = self._store.campaigns.get(campaign_id)
        if campaign is None or campaign.clinic_id != clinic_id:
            return None
        outcomes = Counter(
            s.outcome for s in self._store.automated.rows.values() if s.campaign_id == campaign_id
        )
        return CampaignSummary(campaign, CampaignCounts.of(dict(outcomes)))

    def recipients(
        self, campaign_id: int, clinic_id: int, page: PageRequest
    ) -> tuple[list[Recipient], int]:
        sends = [
            s
            for s in self._store.automated.rows.values()
            if s.campaign_id == campaign_id and s.clinic_id == clinic_id
        ]
        sends.sort(key=lambda s: s.id or 0)
        return [
            Recipient(s.patient_id, s.sms_id, s.outcome, s.skip_reason) for s in _page(sends, page)
        ], len(sends)


def _page(items: list[Row], page: PageRequest) -> list[Row]:
    return items[page.offset : page.offset + page.size]


def _record_of(store: InMemoryStore, activity: Activity) -> TextMessage | VoiceCall:
    record: TextMessage | VoiceCall | None = (
        store.messages.get(activity.text_message_id)
        if activity.text_message_id is not None
        else store.calls.get(activity.voice_call_id or 0)
    )
    assert record is not None
    return record


def _event_row(store: InMemoryStore, event: Event) -> EventRow:
    activity = store.activities.rows[event.activity_id]
    record = _record_of(store, activity)
    assert event.id is not None
    return EventRow(
        event_id=event.id,
        activity_id=event.activity_id,
        patient_id=event.patient_id,
        channel=event.event_type,
        direction=record.direction,
        status=str(record.status),
        duration_seconds=record.duration_seconds if isinstance(record, VoiceCall) else None,
        occurred_at=event.occurred_at,
        performed_by_id=activity.performed_by_id,
        assigned_to_id=activity.assigned_to_id,
    )


class InMemoryAuditViews:
    """``AuditViews`` over the committed records of an ``InMemoryStore``."""

    def __init__(self, store: InMemoryStore) -> None:
        self._store = store

    def audit(self, clinic_id: int | None) -> AuditFindings:
        store = self._store

        def in_scope(row: TextMessage | VoiceCall | Activity | Event) -> bool:
            return clinic_id is None or row.clinic_id == clinic_id

        activities = [a for a in store.activities.rows.values() if in_scope(a)]
        accepted = [
            r
            for r in store.records()
            if (r.twilio_sid is not None or r.direction is Direction.INBOUND)
            and r.patient_id is not None
            and in_scope(r)
        ]
        problems: list[AuditProblem] = []
        for record in accepted:
            found = sum(1 for a in store.activities.rows.values() if _names(a, record))
            if found != 1:
                problems.append(
                    AuditProblem(
                        ProblemKind.ACTIVITIES, record.CHANNEL, record_id=record.id, found=found
                    )
                )
        for activity in activities:
            channel, record_id = _link_of(activity)
            found = sum(1 for e in store.events.rows.values() if e.activity_id == activity.id)
            if found != 1:
                problems.append(
                    AuditProblem(
                        ProblemKind.EVENTS, channel, record_id, activity_id=activity.id, found=found
                    )
                )
            records = store.messages if channel is Channel.SMS else store.calls
            if record_id is None or records.get(record_id) is None:
                problems.append(
                    AuditProblem(
                        ProblemKind.ACTIVITY_WITHOUT_COMMUNICATION,
                        channel,
                        record_id,
                        activity_id=activity.id,
                    )
                )
        for event in store.events.rows.values():
            if in_scope(event) and event.activity_id not in store.activities.rows:
                problems.append(
                    AuditProblem(
                        ProblemKind.EVENT_WITHOUT_ACTIVITY,
                        event_id=event.id,
                        activity_id=event.activity_id,
                    )
                )
        return AuditFindings(len(accepted), tuple(problems))


def _names(activity: Activity, record: TextMessage | VoiceCall) -> bool:
    is_sms = record.CHANNEL is Channel.SMS
    return (activity.text_message_id if is_sms else activity.voice_call_id) == record.id


def _link_of(activity: Activity) -> tuple[Channel, int | None]:
    channel = activity.activity_type
    return channel, activity.text_message_id if channel is Channel.SMS else activity.voice_call_id


def _order(item: HistoryItem) -> tuple[datetime, str, int]:
    return _order_of(Position.of(item))


def _order_of(position: Position) -> tuple[datetime, str, int]:
    return (position.created_at, position.channel.value, position.record_id)
