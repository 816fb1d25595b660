"""The SQL adapters on SQLite and PostgreSQL: what goes in comes out, and failures roll back."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Table, func, select
from sqlalchemy.exc import IntegrityError

from ecm_comms.adapters.memory import FakeGateway, FixedClock
from ecm_comms.adapters.sql import tables
from ecm_comms.adapters.sql.repositories import SqlEventRepository
from ecm_comms.adapters.sql.unit_of_work import SqlUnitOfWork
from ecm_comms.container import Container
from ecm_comms.domain.activities import Activity, Event
from ecm_comms.domain.channels import Channel, Direction
from ecm_comms.domain.commands import SendSms
from ecm_comms.domain.communications import StatusReport, TextMessage, VoiceCall
from ecm_comms.domain.consent import ConsentAction, ConsentEntry, ConsentSource
from ecm_comms.domain.errors import UserAlreadyExists
from ecm_comms.domain.history import HistoryItem, Position
from ecm_comms.domain.people import Patient, User
from ecm_comms.domain.phone_numbers import PhoneNumber
from ecm_comms.domain.sms_bodies import SmsBody
from ecm_comms.domain.statuses import CallStatus, SmsStatus
from ecm_comms.domain.tokens import ApiToken
from ecm_comms.domain.use_cases.send_sms import SendSmsHandler
from tests.conftest import Staff

AT = datetime(2024, 11, 27, 10, 0, 0, 123000, tzinfo=UTC)
PATIENT_PHONE = PhoneNumber("+18051234567")
OTHER_PHONE = PhoneNumber("+18055550199")
CLINIC = PhoneNumber("+18059876543")
SID = "SM" + "a" * 32

pytestmark = pytest.mark.both_databases


def a_message(
    sid: str | None = SID,
    *,
    at: datetime = AT,
    patient_id: int = 123,
    to: PhoneNumber = PATIENT_PHONE,
) -> TextMessage:
    """An outbound SMS; with ``sid``, one Twilio has taken, else one written ahead of sending."""
    message = TextMessage.outbound(
        clinic_id=1,
        patient_id=patient_id,
        to=to,
        from_=CLINIC,
        body=SmsBody("Your appointment is at 10"),
        sent_by_id=101,
        at=at,
    )
    if sid is not None:
        message.accept(sid, SmsStatus.QUEUED, CLINIC, at)
    return message


def a_call(
    sid: str | None = None,
    *,
    at: datetime = AT,
    patient_id: int = 123,
    to: PhoneNumber = PATIENT_PHONE,
) -> VoiceCall:
    call = VoiceCall.outbound(
        clinic_id=1, patient_id=patient_id, to=to, from_=CLINIC, sent_by_id=101, at=at
    )
    if sid is not None:
        call.accept(sid, CallStatus.QUEUED, CLINIC, at)
    return call


def stored(container: Container, *records: TextMessage | VoiceCall) -> None:
    """Add ``records`` in one committed unit of work (their ids are set)."""
    with container.uow() as uow:
        for record in records:
            if isinstance(record, TextMessage):
                uow.messages.add(record)
            else:
                uow.calls.add(record)
        uow.commit()


def count(container: Container, table: Table) -> int:
    with container.engine().connect() as connection:
        return int(connection.execute(select(func.count()).select_from(table)).scalar_one())


# --- communication records -----------------------------------------------------------------------


def test_a_stored_message_reads_back_the_same(container: Container) -> None:
    message = a_message()
    stored(container, message)
    assert message.id is not None

    with container.uow() as uow:
        found = uow.messages.get(message.id)

    assert found is not None
    assert (
        found.to,
        found.from_,
        found.body,
        found.status,
        found.twilio_sid,
        found.sent_by_id,
    ) == (message.to, message.from_, message.body, SmsStatus.QUEUED, SID, 101)
    assert found.direction is Direction.OUTBOUND
    assert found.created_at == AT  # aware UTC, milliseconds kept


def test_leaving_the_block_without_commit_keeps_nothing(container: Container) -> None:
    with container.uow() as uow:
        uow.messages.add(a_message())

    assert count(container, tables.text_messages) == 0


def test_a_twilio_sid_is_stored_once(container: Container) -> None:
    stored(container, a_message("SM" + "b" * 32))

    with container.uow() as uow, pytest.raises(IntegrityError):
        uow.messages.add(a_message("SM" + "b" * 32))

    assert count(container, tables.text_messages) == 1


def test_many_records_written_ahead_may_have_no_sid_yet(container: Container) -> None:
    stored(container, a_message(None), a_message(None), a_call(None), a_call(None))

    assert (count(container, tables.text_messages), count(container, tables.voice_calls)) == (2, 2)


def test_add_if_new_refuses_a_duplicate_sid_without_raising_and_the_transaction_goes_on(
    container: Container,
) -> None:
    with container.uow() as uow:
        first_added = uow.messages.add_if_new(a_message(SID))
        uow.commit()
    duplicate = a_message(SID)

    with container.uow() as uow:
        duplicate_added = uow.messages.add_if_new(duplicate)
        uow.messages.add(a_message("SM" + "c" * 32))  # the transaction is still usable
        uow.commit()

    assert (first_added, duplicate_added, duplicate.id) == (True, False, None)
    assert count(container, tables.text_messages) == 2


def test_lock_by_record_id_finds_a_record_that_has_no_sid_yet(container: Container) -> None:
    written_ahead = a_call(None)
    stored(container, written_ahead)

    with container.uow() as uow:
        locked = uow.calls.lock(record_id=written_ahead.id)

    assert locked is not None
    assert (locked.id, locked.twilio_sid) == (written_ahead.id, None)


def test_lock_by_record_id_does_not_find_a_record_that_has_a_sid(container: Container) -> None:
    """Its send has been completed: a late callback naming the id must not complete it again."""
    sent = a_call("CA" + "a" * 32)
    stored(container, sent)

    with container.uow() as uow:
        locked = uow.calls.lock(record_id=sent.id)

    assert locked is None


def test_lock_prefers_the_record_with_the_sid_to_the_one_with_the_id(
    container: Container,
) -> None:
    with_sid, written_ahead = a_message("SM" + "d" * 32), a_message(None)
    stored(container, with_sid, written_ahead)

    with container.uow() as uow:
        locked = uow.messages.lock(sid="SM" + "d" * 32, record_id=written_ahead.id)

    assert locked is not None
    assert locked.id == with_sid.id


def test_a_refusal_is_written_back_with_twilios_code_and_message(container: Container) -> None:
    message = a_message(None)
    stored(container, message)
    assert message.id is not None

    with container.uow() as uow:
        locked = uow.messages.lock(record_id=message.id)
        assert locked is not None
        locked.refuse(
            21211, "The 'To' number is not a valid phone number", AT + timedelta(minutes=1)
        )
        uow.messages.update(locked)
        uow.commit()
    with container.uow() as uow:
        found = uow.messages.get(message.id)

    assert found is not None
    assert (
        found.status,
        found.twilio_sid,
        found.error_code,
        found.error_message,
        found.updated_at,
    ) == (
        SmsStatus.FAILED,
        None,
        21211,
        "The 'To' number is not a valid phone number",
        AT + timedelta(minutes=1),
    )


def test_a_scheduled_message_keeps_its_send_time_and_a_skip_is_written_back(
    container: Container,
) -> None:
    send_at = AT + timedelta(days=1)
    message = TextMessage.outbound(
        clinic_id=1,
        patient_id=123,
        to=PATIENT_PHONE,
        from_=CLINIC,
        body=SmsBody("Your appointment is tomorrow"),
        sent_by_id=101,
        at=AT,
        send_at=send_at,
    )
    stored(container, message)
    assert message.id is not None

    with container.uow() as uow:
        locked = uow.messages.lock(record_id=message.id)
        assert locked is not None
        scheduled = (locked.status, locked.send_at, locked.skip_reason)
        locked.skip("frequency_cap", send_at)
        uow.messages.update(locked)
        uow.commit()
    with container.uow() as uow:
        found = uow.messages.get(message.id)
    item = container.views().find(Channel.SMS, message.id)

    assert scheduled == (SmsStatus.SCHEDULED, send_at, None)
    for read in (found, item and item.record):
        assert isinstance(read, TextMessage)
        assert (read.status, read.send_at, read.skip_reason, read.updated_at) == (
            SmsStatus.SKIPPED,
            send_at,
            "frequency_cap",
            send_at,
        )


class _BrokenEvents(SqlEventRepository):
    def add(self, event: Event) -> None:
        raise RuntimeError("the events table is unavailable")


class _UnitOfWorkLosingEvents(SqlUnitOfWork):
    def __enter__(self) -> _UnitOfWorkLosingEvents:
        super().__enter__()
        self.events = _BrokenEvents(self._connection)  # type: ignore[arg-type]
        return self


def test_a_failure_recording_twilios_answer_rolls_it_back_and_keeps_the_written_ahead_sms(
    container: Container, coordinator: Staff, patient: Patient, gateway: FakeGateway
) -> None:
    handler = SendSmsHandler(
        _UnitOfWorkLosingEvents(container.engine()),
        container.patient_directory(),
        container.clinic_directory(),
        gateway,
        FixedClock(),
    )

    with pytest.raises(RuntimeError):
        handler(SendSms(123, "+18051234567", "Hello", coordinator.user))

    with container.engine().connect() as connection:
        kept = connection.execute(
            select(
                tables.text_messages.c.status,
                tables.text_messages.c.twilio_sid,
                tables.text_messages.c.sent_by_id,
            )
        ).all()
    assert [tuple(row) for row in kept] == [("queued", None, 101)]  # for its status callback
    assert count(container, tables.activities) == 0
    assert count(container, tables.events) == 0
    assert len(gateway.sent) == 1


# --- the consent ledger and the status log -------------------------------------------------------


def append_consent(
    container: Container, phone: PhoneNumber, action: ConsentAction, at: datetime = AT
) -> None:
    """A keyword entry in the shared number's ledger, as a STOP or START would leave."""
    with container.uow() as uow:
        uow.consent.append(ConsentEntry(phone, None, action, ConsentSource.KEYWORD, at))
        uow.commit()


def opted_out(container: Container, phone: PhoneNumber) -> bool:
    return container.consent_views().consent(phone, None).sms_opted_out


def test_a_number_opted_out_is_opted_out_until_it_opts_back_in(container: Container) -> None:
    before = opted_out(container, PATIENT_PHONE)
    append_consent(container, PATIENT_PHONE, ConsentAction.OPT_OUT)
    after_opting_out = opted_out(container, PATIENT_PHONE)
    append_consent(container, PATIENT_PHONE, ConsentAction.OPT_IN, AT + timedelta(hours=1))

    assert (before, after_opting_out, opted_out(container, PATIENT_PHONE)) == (False, True, False)


def test_opting_out_twice_keeps_both_entries_the_first_with_its_time(container: Container) -> None:
    for at in (AT, AT + timedelta(days=1)):
        append_consent(container, PATIENT_PHONE, ConsentAction.OPT_OUT, at)

    c = tables.consent_entries
    with container.engine().connect() as connection:
        kept = connection.execute(
            select(c.c.phone, c.c.clinic_id, c.c.action, c.c.source, c.c.at).order_by(c.c.id)
        ).all()
    assert [tuple(row) for row in kept] == [
        ("+18051234567", None, "opt_out", "keyword", AT),
        ("+18051234567", None, "opt_out", "keyword", AT + timedelta(days=1)),
    ]


def test_an_opt_out_is_for_that_number_only(container: Container) -> None:
    append_consent(container, PATIENT_PHONE, ConsentAction.OPT_OUT)

    assert not opted_out(container, OTHER_PHONE)


def test_the_status_log_keeps_one_report_per_channel_sid_and_status(
    container: Container,
) -> None:
    def append(channel: Channel, status: str, received_at: datetime = AT) -> bool:
        with container.uow() as uow:
            kept = uow.status_log.append(
                StatusReport(channel, SID, status, received_at, record_id=1)
            )
            uow.commit()
        return kept

    answers = [
        append(Channel.SMS, "sent"),
        append(Channel.SMS, "sent", AT + timedelta(seconds=5)),  # Twilio's retry
        append(Channel.SMS, "delivered"),
        append(Channel.CALL, "sent"),
    ]

    assert answers == [True, False, True, True]
    with container.engine().connect() as connection:
        kept = connection.execute(
            select(
                tables.status_callbacks.c.channel,
                tables.status_callbacks.c.status,
                tables.status_callbacks.c.received_at,
            ).order_by(tables.status_callbacks.c.id)
        ).all()
    assert [tuple(row) for row in kept] == [
        ("sms", "sent", AT),
        ("sms", "delivered", AT),
        ("call", "sent", AT),
    ]


# --- a patient's history --------------------------------------------------------------------------


def page(container: Container, limit: int, after: Position | None = None) -> list[HistoryItem]:
    return container.views().history(123, limit, after)


def keys(items: Sequence[HistoryItem]) -> list[tuple[Channel, int | None]]:
    return [(item.channel, item.record.id) for item in items]


def test_history_pages_go_newest_first_across_sms_and_calls(container: Container) -> None:
    later = AT + timedelta(minutes=5)
    sms1, call1 = a_message(None, at=AT), a_call(None, at=AT + timedelta(minutes=1))
    sms2, call2, sms3 = a_message(None, at=later), a_call(None, at=later), a_message(None, at=later)
    someone_elses = a_message(None, at=later + timedelta(minutes=1), patient_id=124)
    stored(container, sms1, call1, sms2, call2, sms3, someone_elses)

    first = page(container, 2)
    second = page(container, 2, Position.of(first[-1]))
    third = page(container, 2, Position.of(second[-1]))
    fourth = page(container, 2, Position.of(third[-1]))

    # At one instant: SMS before calls, then the latest id first.
    assert [keys(first), keys(second), keys(third), keys(fourth)] == [
        [(Channel.SMS, sms3.id), (Channel.SMS, sms2.id)],
        [(Channel.CALL, call2.id), (Channel.CALL, call1.id)],
        [(Channel.SMS, sms1.id)],
        [],
    ]


def test_history_items_carry_their_records_activity_when_it_has_one(
    container: Container,
) -> None:
    sent, written_ahead = a_call("CA" + "b" * 32), a_call(None, at=AT + timedelta(minutes=1))
    stored(container, sent, written_ahead)
    activity = Activity.for_communication(sent, performed_by_id=101, assigned_to_id=101)
    with container.uow() as uow:
        uow.activities.add(activity)
        uow.commit()

    items = page(container, 10)

    assert [(item.record.id, item.activity and item.activity.id) for item in items] == [
        (written_ahead.id, None),
        (sent.id, activity.id),
    ]


def most_recently_contacted(
    container: Container, patient_ids: Sequence[int], phone: PhoneNumber = PATIENT_PHONE
) -> int | None:
    with container.uow() as uow:
        return uow.contacts.most_recently_contacted(patient_ids, phone)


def test_the_most_recently_contacted_patient_has_the_latest_record_at_that_number(
    container: Container,
) -> None:
    stored(
        container,
        a_message(None, at=AT, patient_id=123),
        a_call(None, at=AT + timedelta(minutes=1), patient_id=124),
        # Later still, but at another number: it does not count.
        a_message(None, at=AT + timedelta(minutes=2), patient_id=123, to=OTHER_PHONE),
    )

    assert most_recently_contacted(container, [123, 124]) == 124


def test_an_inbound_sms_from_the_number_counts_as_contact(container: Container) -> None:
    inbound = TextMessage.inbound(
        twilio_sid="SM" + "e" * 32,
        clinic_id=1,
        patient_id=123,
        from_=PATIENT_PHONE,
        to=CLINIC,
        body=SmsBody("Yes, see you then"),
        at=AT + timedelta(minutes=2),
    )
    stored(container, a_call(None, at=AT + timedelta(minutes=1), patient_id=124), inbound)

    assert most_recently_contacted(container, [123, 124]) == 123


def test_no_patient_is_most_recently_contacted_without_a_record_of_theirs_at_that_number(
    container: Container,
) -> None:
    stored(
        container,
        a_message(None, patient_id=999),  # not one of the patients asked about
        a_message(None, patient_id=123, to=OTHER_PHONE),
    )

    assert most_recently_contacted(container, [123, 124]) is None


# --- directories ---------------------------------------------------------------------------------


def test_a_patient_is_found_only_within_their_clinic(
    container: Container, patient: Patient
) -> None:
    directory = container.patient_directory()

    assert directory.find(123, clinic_id=1) == patient
    assert directory.find(123, clinic_id=2) is None
    assert directory.find(999, clinic_id=1) is None


def test_upserting_a_patient_replaces_their_phone_numbers(container: Container) -> None:
    directory = container.sql_patients()
    first, second, third = (PhoneNumber(f"+1805555010{n}") for n in (1, 2, 3))
    directory.upsert(Patient(id=7, clinic_id=1, phones=(first, second)))
    directory.upsert(Patient(id=7, clinic_id=1, phones=(third, first), coordinator_id=101))

    found = directory.find(7, clinic_id=1)

    assert found == Patient(id=7, clinic_id=1, phones=(third, first), coordinator_id=101)


def test_a_user_is_found_by_the_digest_of_their_token(container: Container) -> None:
    users = container.sql_users()
    token = ApiToken.generate()
    dana = User(id=5, clinic_id=1, name="Dana", phone=PhoneNumber("+18055550101"))
    users.add(dana, token.digest)

    assert users.find_by_token_digest(token.digest) == dana
    assert users.find_by_token_digest(ApiToken.generate().digest) is None


def test_a_user_id_is_registered_once(container: Container) -> None:
    users = container.sql_users()
    users.add(User(id=5, clinic_id=1, name="Dana"), ApiToken.generate().digest)

    with pytest.raises(UserAlreadyExists):
        users.add(User(id=5, clinic_id=2, name="Someone else"), ApiToken.generate().digest)
