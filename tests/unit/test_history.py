"""Reading the record: one SMS, one call, and a patient's history, newest first, in pages."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from ecm_comms.adapters.memory import (
    FakeGateway,
    FixedClock,
    InMemoryClinicDirectory,
    InMemoryCommunicationViews,
    InMemoryPatientDirectory,
    InMemoryStore,
    InMemoryUnitOfWork,
    InMemoryUserDirectory,
)
from ecm_comms.domain.channels import Channel, Direction
from ecm_comms.domain.commands import (
    GetCommunication,
    InitiateCall,
    ListCommunications,
    RecordInboundCall,
    RecordInboundSms,
    SendSms,
)
from ecm_comms.domain.communications import TextMessage, VoiceCall
from ecm_comms.domain.errors import (
    CommunicationFailed,
    GatewayError,
    InvalidInput,
    PatientNotFound,
    RecordNotFound,
)
from ecm_comms.domain.history import HistoryItem, HistoryPage, Position
from ecm_comms.domain.people import Patient, User
from ecm_comms.domain.phone_numbers import PhoneNumber
from ecm_comms.domain.sms_bodies import SmsBody
from ecm_comms.domain.use_cases.history import GetCommunicationHandler, ListCommunicationsHandler
from ecm_comms.domain.use_cases.initiate_call import InitiateCallHandler
from ecm_comms.domain.use_cases.record_inbound import (
    RecordInboundCallHandler,
    RecordInboundSmsHandler,
)
from ecm_comms.domain.use_cases.send_sms import SendSmsHandler

DANA = User(id=101, clinic_id=1, name="Dana Coordinator")
SAM = User(id=201, clinic_id=2, name="Sam Otherclinic")
CLINIC_LINE = PhoneNumber("+18059876543")
PAT_PHONE = PhoneNumber("+18051234567")
KIM_PHONE = PhoneNumber("+18055550124")
STRANGER = PhoneNumber("+18055550999")
PAT = Patient(id=123, clinic_id=1, phones=(PAT_PHONE,), coordinator_id=DANA.id)
KIM = Patient(id=124, clinic_id=1, phones=(KIM_PHONE,), coordinator_id=DANA.id)
THEIRS = Patient(id=456, clinic_id=2, phones=(PhoneNumber("+18055550456"),))
SOME_TIME = datetime(2024, 11, 27, 10, 0, tzinfo=UTC)


@dataclass
class Clinic:
    """A store and the handlers that fill it, with a clock that moves a minute per contact."""

    store: InMemoryStore
    gateway: FakeGateway
    clock: FixedClock
    patients: InMemoryPatientDirectory
    step: timedelta = timedelta(minutes=1)
    _sids: int = 0

    def _uow(self) -> InMemoryUnitOfWork:
        return InMemoryUnitOfWork(self.store)

    def _tick(self) -> None:
        self.clock.advance(self.step)

    def _sid(self, prefix: str) -> str:
        self._sids += 1
        return f"{prefix}{self._sids:032x}"

    def text(self, patient: Patient = PAT, user: User = DANA) -> TextMessage:
        self._tick()
        send = SendSmsHandler(
            self._uow(), self.patients, InMemoryClinicDirectory(), self.gateway, self.clock
        )
        return send(SendSms(patient.id, patient.phones[0].e164, "Hello", user)).message

    def texts_on_record(self, count: int, patient: Patient = PAT) -> None:
        """``count`` SMS put straight on record, a minute apart, in one transaction."""
        with self._uow() as uow:
            for _ in range(count):
                self._tick()
                uow.messages.add(
                    TextMessage.outbound(
                        clinic_id=patient.clinic_id,
                        patient_id=patient.id,
                        to=patient.phones[0],
                        from_=CLINIC_LINE,
                        body=SmsBody("Hello"),
                        sent_by_id=DANA.id,
                        at=self.clock.now(),
                    )
                )
            uow.commit()

    def refused_text(self, patient: Patient = PAT) -> TextMessage:
        self.gateway.fail_next(GatewayError("The 'To' number is not valid", code=21211))
        with pytest.raises(CommunicationFailed):
            self.text(patient)
        return list(self.store.messages.rows.values())[-1]

    def call(self, patient: Patient = PAT, user: User = DANA) -> VoiceCall:
        self._tick()
        initiate = InitiateCallHandler(
            self._uow(), self.patients, InMemoryClinicDirectory(), self.gateway, self.clock
        )
        return initiate(InitiateCall(patient.id, patient.phones[0].e164, user)).call

    def reply(self, phone: PhoneNumber = PAT_PHONE) -> TextMessage:
        self._tick()
        record = RecordInboundSmsHandler(
            self._uow(), self.patients, InMemoryClinicDirectory(), self.clock
        )
        recorded = record(RecordInboundSms(self._sid("SM"), phone.e164, CLINIC_LINE.e164, "Hi"))
        assert isinstance(recorded.record, TextMessage)
        return recorded.record

    def call_in(self, phone: PhoneNumber = PAT_PHONE) -> VoiceCall:
        self._tick()
        record = RecordInboundCallHandler(
            self._uow(),
            self.patients,
            InMemoryClinicDirectory(),
            InMemoryUserDirectory(),
            self.clock,
        )
        recorded = record(
            RecordInboundCall(self._sid("CA"), phone.e164, CLINIC_LINE.e164, "ringing")
        )
        assert isinstance(recorded.record, VoiceCall)
        return recorded.record

    def get_sms(self, sms_id: int | None, user: User = DANA) -> TextMessage:
        assert sms_id is not None
        found = self.read(Channel.SMS, sms_id, user).record
        assert isinstance(found, TextMessage)
        return found

    def read(self, channel: Channel, record_id: int, user: User = DANA) -> HistoryItem:
        views = InMemoryCommunicationViews(self.store)
        return GetCommunicationHandler(views)(GetCommunication(channel, record_id, user))

    def history(
        self,
        patient: Patient = PAT,
        user: User = DANA,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> HistoryPage:
        handler = ListCommunicationsHandler(InMemoryCommunicationViews(self.store), self.patients)
        return handler(ListCommunications(patient.id, user, limit=limit, cursor=cursor))

    def all_pages(self, limit: int, patient: Patient = PAT) -> list[HistoryPage]:
        pages = [self.history(patient, limit=limit)]
        while pages[-1].next_cursor is not None:
            assert len(pages) <= 1000, "paging does not end"
            pages.append(self.history(patient, limit=limit, cursor=pages[-1].next_cursor))
        return pages


@pytest.fixture
def clinic(gateway: FakeGateway, clock: FixedClock) -> Clinic:
    return Clinic(InMemoryStore(), gateway, clock, InMemoryPatientDirectory((PAT, KIM, THEIRS)))


def keys(page: HistoryPage) -> list[tuple[Channel, int | None]]:
    return [(item.channel, item.record.id) for item in page.items]


def key(record: TextMessage | VoiceCall) -> tuple[Channel, int | None]:
    return (Channel.SMS if isinstance(record, TextMessage) else Channel.CALL, record.id)


# One SMS.


def test_an_sms_is_read_with_its_activity(clinic: Clinic) -> None:
    message = clinic.text()
    assert message.id is not None

    found = clinic.read(Channel.SMS, message.id)

    assert (found.record.id, found.record.twilio_sid) == (message.id, message.twilio_sid)
    assert found.activity is not None
    assert found.activity.text_message_id == message.id


def test_a_refused_sms_is_read_without_an_activity(clinic: Clinic) -> None:
    message = clinic.refused_text()
    assert message.id is not None

    found = clinic.read(Channel.SMS, message.id)

    assert (found.record.error_code, found.activity) == (21211, None)


def test_an_inbound_sms_is_read_by_its_patients_clinic(clinic: Clinic) -> None:
    reply = clinic.reply()

    assert clinic.get_sms(reply.id).direction is Direction.INBOUND


def test_another_clinics_sms_is_not_found(clinic: Clinic) -> None:
    message = clinic.text()

    with pytest.raises(RecordNotFound) as refused:
        clinic.get_sms(message.id, user=SAM)

    assert refused.value.messages == ["Not found"]


def test_an_unmatched_sms_is_not_found(clinic: Clinic) -> None:
    unmatched = clinic.reply(STRANGER)

    with pytest.raises(RecordNotFound):
        clinic.get_sms(unmatched.id)


def test_an_unknown_sms_is_not_found(clinic: Clinic) -> None:
    with pytest.raises(RecordNotFound):
        clinic.get_sms(999)


def test_a_call_id_does_not_read_an_sms(clinic: Clinic) -> None:
    clinic.text()
    call = clinic.call()
    assert call.id == 1

    found = clinic.get_sms(call.id)  # SMS 1 exists as well: the id is the SMS's, not the call's

    assert isinstance(found, TextMessage)


# One call.


def test_a_call_is_read_with_its_activity(clinic: Clinic) -> None:
    call = clinic.call()
    assert call.id is not None

    found = clinic.read(Channel.CALL, call.id)

    assert (found.record.id, found.record.twilio_sid) == (call.id, call.twilio_sid)
    assert found.activity is not None
    assert found.activity.voice_call_id == call.id


def test_another_clinics_call_is_not_found(clinic: Clinic) -> None:
    call = clinic.call()
    assert call.id is not None

    with pytest.raises(RecordNotFound):
        clinic.read(Channel.CALL, call.id, SAM)


def test_an_unmatched_call_is_not_found(clinic: Clinic) -> None:
    unmatched = clinic.call_in(STRANGER)
    assert unmatched.id is not None

    with pytest.raises(RecordNotFound):
        clinic.read(Channel.CALL, unmatched.id)


def test_an_unknown_call_is_not_found(clinic: Clinic) -> None:
    with pytest.raises(RecordNotFound):
        clinic.read(Channel.CALL, 999)


# A patient's history.


def test_sms_and_calls_are_listed_together_newest_first(clinic: Clinic) -> None:
    first = clinic.text()
    second = clinic.call()
    third = clinic.reply()
    fourth = clinic.call_in()

    page = clinic.history()

    assert keys(page) == [key(fourth), key(third), key(second), key(first)]


def test_only_the_patients_own_records_are_listed(clinic: Clinic) -> None:
    mine = clinic.text(PAT)
    clinic.text(KIM)
    clinic.reply(KIM_PHONE)
    clinic.reply(STRANGER)

    page = clinic.history(PAT)

    assert keys(page) == [key(mine)]


def test_each_listed_record_comes_with_its_activity(clinic: Clinic) -> None:
    message = clinic.text()
    call = clinic.call()

    page = clinic.history()

    linked = [
        item.activity.text_message_id or item.activity.voice_call_id
        for item in page.items
        if item.activity is not None
    ]
    assert linked == [call.id, message.id]


def test_a_refused_sms_is_listed_without_an_activity(clinic: Clinic) -> None:
    refused = clinic.refused_text()

    [item] = clinic.history().items

    assert (item.record.id, item.activity) == (refused.id, None)


def test_a_patient_without_records_has_an_empty_history(clinic: Clinic) -> None:
    page = clinic.history()

    assert (page.items, page.next_cursor) == ([], None)


def test_another_clinics_patient_is_not_found(clinic: Clinic) -> None:
    with pytest.raises(PatientNotFound):
        clinic.history(THEIRS, user=DANA)


def test_an_unknown_patient_is_not_found(clinic: Clinic) -> None:
    ghost = Patient(id=999, clinic_id=1)

    with pytest.raises(PatientNotFound):
        clinic.history(ghost)


# Page sizes.


def test_a_page_holds_50_records_by_default(clinic: Clinic) -> None:
    clinic.texts_on_record(51)

    page = clinic.history()

    assert len(page.items) == 50
    assert page.next_cursor is not None


@pytest.mark.parametrize("limit", [1, 200])
def test_a_limit_from_1_to_200_is_accepted(clinic: Clinic, limit: int) -> None:
    clinic.text()

    assert len(clinic.history(limit=limit).items) == 1


@pytest.mark.parametrize("limit", [0, -1, 201, 10_000])
def test_a_limit_outside_1_to_200_is_invalid(clinic: Clinic, limit: int) -> None:
    with pytest.raises(InvalidInput) as refused:
        clinic.history(limit=limit)

    assert refused.value.messages == ["limit must be between 1 and 200"]


def test_a_page_shorter_than_the_limit_has_no_next_cursor(clinic: Clinic) -> None:
    clinic.text()
    clinic.call()

    assert clinic.history(limit=3).next_cursor is None


def test_a_page_exactly_as_long_as_what_is_left_has_no_next_cursor(clinic: Clinic) -> None:
    clinic.text()
    clinic.call()

    page = clinic.history(limit=2)

    assert (len(page.items), page.next_cursor) == (2, None)


def test_a_page_with_more_to_come_has_a_next_cursor(clinic: Clinic) -> None:
    clinic.text()
    clinic.call()

    page = clinic.history(limit=1)

    assert len(page.items) == 1
    assert page.next_cursor is not None


# Paging.


def test_the_next_cursor_leads_to_the_next_older_records(clinic: Clinic) -> None:
    records: list[TextMessage | VoiceCall] = [
        clinic.text(),
        clinic.call(),
        clinic.reply(),
        clinic.call_in(),
        clinic.text(),
    ]

    first = clinic.history(limit=2)
    second = clinic.history(limit=2, cursor=first.next_cursor)

    newest_first = [key(r) for r in reversed(records)]
    assert keys(first) == newest_first[:2]
    assert keys(second) == newest_first[2:4]


@pytest.mark.parametrize("limit", [1, 2, 3, 7])
def test_paging_through_a_history_lists_every_record_once_newest_first(
    clinic: Clinic, limit: int
) -> None:
    records: list[TextMessage | VoiceCall] = [clinic.text(), clinic.call(), clinic.reply()]
    records += [clinic.call_in(), clinic.text(), clinic.refused_text(), clinic.call()]

    pages = clinic.all_pages(limit)

    listed = [k for page in pages for k in keys(page)]
    assert listed == [key(r) for r in reversed(records)]


def test_paging_lists_every_record_once_when_many_share_the_same_instant(clinic: Clinic) -> None:
    clinic.step = timedelta(0)  # the clock stands still: every record has the same time
    records: list[TextMessage | VoiceCall] = [clinic.text(), clinic.call(), clinic.text()]
    records += [clinic.call(), clinic.reply()]

    pages = clinic.all_pages(limit=1)

    listed = [k for page in pages for k in keys(page)]
    assert sorted(listed) == sorted(key(r) for r in records)
    assert len(listed) == len(records)


def test_records_added_after_a_page_was_read_do_not_shift_the_next_page(clinic: Clinic) -> None:
    oldest, middle, newest = clinic.text(), clinic.call(), clinic.text()
    first = clinic.history(limit=1)
    clinic.text()  # a new SMS, newer than everything listed so far

    second = clinic.history(limit=1, cursor=first.next_cursor)

    assert keys(first) == [key(newest)]
    assert keys(second) == [key(middle)]
    assert oldest.id is not None


# Cursors.


def cursor_of(raw: object) -> str:
    """A cursor built by hand, the way a client tampering with it would."""
    return base64.urlsafe_b64encode(json.dumps(raw).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "cursor",
    [
        pytest.param("not a cursor!", id="not base64"),
        pytest.param("e30", id="not a list"),
        pytest.param(cursor_of(["2024-11-27T10:00:00+00:00", "sms"]), id="too short"),
        pytest.param(cursor_of(["yesterday", "sms", 1]), id="not a time"),
        pytest.param(cursor_of(["2024-11-27T10:00:00", "sms", 1]), id="no time zone"),
        pytest.param(cursor_of(["2024-11-27T10:00:00+00:00", "fax", 1]), id="unknown channel"),
        pytest.param(cursor_of(["2024-11-27T10:00:00+00:00", "sms", "one"]), id="id not a number"),
        pytest.param(cursor_of(["2024-11-27T10:00:00+00:00", "sms", None]), id="id missing"),
        pytest.param("w6k", id="not utf-8 json"),
    ],
)
def test_an_invalid_cursor_is_invalid_input(clinic: Clinic, cursor: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        clinic.history(cursor=cursor)

    assert refused.value.messages == ["Invalid cursor"]


@pytest.mark.parametrize(
    "cursor",
    [
        # json.loads reads "Infinity"; int(inf) raises OverflowError, which decode does not catch.
        pytest.param(
            base64.urlsafe_b64encode(b'["2024-11-27T10:00:00+00:00", "sms", Infinity]').decode(),
            id="infinite id",
        ),
        # json.loads raises RecursionError on deep nesting, which decode does not catch.
        pytest.param(base64.urlsafe_b64encode(b"[" * 2000).decode(), id="deeply nested"),
    ],
)
def test_a_malformed_cursor_is_invalid_input_not_a_crash(clinic: Clinic, cursor: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        clinic.history(cursor=cursor)

    assert refused.value.messages == ["Invalid cursor"]


def test_an_invalid_cursor_is_reported_for_another_clinics_patient_too(clinic: Clinic) -> None:
    # The cursor is checked before the patient; either way the caller learns nothing of them.
    with pytest.raises(InvalidInput):
        clinic.history(THEIRS, cursor="not a cursor!")


def test_an_empty_cursor_starts_from_the_newest(clinic: Clinic) -> None:
    clinic.text()
    newest = clinic.call()

    page = clinic.history(limit=1, cursor="")

    assert keys(page) == [key(newest)]


aware_times = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
)
positions = st.builds(Position, aware_times, st.sampled_from(Channel), st.integers(1, 2**63 - 1))


@settings(max_examples=200)
@given(positions)
def test_a_position_survives_its_cursor(position: Position) -> None:
    assert Position.decode(position.encode()) == position


@settings(max_examples=200)
@given(positions)
def test_a_cursor_is_safe_in_a_url_without_escaping(position: Position) -> None:
    cursor = position.encode()

    assert set(cursor) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def test_a_position_is_that_of_the_last_item_listed(clinic: Clinic) -> None:
    clinic.text()
    call = clinic.call()
    clinic.text()

    first = clinic.history(limit=2)

    assert first.next_cursor is not None
    assert call.id is not None
    assert Position.decode(first.next_cursor) == Position(call.created_at, Channel.CALL, call.id)


def decoded_or_refused(cursor: str) -> Position | list[str]:
    """The position a cursor names, or the messages of the ``InvalidInput`` it is refused with."""
    try:
        return Position.decode(cursor)
    except InvalidInput as refused:
        return refused.messages


json_scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=30))


@settings(max_examples=200)
@given(
    st.sampled_from(["2024-11-27T10:00:00+00:00", "2024-11-27T10:00:00", "soon"]),
    st.sampled_from(["sms", "call", "fax"]),
    json_scalars,
)
@example("2024-11-27T10:00:00+00:00", "sms", float("inf"))  # JSON's Infinity
def test_any_tampered_cursor_is_either_a_position_or_invalid_input(
    created_at: str, channel: str, record_id: object
) -> None:
    cursor = base64.urlsafe_b64encode(json.dumps([created_at, channel, record_id]).encode())

    outcome = decoded_or_refused(cursor.decode())

    assert isinstance(outcome, Position) or outcome == ["Invalid cursor"]


@settings(max_examples=200)
@given(st.text(max_size=60))
def test_any_text_as_a_cursor_is_either_a_position_or_invalid_input(cursor: str) -> None:
    outcome = decoded_or_refused(cursor)

    assert isinstance(outcome, Position) or outcome == ["Invalid cursor"]


def test_a_naive_time_is_not_a_position() -> None:
    naive = base64.urlsafe_b64encode(
        json.dumps([SOME_TIME.replace(tzinfo=None).isoformat(), "sms", 1]).encode()
    )

    with pytest.raises(InvalidInput):
        Position.decode(naive.decode())
