"""The audit on the in-memory fakes: what counts as checked, each kind of broken link, the
scoping to one clinic, and lines that name ids only."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ecm_comms.adapters.memory import InMemoryAuditViews, InMemoryStore, InMemoryUnitOfWork
from ecm_comms.domain.activities import Activity, Event
from ecm_comms.domain.audit import AuditFindings, AuditProblem, ProblemKind
from ecm_comms.domain.channels import Channel
from ecm_comms.domain.commands import AuditRecord
from ecm_comms.domain.communications import TextMessage, VoiceCall
from ecm_comms.domain.phone_numbers import PhoneNumber
from ecm_comms.domain.sms_bodies import SmsBody
from ecm_comms.domain.use_cases.audit import AuditRecordHandler

AT = datetime(2024, 7, 2, 15, 0, tzinfo=UTC)
PAT_PHONE = PhoneNumber("+18051234567")
CLINIC_LINE = PhoneNumber("+18059876543")
BODY = "Your appointment is at 3pm"


class Record:
    def __init__(self, store: InMemoryStore) -> None:
        self.store = store
        self._sids = 0

    def _sid(self, prefix: str) -> str:
        self._sids += 1
        return f"{prefix}{self._sids:032x}"

    def add(
        self, record: TextMessage | VoiceCall, *, with_activity: bool = True
    ) -> TextMessage | VoiceCall:
        with InMemoryUnitOfWork(self.store) as uow:
            uow.records(record.CHANNEL).add(record)
            if with_activity:
                activity = Activity.for_communication(
                    record, performed_by_id=101, assigned_to_id=101
                )
                uow.activities.add(activity)
                uow.events.add(Event.for_activity(activity))
            uow.commit()
        return record

    def text(self, clinic_id: int = 1, *, sid: bool = True, **options: bool) -> TextMessage:
        message = TextMessage.outbound(
            clinic_id=clinic_id,
            patient_id=clinic_id * 100 + 23,
            to=PAT_PHONE,
            from_=CLINIC_LINE,
            body=SmsBody(BODY),
            sent_by_id=101,
            at=AT,
        )
        message.twilio_sid = self._sid("SM") if sid else None
        self.add(message, **options)
        return message

    def call(self, clinic_id: int = 1, **options: bool) -> VoiceCall:
        call = VoiceCall.outbound(
            clinic_id=clinic_id,
            patient_id=clinic_id * 100 + 23,
            to=PAT_PHONE,
            from_=CLINIC_LINE,
            sent_by_id=101,
            at=AT,
        )
        call.twilio_sid = self._sid("CA")
        self.add(call, **options)
        return call

    def reply(self, *, matched: bool = True, **options: bool) -> TextMessage:
        message = TextMessage.inbound(
            twilio_sid=self._sid("SM"),
            clinic_id=1 if matched else None,
            patient_id=123 if matched else None,
            from_=PAT_PHONE,
            to=CLINIC_LINE,
            body=SmsBody(BODY),
            at=AT,
        )
        self.add(message, **options)
        return message

    def activity_of(self, record: TextMessage | VoiceCall) -> Activity:
        assert record.id is not None
        activity = self.store.activities.for_record(record.CHANNEL, record.id)
        assert activity is not None
        return activity


@pytest.fixture
def store() -> InMemoryStore:
    return InMemoryStore()


@pytest.fixture
def record(store: InMemoryStore) -> Record:
    return Record(store)


def audit(store: InMemoryStore, clinic_id: int | None = None) -> AuditFindings:
    return AuditRecordHandler(InMemoryAuditViews(store))(AuditRecord(clinic_id))


def test_a_healthy_record_has_no_problems_and_counts_what_twilio_accepted(
    store: InMemoryStore, record: Record
) -> None:
    record.text()
    record.call()
    record.reply()
    record.text(sid=False, with_activity=False)  # refused by Twilio: no sid, no activity
    record.reply(matched=False, with_activity=False)  # from a number no patient has

    findings = audit(store)

    assert findings.checked == 3
    assert findings.problems == ()
    assert findings.summary == "checked 3 communications: 0 problems"


def test_an_activity_whose_event_is_gone_is_named(store: InMemoryStore, record: Record) -> None:
    record.text()
    broken = record.call()
    activity = record.activity_of(broken)
    event = store.events.for_activity(activity.id or 0)
    assert event is not None
    del store.events.rows[event.id or 0]

    findings = audit(store)

    assert [p.line for p in findings.problems] == [
        f"activity {activity.id} (call {broken.id}): has 0 events (expected 1)"
    ]


def test_an_accepted_communication_without_an_activity(
    store: InMemoryStore, record: Record
) -> None:
    bare = record.text(with_activity=False)
    reply = record.reply(with_activity=False)

    problems = audit(store).problems

    assert problems == (
        AuditProblem(ProblemKind.ACTIVITIES, Channel.SMS, record_id=bare.id, found=0),
        AuditProblem(ProblemKind.ACTIVITIES, Channel.SMS, record_id=reply.id, found=0),
    )
    assert problems[0].line == f"sms {bare.id}: accepted, has 0 activities (expected 1)"


def test_an_activity_without_its_communication(store: InMemoryStore, record: Record) -> None:
    text = record.text()
    activity = record.activity_of(text)
    activity.text_message_id = None
    call = record.call()
    assert call.id is not None
    del store.calls.rows[call.id]
    orphan = record.activity_of(call)

    lines = [p.line for p in audit(store).problems]

    assert lines == [
        f"sms {text.id}: accepted, has 0 activities (expected 1)",
        f"activity {activity.id}: names no sms",
        f"activity {orphan.id}: its call {call.id} does not exist",
    ]


def test_an_event_without_its_activity(store: InMemoryStore, record: Record) -> None:
    text = record.text()
    activity = record.activity_of(text)
    event = store.events.for_activity(activity.id or 0)
    assert event is not None
    del store.activities.rows[activity.id or 0]

    lines = [p.line for p in audit(store).problems]

    assert lines == [
        f"sms {text.id}: accepted, has 0 activities (expected 1)",
        f"event {event.id}: its activity {activity.id} does not exist",
    ]


def test_several_events_of_one_activity(store: InMemoryStore, record: Record) -> None:
    text = record.text()
    activity = record.activity_of(text)
    with InMemoryUnitOfWork(store) as uow:
        uow.events.add(Event.for_activity(activity))
        uow.commit()

    (problem,) = audit(store).problems

    assert problem.line == f"activity {activity.id} (sms {text.id}): has 2 events (expected 1)"


def test_one_clinic_at_a_time(store: InMemoryStore, record: Record) -> None:
    record.text(clinic_id=1)
    record.text(clinic_id=2, with_activity=False)
    record.call(clinic_id=2)

    mine, theirs, everyone = audit(store, 1), audit(store, 2), audit(store)

    assert (mine.checked, len(mine.problems)) == (1, 0)
    assert (theirs.checked, len(theirs.problems)) == (2, 1)
    assert (everyone.checked, len(everyone.problems)) == (3, 1)


def test_lines_name_ids_only(store: InMemoryStore, record: Record) -> None:
    for _ in range(3):
        record.text(with_activity=False)
        record.activity_of(record.call()).voice_call_id = None

    findings = audit(store)
    output = "\n".join([findings.summary, *(p.line for p in findings.problems)])

    assert len(findings.problems) == 9
    assert BODY not in output
    assert PAT_PHONE.e164[-7:] not in output
    assert CLINIC_LINE.e164[-7:] not in output
