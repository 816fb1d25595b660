"""RecordInbound: what patients text and who calls goes on record, matched to a patient if any."""

from __future__ import annotations

from datetime import timedelta

import pytest

from ecm_comms.adapters.memory import (
    FakeGateway,
    FixedClock,
    InMemoryClinicDirectory,
    InMemoryPatientDirectory,
    InMemoryStore,
    InMemoryUnitOfWork,
    InMemoryUserDirectory,
)
from ecm_comms.domain.activities import ActivityStatus
from ecm_comms.domain.channels import Channel, Direction
from ecm_comms.domain.commands import InitiateCall, RecordInboundCall, RecordInboundSms, SendSms
from ecm_comms.domain.consent import ConsentAction, ConsentEntry, ConsentSource
from ecm_comms.domain.errors import RecipientOptedOut
from ecm_comms.domain.people import Patient, User
from ecm_comms.domain.phone_numbers import PhoneNumber
from ecm_comms.domain.sms_bodies import SmsBody
from ecm_comms.domain.statuses import CallStatus, SmsStatus
from ecm_comms.domain.use_cases.initiate_call import InitiateCallHandler
from ecm_comms.domain.use_cases.record_inbound import (
    RecordInboundCallHandler,
    RecordInboundSmsHandler,
)
from ecm_comms.domain.use_cases.send_sms import SendSmsHandler

CLINIC_LINE = PhoneNumber("+18059876543")
FRONT_DESK = PhoneNumber("+18055550100")
DANA = User(id=101, clinic_id=1, name="Dana Coordinator", phone=PhoneNumber("+18055550101"))
LEE = User(id=102, clinic_id=1, name="Lee Nophone")
ROBIN = User(id=103, clinic_id=1, name="Robin Covering", phone=PhoneNumber("+18055550103"))
PAT_PHONE = PhoneNumber("+18051234567")
FAMILY_PHONE = PhoneNumber("+18055550777")
STRANGER = "+18055550999"
PAT = Patient(id=123, clinic_id=1, phones=(PAT_PHONE,), coordinator_id=DANA.id)
SMS_SID = "SM" + "a" * 32
CALL_SID = "CA" + "a" * 32


def inbound_sms(
    body: str = "Running late, sorry!",
    *,
    sid: str = SMS_SID,
    from_number: str = PAT_PHONE.e164,
    opt_out_type: str | None = None,
) -> RecordInboundSms:
    return RecordInboundSms(
        twilio_sid=sid,
        from_number=from_number,
        to_number=CLINIC_LINE.e164,
        body=body,
        opt_out_type=opt_out_type,
    )


def inbound_call(
    *, sid: str = CALL_SID, from_number: str = PAT_PHONE.e164, status: str = "ringing"
) -> RecordInboundCall:
    return RecordInboundCall(
        twilio_sid=sid, from_number=from_number, to_number=CLINIC_LINE.e164, status=status
    )


@pytest.fixture
def store() -> InMemoryStore:
    return InMemoryStore()


@pytest.fixture
def patients() -> InMemoryPatientDirectory:
    return InMemoryPatientDirectory((PAT,))


@pytest.fixture
def users() -> InMemoryUserDirectory:
    directory = InMemoryUserDirectory()
    for user in (DANA, LEE, ROBIN):
        directory.add(user, token_digest=f"digest-{user.id}")
    return directory


@pytest.fixture
def record_sms(
    store: InMemoryStore, patients: InMemoryPatientDirectory, clock: FixedClock
) -> RecordInboundSmsHandler:
    return RecordInboundSmsHandler(
        InMemoryUnitOfWork(store), patients, InMemoryClinicDirectory(), clock
    )


@pytest.fixture
def record_call(
    store: InMemoryStore,
    patients: InMemoryPatientDirectory,
    users: InMemoryUserDirectory,
    clock: FixedClock,
) -> RecordInboundCallHandler:
    return RecordInboundCallHandler(
        InMemoryUnitOfWork(store),
        patients,
        InMemoryClinicDirectory(),
        users,
        clock,
        clinic_number=FRONT_DESK,
    )


def text_from(
    store: InMemoryStore,
    patients: InMemoryPatientDirectory,
    clock: FixedClock,
    user: User,
    patient: Patient,
    phone: PhoneNumber,
) -> None:
    """``user`` texts ``patient`` at ``phone``: an outbound SMS, its activity and its event."""
    send = SendSmsHandler(
        InMemoryUnitOfWork(store), patients, InMemoryClinicDirectory(), FakeGateway(), clock
    )
    send(SendSms(patient.id, phone.e164, "Checking in.", performed_by=user))


def call_from(
    store: InMemoryStore,
    patients: InMemoryPatientDirectory,
    clock: FixedClock,
    user: User,
    patient: Patient,
    phone: PhoneNumber,
) -> None:
    """``user`` calls ``patient`` at ``phone``."""
    initiate = InitiateCallHandler(
        InMemoryUnitOfWork(store), patients, InMemoryClinicDirectory(), FakeGateway(), clock
    )
    initiate(InitiateCall(patient.id, phone.e164, performed_by=user))


def opted_out(store: InMemoryStore) -> set[str]:
    """The numbers whose latest entry in the shared number's consent ledger is an opt-out."""
    phones = {entry.phone for entry in store.consent.entries}
    return {p.e164 for p in phones if store.consent.consent(p, None).sms_opted_out}


def ledger(store: InMemoryStore) -> list[tuple[str, int | None, ConsentAction, int | None]]:
    """Each consent entry as (phone, clinic, action, the SMS that carried it), oldest first."""
    return [(e.phone.e164, e.clinic_id, e.action, e.sms_id) for e in store.consent.entries]


# An SMS from a patient.


def test_an_sms_from_a_patients_number_is_recorded_as_from_them(
    record_sms: RecordInboundSmsHandler, store: InMemoryStore, clock: FixedClock
) -> None:
    record_sms(inbound_sms("Running late, sorry!"))

    [message] = store.messages.rows.values()
    assert (message.clinic_id, message.patient_id) == (PAT.clinic_id, PAT.id)
    assert message.direction is Direction.INBOUND
    assert (message.from_, message.to) == (PAT_PHONE, CLINIC_LINE)
    assert message.body == SmsBody("Running late, sorry!")
    assert message.status is SmsStatus.RECEIVED
    assert message.twilio_sid == SMS_SID
    assert message.sent_by_id is None
    assert message.created_at == message.updated_at == clock.now()


def test_an_sms_from_a_patient_is_recorded_with_an_activity_for_their_coordinator(
    record_sms: RecordInboundSmsHandler, store: InMemoryStore, clock: FixedClock
) -> None:
    record_sms(inbound_sms())

    [message] = store.messages.rows.values()
    [activity] = store.activities.rows.values()
    assert activity.activity_type is Channel.SMS
    assert activity.status is ActivityStatus.CREATED
    assert (activity.clinic_id, activity.patient_id) == (PAT.clinic_id, PAT.id)
    assert activity.performed_by_id is None
    assert activity.assigned_to_id == DANA.id
    assert (activity.text_message_id, activity.voice_call_id) == (message.id, None)
    assert activity.created_at == clock.now()


def test_an_sms_from_a_patient_is_recorded_with_its_event(
    record_sms: RecordInboundSmsHandler, store: InMemoryStore, clock: FixedClock
) -> None:
    record_sms(inbound_sms())

    [activity] = store.activities.rows.values()
    [event] = store.events.rows.values()
    assert event.event_type is Channel.SMS
    assert (event.clinic_id, event.patient_id) == (PAT.clinic_id, PAT.id)
    assert event.activity_id == activity.id
    assert event.occurred_at == clock.now()


def test_the_result_is_what_was_recorded(
    record_sms: RecordInboundSmsHandler, store: InMemoryStore
) -> None:
    recorded = record_sms(inbound_sms())

    [message] = store.messages.rows.values()
    [activity] = store.activities.rows.values()
    assert recorded.duplicate is False
    assert (recorded.record.id, recorded.record.twilio_sid) == (message.id, SMS_SID)
    assert recorded.activity is not None
    assert recorded.activity.id == activity.id


def test_a_sender_typed_nationally_is_matched_and_kept_in_e164(
    record_sms: RecordInboundSmsHandler, store: InMemoryStore
) -> None:
    record_sms(inbound_sms(from_number="(805) 123-4567"))

    [message] = store.messages.rows.values()
    assert (message.from_, message.patient_id) == (PAT_PHONE, PAT.id)


def test_a_sender_that_is_no_phone_number_is_kept_as_reported(
    record_sms: RecordInboundSmsHandler, store: InMemoryStore
) -> None:
    record_sms(inbound_sms(from_number=" 12345 "))  # a short code

    [message] = store.messages.rows.values()
    assert message.from_ == PhoneNumber("12345")


def test_a_patient_of_another_clinic_is_matched_to_their_clinic(
    store: InMemoryStore, clock: FixedClock
) -> None:
    theirs = Patient(id=456, clinic_id=2, phones=(PhoneNumber(STRANGER),))
    record_sms = RecordInboundSmsHandler(
        InMemoryUnitOfWork(store),
        InMemoryPatientDirectory((PAT, theirs)),
        InMemoryClinicDirectory(),
        clock,
    )

    record_sms(inbound_sms(from_number=STRANGER))

    [message] = store.messages.rows.values()
    assert (message.clinic_id, message.patient_id) == (2, 456)


# An SMS from a number no patient has.


def test_an_sms_from_an_unknown_number_is_stored_unmatched(
    record_sms: RecordInboundSmsHandler, store: InMemoryStore
) -> None:
    record_sms(inbound_sms("Who is this?", from_number=STRANGER))

    [message] = store.messages.rows.values()
    assert (message.clinic_id, message.patient_id) == (None, None)
    assert message.from_ == PhoneNumber(STRANGER)
    assert message.body == SmsBody("Who is this?")


def test_an_unmatched_sms_has_no_activity_and_no_event(
    record_sms: RecordInboundSmsHandler, store: InMemoryStore
) -> None:
    recorded = record_sms(inbound_sms(from_number=STRANGER))

    assert recorded.activity is None
    assert store.activities.rows == {}
    assert store.events.rows == {}


# A number several patients share (a family phone).

OLDER = Patient(id=1, clinic_id=1, phones=(FAMILY_PHONE,), coordinator_id=DANA.id)
NEWER = Patient(id=2, clinic_id=1, phones=(FAMILY_PHONE, PAT_PHONE), coordinator_id=DANA.id)


@pytest.fixture
def family() -> InMemoryPatientDirectory:
    # The directory lists the most recently upserted first: NEWER, then OLDER.
    return InMemoryPatientDirectory((OLDER, NEWER))


@pytest.fixture
def record_family_sms(
    store: InMemoryStore, family: InMemoryPatientDirectory, clock: FixedClock
) -> RecordInboundSmsHandler:
    return RecordInboundSmsHandler(
        InMemoryUnitOfWork(store), family, InMemoryClinicDirectory(), clock
    )


def patient_of_inbound(store: InMemoryStore) -> int | None:
    inbound = [m for m in store.messages.rows.values() if m.direction is Direction.INBOUND]
    return inbound[-1].patient_id


def test_with_no_contact_a_shared_number_is_matched_to_the_patient_listed_first(
    record_family_sms: RecordInboundSmsHandler, store: InMemoryStore
) -> None:
    record_family_sms(inbound_sms(from_number=FAMILY_PHONE.e164))

    assert patient_of_inbound(store) == NEWER.id


def test_a_shared_number_is_matched_to_the_patient_contacted_at_it(
    record_family_sms: RecordInboundSmsHandler,
    store: InMemoryStore,
    family: InMemoryPatientDirectory,
    clock: FixedClock,
) -> None:
    text_from(store, family, clock, DANA, OLDER, FAMILY_PHONE)
    clock.advance(timedelta(minutes=5))

    record_family_sms(inbound_sms(from_number=FAMILY_PHONE.e164))

    assert patient_of_inbound(store) == OLDER.id


def test_a_shared_number_is_matched_to_the_patient_most_recently_contacted_at_it(
    record_family_sms: RecordInboundSmsHandler,
    store: InMemoryStore,
    family: InMemoryPatientDirectory,
    clock: FixedClock,
) -> None:
    text_from(store, family, clock, DANA, NEWER, FAMILY_PHONE)
    clock.advance(timedelta(minutes=5))
    text_from(store, family, clock, DANA, OLDER, FAMILY_PHONE)
    clock.advance(timedelta(minutes=5))

    record_family_sms(inbound_sms(from_number=FAMILY_PHONE.e164))

    assert patient_of_inbound(store) == OLDER.id


def test_a_call_counts_as_contact_at_a_shared_number(
    record_family_sms: RecordInboundSmsHandler,
    store: InMemoryStore,
    family: InMemoryPatientDirectory,
    clock: FixedClock,
) -> None:
    text_from(store, family, clock, DANA, NEWER, FAMILY_PHONE)
    clock.advance(timedelta(minutes=5))
    call_from(store, family, clock, DANA, OLDER, FAMILY_PHONE)
    clock.advance(timedelta(minutes=5))

    record_family_sms(inbound_sms(from_number=FAMILY_PHONE.e164))

    assert patient_of_inbound(store) == OLDER.id


def test_contact_at_another_number_does_not_decide_who_a_shared_number_is(
    record_family_sms: RecordInboundSmsHandler,
    store: InMemoryStore,
    family: InMemoryPatientDirectory,
    clock: FixedClock,
) -> None:
    text_from(store, family, clock, DANA, OLDER, FAMILY_PHONE)
    clock.advance(timedelta(minutes=5))
    text_from(store, family, clock, DANA, NEWER, PAT_PHONE)  # NEWER's own phone
    clock.advance(timedelta(minutes=5))

    record_family_sms(inbound_sms(from_number=FAMILY_PHONE.e164))

    assert patient_of_inbound(store) == OLDER.id


# Who the activity is assigned to.


def test_without_a_coordinator_the_activity_goes_to_whoever_last_reached_out(
    store: InMemoryStore, clock: FixedClock
) -> None:
    uncoordinated = Patient(id=123, clinic_id=1, phones=(PAT_PHONE,))
    patients = InMemoryPatientDirectory((uncoordinated,))
    text_from(store, patients, clock, DANA, uncoordinated, PAT_PHONE)
    clock.advance(timedelta(minutes=5))
    call_from(store, patients, clock, ROBIN, uncoordinated, PAT_PHONE)
    clock.advance(timedelta(minutes=5))
    record_sms = RecordInboundSmsHandler(
        InMemoryUnitOfWork(store), patients, InMemoryClinicDirectory(), clock
    )

    recorded = record_sms(inbound_sms())

    assert recorded.activity is not None
    assert recorded.activity.assigned_to_id == ROBIN.id


def test_an_earlier_inbound_sms_does_not_count_as_reaching_out(
    store: InMemoryStore, clock: FixedClock
) -> None:
    uncoordinated = Patient(id=123, clinic_id=1, phones=(PAT_PHONE,))
    patients = InMemoryPatientDirectory((uncoordinated,))
    text_from(store, patients, clock, DANA, uncoordinated, PAT_PHONE)
    clock.advance(timedelta(minutes=5))
    record_sms = RecordInboundSmsHandler(
        InMemoryUnitOfWork(store), patients, InMemoryClinicDirectory(), clock
    )
    record_sms(inbound_sms(sid="SM" + "1" * 32))
    clock.advance(timedelta(minutes=5))

    recorded = record_sms(inbound_sms(sid="SM" + "2" * 32))

    assert recorded.activity is not None
    assert recorded.activity.assigned_to_id == DANA.id


def test_with_no_coordinator_and_no_one_reaching_out_the_activity_is_unassigned(
    store: InMemoryStore, clock: FixedClock
) -> None:
    uncoordinated = Patient(id=123, clinic_id=1, phones=(PAT_PHONE,))
    record_sms = RecordInboundSmsHandler(
        InMemoryUnitOfWork(store),
        InMemoryPatientDirectory((uncoordinated,)),
        InMemoryClinicDirectory(),
        clock,
    )

    recorded = record_sms(inbound_sms())

    assert recorded.activity is not None
    assert recorded.activity.assigned_to_id is None


def test_the_coordinator_is_assigned_even_if_someone_else_reached_out_last(
    store: InMemoryStore, patients: InMemoryPatientDirectory, clock: FixedClock
) -> None:
    text_from(store, patients, clock, ROBIN, PAT, PAT_PHONE)
    clock.advance(timedelta(minutes=5))
    record_sms = RecordInboundSmsHandler(
        InMemoryUnitOfWork(store), patients, InMemoryClinicDirectory(), clock
    )

    recorded = record_sms(inbound_sms())

    assert recorded.activity is not None
    assert recorded.activity.assigned_to_id == DANA.id


# Twilio sends a webhook twice.


def test_a_repeated_sms_webhook_is_reported_as_a_duplicate(
    record_sms: RecordInboundSmsHandler,
) -> None:
    record_sms(inbound_sms())

    again = record_sms(inbound_sms())

    assert again.duplicate is True


def test_a_repeated_sms_webhook_records_nothing_new(
    record_sms: RecordInboundSmsHandler, store: InMemoryStore, clock: FixedClock
) -> None:
    record_sms(inbound_sms())
    clock.advance(timedelta(minutes=1))

    record_sms(inbound_sms())

    assert len(store.messages.rows) == 1
    assert len(store.activities.rows) == 1
    assert len(store.events.rows) == 1


def test_a_repeated_sms_webhook_answers_with_the_first_record_and_its_activity(
    record_sms: RecordInboundSmsHandler, clock: FixedClock
) -> None:
    first = record_sms(inbound_sms())
    clock.advance(timedelta(minutes=1))

    again = record_sms(inbound_sms())

    assert again.record.id == first.record.id
    assert again.record.created_at == first.record.created_at
    assert again.activity is not None
    assert first.activity is not None
    assert again.activity.id == first.activity.id


def test_different_sids_are_different_messages(
    record_sms: RecordInboundSmsHandler, store: InMemoryStore
) -> None:
    record_sms(inbound_sms(sid="SM" + "1" * 32))
    record_sms(inbound_sms(sid="SM" + "2" * 32))

    assert len(store.messages.rows) == 2
    assert len(store.activities.rows) == 2


# Opt-out keywords.


@pytest.mark.parametrize("word", ["STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"])
def test_a_stop_word_opts_the_sender_out(
    record_sms: RecordInboundSmsHandler, store: InMemoryStore, word: str
) -> None:
    record_sms(inbound_sms(word))

    assert opted_out(store) == {PAT_PHONE.e164}


def test_a_stop_word_in_any_case_with_padding_opts_the_sender_out(
    record_sms: RecordInboundSmsHandler, store: InMemoryStore
) -> None:
    record_sms(inbound_sms("  sToP \n"))

    assert opted_out(store) == {PAT_PHONE.e164}


def test_opting_out_keeps_when_it_happened(
    record_sms: RecordInboundSmsHandler, store: InMemoryStore, clock: FixedClock
) -> None:
    record_sms(inbound_sms("STOP"))

    [message] = store.messages.rows.values()
    assert store.consent.entries == [
        ConsentEntry(
            PAT_PHONE,
            None,
            ConsentAction.OPT_OUT,
            ConsentSource.KEYWORD,
            clock.now(),
            sms_id=message.id,
            recorded_for=message.clinic_id,
            id=1,
        )
    ]


def test_a_second_stop_is_a_second_entry_and_the_first_keeps_its_time(
    record_sms: RecordInboundSmsHandler, store: InMemoryStore, clock: FixedClock
) -> None:
    record_sms(inbound_sms("STOP", sid="SM" + "1" * 32))
    first_at = clock.now()
    clock.advance(timedelta(days=1))

    record_sms(inbound_sms("STOP", sid="SM" + "2" * 32))

    assert [(e.action, e.at) for e in store.consent.entries] == [
        (ConsentAction.OPT_OUT, first_at),
        (ConsentAction.OPT_OUT, first_at + timedelta(days=1)),
    ]
    assert opted_out(store) == {PAT_PHONE.e164}


def test_a_stop_sms_is_still_recorded_with_its_activity(
    record_sms: RecordInboundSmsHandler, store: InMemoryStore
) -> None:
    record_sms(inbound_sms("STOP"))

    [message] = store.messages.rows.values()
    assert message.body == SmsBody("STOP")
    assert len(store.activities.rows) == 1


@pytest.mark.parametrize("word", ["START", "YES", "UNSTOP", "start", " Yes "])
def test_a_start_word_opts_the_sender_back_in(
    record_sms: RecordInboundSmsHandler, store: InMemoryStore, word: str
) -> None:
    record_sms(inbound_sms("STOP", sid="SM" + "1" * 32))

    record_sms(inbound_sms(word, sid="SM" + "2" * 32))

    assert opted_out(store) == set()
    assert ledger(store) == [
        (PAT_PHONE.e164, None, ConsentAction.OPT_OUT, 1),
        (PAT_PHONE.e164, None, ConsentAction.OPT_IN, 2),
    ]


def test_help_leaves_an_opted_out_sender_opted_out(
    record_sms: RecordInboundSmsHandler, store: InMemoryStore
) -> None:
    record_sms(inbound_sms("STOP", sid="SM" + "1" * 32))

    record_sms(inbound_sms("HELP", sid="SM" + "2" * 32))

    assert opted_out(store) == {PAT_PHONE.e164}


def test_help_does_not_opt_a_sender_out(
    record_sms: RecordInboundSmsHandler, store: InMemoryStore
) -> None:
    record_sms(inbound_sms("HELP"))

    assert opted_out(store) == set()


@pytest.mark.parametrize("body", ["stop please", "Please STOP", "STOP.", "stop stop"])
def test_a_stop_word_among_other_words_changes_nothing(
    record_sms: RecordInboundSmsHandler, store: InMemoryStore, body: str
) -> None:
    record_sms(inbound_sms(body))

    assert opted_out(store) == set()


def test_a_start_word_among_other_words_leaves_an_opted_out_sender_opted_out(
    record_sms: RecordInboundSmsHandler, store: InMemoryStore
) -> None:
    record_sms(inbound_sms("STOP", sid="SM" + "1" * 32))

    record_sms(inbound_sms("yes I will come", sid="SM" + "2" * 32))

    assert opted_out(store) == {PAT_PHONE.e164}


def test_twilios_opt_out_type_opts_out_whatever_the_body(
    record_sms: RecordInboundSmsHandler, store: InMemoryStore
) -> None:
    record_sms(inbound_sms("Arrêtez, merci", opt_out_type="STOP"))

    assert opted_out(store) == {PAT_PHONE.e164}


def test_twilios_opt_out_type_wins_over_a_stop_body(
    record_sms: RecordInboundSmsHandler, store: InMemoryStore
) -> None:
    record_sms(inbound_sms("STOP", opt_out_type="HELP"))

    assert opted_out(store) == set()


def test_twilios_opt_out_type_opts_back_in_whatever_the_body(
    record_sms: RecordInboundSmsHandler, store: InMemoryStore
) -> None:
    record_sms(inbound_sms("STOP", sid="SM" + "1" * 32))

    record_sms(inbound_sms("Bonjour", sid="SM" + "2" * 32, opt_out_type="START"))

    assert opted_out(store) == set()
    assert ledger(store) == [
        (PAT_PHONE.e164, None, ConsentAction.OPT_OUT, 1),
        (PAT_PHONE.e164, None, ConsentAction.OPT_IN, 2),
    ]


def test_an_unknown_sender_who_texts_stop_is_opted_out(
    record_sms: RecordInboundSmsHandler, store: InMemoryStore
) -> None:
    record_sms(inbound_sms("STOP", from_number=STRANGER))

    assert opted_out(store) == {STRANGER}


def test_a_stop_sent_from_a_nationally_typed_number_opts_out_its_e164_form(
    record_sms: RecordInboundSmsHandler, store: InMemoryStore
) -> None:
    record_sms(inbound_sms("STOP", from_number="805-123-4567"))

    assert opted_out(store) == {PAT_PHONE.e164}


def test_a_repeated_stop_webhook_does_not_undo_a_later_start(
    record_sms: RecordInboundSmsHandler, store: InMemoryStore
) -> None:
    record_sms(inbound_sms("STOP", sid="SM" + "1" * 32))
    record_sms(inbound_sms("START", sid="SM" + "2" * 32))

    record_sms(inbound_sms("STOP", sid="SM" + "1" * 32))  # Twilio retries the first webhook

    assert opted_out(store) == set()
    assert ledger(store) == [
        (PAT_PHONE.e164, None, ConsentAction.OPT_OUT, 1),
        (PAT_PHONE.e164, None, ConsentAction.OPT_IN, 2),
    ]


def test_a_patient_who_texted_stop_cannot_be_texted(
    record_sms: RecordInboundSmsHandler,
    store: InMemoryStore,
    patients: InMemoryPatientDirectory,
    clock: FixedClock,
) -> None:
    gateway = FakeGateway()
    send_sms = SendSmsHandler(
        InMemoryUnitOfWork(store), patients, InMemoryClinicDirectory(), gateway, clock
    )
    record_sms(inbound_sms("stop"))

    with pytest.raises(RecipientOptedOut):
        send_sms(SendSms(PAT.id, "(805) 123-4567", "Are you OK?", performed_by=DANA))

    assert gateway.sent == []


# A call from a patient.


def test_a_call_from_a_patients_number_is_recorded_as_from_them(
    record_call: RecordInboundCallHandler, store: InMemoryStore, clock: FixedClock
) -> None:
    record_call(inbound_call(status="ringing"))

    [call] = store.calls.rows.values()
    assert (call.clinic_id, call.patient_id) == (PAT.clinic_id, PAT.id)
    assert call.direction is Direction.INBOUND
    assert (call.from_, call.to) == (PAT_PHONE, CLINIC_LINE)
    assert call.status is CallStatus.RINGING
    assert call.twilio_sid == CALL_SID
    assert call.sent_by_id is None
    assert call.created_at == call.updated_at == clock.now()


def test_a_call_is_recorded_with_the_status_twilio_reports(
    record_call: RecordInboundCallHandler, store: InMemoryStore
) -> None:
    record_call(inbound_call(status="in-progress"))

    [call] = store.calls.rows.values()
    assert call.status is CallStatus.IN_PROGRESS


def test_a_call_with_a_status_this_service_does_not_know_is_recorded_as_ringing(
    record_call: RecordInboundCallHandler, store: InMemoryStore
) -> None:
    record_call(inbound_call(status="brand_new_status"))

    [call] = store.calls.rows.values()
    assert call.status is CallStatus.RINGING


def test_a_call_from_a_patient_is_recorded_with_an_activity_and_an_event(
    record_call: RecordInboundCallHandler, store: InMemoryStore, clock: FixedClock
) -> None:
    record_call(inbound_call())

    [call] = store.calls.rows.values()
    [activity] = store.activities.rows.values()
    [event] = store.events.rows.values()
    assert activity.activity_type is Channel.CALL
    assert (activity.voice_call_id, activity.text_message_id) == (call.id, None)
    assert (activity.performed_by_id, activity.assigned_to_id) == (None, DANA.id)
    assert (activity.clinic_id, activity.patient_id) == (PAT.clinic_id, PAT.id)
    assert (event.event_type, event.activity_id) == (Channel.CALL, activity.id)
    assert event.occurred_at == clock.now()


def test_a_call_from_an_unknown_number_is_stored_unmatched_without_an_activity(
    record_call: RecordInboundCallHandler, store: InMemoryStore
) -> None:
    recorded = record_call(inbound_call(from_number=STRANGER))

    [call] = store.calls.rows.values()
    assert (call.clinic_id, call.patient_id) == (None, None)
    assert recorded.activity is None
    assert store.activities.rows == {}
    assert store.events.rows == {}


def test_a_call_from_a_shared_number_is_matched_to_the_patient_contacted_at_it(
    store: InMemoryStore,
    family: InMemoryPatientDirectory,
    users: InMemoryUserDirectory,
    clock: FixedClock,
) -> None:
    call_from(store, family, clock, DANA, OLDER, FAMILY_PHONE)
    clock.advance(timedelta(minutes=5))
    record_call = RecordInboundCallHandler(
        InMemoryUnitOfWork(store), family, InMemoryClinicDirectory(), users, clock
    )

    recorded = record_call(inbound_call(from_number=FAMILY_PHONE.e164))

    assert recorded.record.patient_id == OLDER.id


# Who takes the call.


def test_a_patients_call_is_put_through_to_their_coordinators_phone(
    record_call: RecordInboundCallHandler,
) -> None:
    recorded = record_call(inbound_call())

    assert recorded.connect_to == DANA.phone


def test_a_call_goes_to_the_clinic_when_the_coordinator_has_no_phone(
    store: InMemoryStore, users: InMemoryUserDirectory, clock: FixedClock
) -> None:
    patients = InMemoryPatientDirectory((Patient(123, 1, (PAT_PHONE,), coordinator_id=LEE.id),))
    record_call = RecordInboundCallHandler(
        InMemoryUnitOfWork(store),
        patients,
        InMemoryClinicDirectory(),
        users,
        clock,
        clinic_number=FRONT_DESK,
    )

    recorded = record_call(inbound_call())

    assert recorded.connect_to == FRONT_DESK


def test_a_call_goes_to_the_clinic_when_the_coordinator_is_not_a_known_user(
    store: InMemoryStore, users: InMemoryUserDirectory, clock: FixedClock
) -> None:
    patients = InMemoryPatientDirectory((Patient(123, 1, (PAT_PHONE,), coordinator_id=999),))
    record_call = RecordInboundCallHandler(
        InMemoryUnitOfWork(store),
        patients,
        InMemoryClinicDirectory(),
        users,
        clock,
        clinic_number=FRONT_DESK,
    )

    recorded = record_call(inbound_call())

    assert recorded.connect_to == FRONT_DESK


def test_a_call_goes_to_no_one_without_a_coordinators_phone_or_a_clinic_number(
    store: InMemoryStore, users: InMemoryUserDirectory, clock: FixedClock
) -> None:
    patients = InMemoryPatientDirectory((Patient(123, 1, (PAT_PHONE,), coordinator_id=LEE.id),))
    record_call = RecordInboundCallHandler(
        InMemoryUnitOfWork(store), patients, InMemoryClinicDirectory(), users, clock
    )

    recorded = record_call(inbound_call())

    assert recorded.connect_to is None


def test_a_call_from_an_unknown_number_goes_to_the_clinic(
    record_call: RecordInboundCallHandler,
) -> None:
    recorded = record_call(inbound_call(from_number=STRANGER))

    assert recorded.connect_to == FRONT_DESK


def test_without_a_coordinator_a_call_goes_to_whoever_last_reached_out(
    store: InMemoryStore, users: InMemoryUserDirectory, clock: FixedClock
) -> None:
    uncoordinated = Patient(id=123, clinic_id=1, phones=(PAT_PHONE,))
    patients = InMemoryPatientDirectory((uncoordinated,))
    text_from(store, patients, clock, ROBIN, uncoordinated, PAT_PHONE)
    clock.advance(timedelta(minutes=5))
    record_call = RecordInboundCallHandler(
        InMemoryUnitOfWork(store),
        patients,
        InMemoryClinicDirectory(),
        users,
        clock,
        clinic_number=FRONT_DESK,
    )

    recorded = record_call(inbound_call())

    assert recorded.connect_to == ROBIN.phone


def test_a_repeated_call_webhook_records_nothing_new(
    record_call: RecordInboundCallHandler, store: InMemoryStore
) -> None:
    record_call(inbound_call())

    again = record_call(inbound_call(status="in-progress"))

    assert again.duplicate is True
    [call] = store.calls.rows.values()
    assert call.status is CallStatus.RINGING
    assert len(store.activities.rows) == 1
    assert len(store.events.rows) == 1


def test_a_repeated_call_webhook_is_still_put_through_to_the_coordinator(
    record_call: RecordInboundCallHandler,
) -> None:
    record_call(inbound_call())

    again = record_call(inbound_call())

    assert again.connect_to == DANA.phone
