"""The SQL adapters on SQLite and PostgreSQL: what goes in comes out, and failures roll back."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from ecm_comms.adapters.memory import FakeGateway, FixedClock
from ecm_comms.adapters.sql import tables
from ecm_comms.adapters.sql.repositories import SqlEventRepository
from ecm_comms.adapters.sql.unit_of_work import SqlUnitOfWork
from ecm_comms.container import Container
from ecm_comms.domain.activities import Event
from ecm_comms.domain.channels import Direction
from ecm_comms.domain.commands import SendSms
from ecm_comms.domain.communications import TextMessage
from ecm_comms.domain.errors import UserAlreadyExists
from ecm_comms.domain.people import Patient, User
from ecm_comms.domain.phone_numbers import PhoneNumber
from ecm_comms.domain.sms_bodies import SmsBody
from ecm_comms.domain.statuses import SmsStatus
from ecm_comms.domain.tokens import ApiToken
from ecm_comms.domain.use_cases.send_sms import SendSmsHandler
from tests.conftest import Staff

AT = datetime(2024, 11, 27, 10, 0, 0, 123000, tzinfo=UTC)


def a_message(sid: str = "SM" + "a" * 32) -> TextMessage:
    return TextMessage.outbound(
        clinic_id=1,
        patient_id=123,
        to=PhoneNumber("+18051234567"),
        from_=PhoneNumber("+18059876543"),
        body=SmsBody("Your appointment is at 10"),
        status=SmsStatus.QUEUED,
        twilio_sid=sid,
        at=AT,
    )


def count(container: Container, table: tables.Table) -> int:
    with container.engine().connect() as connection:
        return int(connection.execute(select(func.count()).select_from(table)).scalar_one())


def test_a_stored_message_reads_back_the_same(container: Container) -> None:
    message = a_message()
    with container.uow() as uow:
        uow.messages.add(message)
        uow.commit()
    assert message.id is not None

    with container.uow() as uow:
        stored = uow.messages.get(message.id)

    assert stored is not None
    assert (stored.to, stored.from_, stored.body, stored.status, stored.twilio_sid) == (
        message.to,
        message.from_,
        message.body,
        SmsStatus.QUEUED,
        message.twilio_sid,
    )
    assert stored.direction is Direction.OUTBOUND
    assert stored.created_at == AT  # aware UTC, milliseconds kept


def test_leaving_the_block_without_commit_keeps_nothing(container: Container) -> None:
    with container.uow() as uow:
        uow.messages.add(a_message())

    assert count(container, tables.text_messages) == 0


def test_a_twilio_sid_is_stored_once(container: Container) -> None:
    with container.uow() as uow:
        uow.messages.add(a_message("SM" + "b" * 32))
        uow.commit()

    with container.uow() as uow, pytest.raises(IntegrityError):
        uow.messages.add(a_message("SM" + "b" * 32))

    assert count(container, tables.text_messages) == 1


class _BrokenEvents(SqlEventRepository):
    def add(self, event: Event) -> None:
        raise RuntimeError("the events table is unavailable")


class _UnitOfWorkLosingEvents(SqlUnitOfWork):
    def __enter__(self) -> _UnitOfWorkLosingEvents:
        super().__enter__()
        self.events = _BrokenEvents(self._connection)  # type: ignore[arg-type]
        return self


def test_a_failure_after_the_message_and_activity_rolls_both_back(
    container: Container, coordinator: Staff, patient: Patient, gateway: FakeGateway
) -> None:
    handler = SendSmsHandler(
        _UnitOfWorkLosingEvents(container.engine()),
        container.patient_directory(),
        gateway,
        FixedClock(),
    )

    with pytest.raises(RuntimeError):
        handler(SendSms(123, "+18051234567", "Hello", coordinator.user))

    assert count(container, tables.text_messages) == 0
    assert count(container, tables.activities) == 0
    assert count(container, tables.events) == 0


def test_a_patient_is_found_only_within_their_clinic(
    container: Container, patient: Patient
) -> None:
    directory = container.patient_directory()

    assert directory.find(123, clinic_id=1) == patient
    assert directory.find(123, clinic_id=2) is None
    assert directory.find(999, clinic_id=1) is None


def test_upserting_a_patient_replaces_their_phone_numbers(container: Container) -> None:
    directory = container.patient_directory()
    first, second, third = (PhoneNumber(f"+1805555010{n}") for n in (1, 2, 3))
    directory.upsert(Patient(id=7, clinic_id=1, phones=(first, second)))
    directory.upsert(Patient(id=7, clinic_id=1, phones=(third, first), coordinator_id=101))

    found = directory.find(7, clinic_id=1)

    assert found == Patient(id=7, clinic_id=1, phones=(third, first), coordinator_id=101)


def test_a_user_is_found_by_the_digest_of_their_token(container: Container) -> None:
    users = container.user_directory()
    token = ApiToken.generate()
    dana = User(id=5, clinic_id=1, name="Dana", phone=PhoneNumber("+18055550101"))
    users.add(dana, token.digest)

    assert users.find_by_token_digest(token.digest) == dana
    assert users.find_by_token_digest(ApiToken.generate().digest) is None


def test_a_user_id_is_registered_once(container: Container) -> None:
    users = container.user_directory()
    users.add(User(id=5, clinic_id=1, name="Dana"), ApiToken.generate().digest)

    with pytest.raises(UserAlreadyExists):
        users.add(User(id=5, clinic_id=2, name="Someone else"), ApiToken.generate().digest)
