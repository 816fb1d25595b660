"""Clinics with numbers of their own: sends come from them, replies and calls to them reach only
that clinic's patients, and opt-outs bind only that clinic; the shared number keeps the old ways.

Two clinics each hold a number and have a patient on the same (family) phone; a third clinic has
a record but no numbers, so it texts from the shared number.
"""

from __future__ import annotations

from dataclasses import dataclass
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
from ecm_comms.adapters.sids import new_sid
from ecm_comms.domain.activities import Activity
from ecm_comms.domain.channels import Channel
from ecm_comms.domain.clinics import Clinic, ClinicNumber, Sender
from ecm_comms.domain.commands import (
    ApplyStatus,
    InitiateCall,
    RecordInboundCall,
    RecordInboundSms,
    SendSms,
)
from ecm_comms.domain.communications import TextMessage
from ecm_comms.domain.consent import ConsentAction, ConsentEntry, ConsentSource
from ecm_comms.domain.errors import CommunicationFailed, GatewayError, RecipientOptedOut
from ecm_comms.domain.people import Patient, User
from ecm_comms.domain.phone_numbers import PhoneNumber
from ecm_comms.domain.use_cases.apply_status import ApplyStatusHandler
from ecm_comms.domain.use_cases.initiate_call import InitiateCallHandler
from ecm_comms.domain.use_cases.record_inbound import (
    InboundRecorded,
    RecordInboundCallHandler,
    RecordInboundSmsHandler,
)
from ecm_comms.domain.use_cases.send_sms import SendSmsHandler, SmsSent

SHARED = PhoneNumber("+15005550006")  # the gateway's sender: TWILIO_FROM_NUMBER
SETTINGS_MAIN_LINE = PhoneNumber("+18055550199")  # ECM_CLINIC_PHONE_NUMBER
SERVICE_SID = "MG" + "0123456789abcdef" * 2

HARBOR_LINE = PhoneNumber("+18059876543")
HARBOR_SECOND_LINE = PhoneNumber("+18059870002")
HARBOR_MAIN = PhoneNumber("+18055550100")
MESA_LINE = PhoneNumber("+18185550123")
HARBOR = Clinic(
    1,
    "Harbor Health",
    phone=HARBOR_MAIN,
    numbers=(ClinicNumber(HARBOR_LINE, 1), ClinicNumber(HARBOR_SECOND_LINE, 1)),
)
MESA = Clinic(2, "Mesa Clinic", numbers=(ClinicNumber(MESA_LINE, 2, SERVICE_SID),))
VALLEY = Clinic(3, "Valley Clinic")  # no numbers of its own

DANA = User(101, 1, "Dana Coordinator", PhoneNumber("+18055550101"))
LEE = User(102, 1, "Lee Nophone")
SAM = User(201, 2, "Sam Nophone")
VAL = User(301, 3, "Val Coordinator")
NOA = User(401, 4, "Noa Norecord")

FAMILY_PHONE = PhoneNumber("+18051234567")
MESA_ONLY_PHONE = PhoneNumber("+18185550456")
LEES_PATIENTS_PHONE = PhoneNumber("+18055550124")
STRANGER = PhoneNumber("+18055550999")

HARBOR_PATIENT = Patient(123, 1, (FAMILY_PHONE,), "Pat Harbor", coordinator_id=DANA.id)
LEES_PATIENT = Patient(124, 1, (LEES_PATIENTS_PHONE,), "Lou Harbor", coordinator_id=LEE.id)
MESA_PATIENT = Patient(456, 2, (FAMILY_PHONE, MESA_ONLY_PHONE), "Pat Mesa", coordinator_id=SAM.id)
VALLEY_PATIENT = Patient(789, 3, (FAMILY_PHONE,), "Pat Valley", coordinator_id=VAL.id)
UNRECORDED_CLINICS_PATIENT = Patient(999, 4, (FAMILY_PHONE,), coordinator_id=NOA.id)

OPTED_OUT = GatewayError("Attempt to send to unsubscribed recipient", code=21610)


@dataclass
class Service:
    """The use cases over shared fakes, as the container wires them."""

    store: InMemoryStore
    gateway: FakeGateway
    clock: FixedClock
    send_sms: SendSmsHandler
    initiate_call: InitiateCallHandler
    record_sms: RecordInboundSmsHandler
    record_call: RecordInboundCallHandler
    apply_status: ApplyStatusHandler

    def text(self, user: User, patient: Patient, phone: PhoneNumber = FAMILY_PHONE) -> SmsSent:
        self.clock.advance(timedelta(minutes=1))
        return self.send_sms(SendSms(patient.id, phone.e164, "Checking in.", performed_by=user))

    def call(self, user: User, patient: Patient, phone: PhoneNumber = FAMILY_PHONE) -> None:
        self.clock.advance(timedelta(minutes=1))
        self.initiate_call(InitiateCall(patient.id, phone.e164, performed_by=user))

    def reply(
        self, from_: PhoneNumber, to: PhoneNumber, body: str = "See you then", sid: str = ""
    ) -> InboundRecorded:
        self.clock.advance(timedelta(minutes=1))
        return self.record_sms(
            RecordInboundSms(sid or new_sid("SM"), from_.e164, to.e164, body=body)
        )

    def call_in(self, from_: PhoneNumber, to: PhoneNumber) -> InboundRecorded:
        self.clock.advance(timedelta(minutes=1))
        return self.record_call(RecordInboundCall(new_sid("CA"), from_.e164, to.e164, "ringing"))

    def activity_of(self, record: TextMessage) -> Activity | None:
        assert record.id is not None
        return self.store.activities.for_record(Channel.SMS, record.id)


def build_service(clinic_main_line: PhoneNumber | None = SETTINGS_MAIN_LINE) -> Service:
    store, gateway, clock = InMemoryStore(), FakeGateway(SHARED), FixedClock()
    uow = InMemoryUnitOfWork(store)
    patients = InMemoryPatientDirectory(
        (HARBOR_PATIENT, LEES_PATIENT, MESA_PATIENT, VALLEY_PATIENT, UNRECORDED_CLINICS_PATIENT)
    )
    clinics = InMemoryClinicDirectory((HARBOR, MESA, VALLEY))
    users = InMemoryUserDirectory()
    for user in (DANA, LEE, SAM, VAL, NOA):
        users.add(user, token_digest=f"digest-{user.id}")
    return Service(
        store,
        gateway,
        clock,
        SendSmsHandler(uow, patients, clinics, gateway, clock),
        InitiateCallHandler(uow, patients, clinics, gateway, clock, clinic_number=clinic_main_line),
        RecordInboundSmsHandler(uow, patients, clinics, clock),
        RecordInboundCallHandler(
            uow, patients, clinics, users, clock, clinic_number=clinic_main_line
        ),
        ApplyStatusHandler(uow, clinics, clock),
    )


@pytest.fixture
def service() -> Service:
    return build_service()


# Outbound: from the clinic's own number.


def test_a_clinics_sms_goes_from_its_sending_number(service: Service) -> None:
    sent = service.text(DANA, HARBOR_PATIENT)

    assert service.gateway.sent[-1].sender == Sender(HARBOR_LINE, None, clinic_id=1)
    assert sent.message.from_ == HARBOR_LINE


def test_a_clinics_sms_goes_through_the_messaging_service_of_its_sending_number(
    service: Service,
) -> None:
    sent = service.text(SAM, MESA_PATIENT)

    assert service.gateway.sent[-1].sender == Sender(MESA_LINE, SERVICE_SID, clinic_id=2)
    assert sent.message.from_ == MESA_LINE


def test_a_clinic_without_numbers_texts_from_the_shared_number(service: Service) -> None:
    sent = service.text(VAL, VALLEY_PATIENT)

    assert service.gateway.sent[-1].sender == Sender(SHARED)
    assert sent.message.from_ == SHARED


def test_a_clinic_without_a_record_texts_from_the_shared_number(service: Service) -> None:
    service.text(NOA, UNRECORDED_CLINICS_PATIENT)

    assert service.gateway.sent[-1].sender == Sender(SHARED)


def test_a_clinics_call_comes_from_its_sending_number(service: Service) -> None:
    service.call(DANA, HARBOR_PATIENT)

    assert service.gateway.calls[-1].sender == Sender(HARBOR_LINE, None, clinic_id=1)
    [call] = service.store.calls.rows.values()
    assert call.from_ == HARBOR_LINE


def test_a_call_by_a_user_without_a_phone_is_put_through_to_the_clinics_main_line(
    service: Service,
) -> None:
    service.call(LEE, LEES_PATIENT, LEES_PATIENTS_PHONE)

    assert service.gateway.calls[-1].connect_to == HARBOR_MAIN


def test_a_call_from_a_clinic_without_a_main_line_is_put_through_to_the_settings_one(
    service: Service,
) -> None:
    service.call(SAM, MESA_PATIENT)

    assert service.gateway.calls[-1].connect_to == SETTINGS_MAIN_LINE


# Inbound SMS: the number texted decides the clinic.


def test_a_reply_to_clinic_ones_number_is_clinic_ones_patients(service: Service) -> None:
    service.text(DANA, HARBOR_PATIENT)
    service.text(SAM, MESA_PATIENT)  # clinic 2 texted the family phone last

    recorded = service.reply(FAMILY_PHONE, HARBOR_LINE)

    assert (recorded.record.clinic_id, recorded.record.patient_id) == (1, HARBOR_PATIENT.id)
    assert recorded.activity is not None
    assert (recorded.activity.clinic_id, recorded.activity.patient_id) == (1, HARBOR_PATIENT.id)
    assert recorded.activity.assigned_to_id == DANA.id


def test_a_reply_to_clinic_twos_number_is_clinic_twos_patients(service: Service) -> None:
    service.text(SAM, MESA_PATIENT)
    service.text(DANA, HARBOR_PATIENT)  # clinic 1 texted the family phone last

    recorded = service.reply(FAMILY_PHONE, MESA_LINE)

    assert (recorded.record.clinic_id, recorded.record.patient_id) == (2, MESA_PATIENT.id)
    assert recorded.activity is not None
    assert (recorded.activity.clinic_id, recorded.activity.patient_id) == (2, MESA_PATIENT.id)
    assert recorded.activity.assigned_to_id == SAM.id


def test_a_reply_to_any_of_a_clinics_numbers_is_that_clinics(service: Service) -> None:
    recorded = service.reply(FAMILY_PHONE, HARBOR_SECOND_LINE)

    assert recorded.record.patient_id == HARBOR_PATIENT.id


def test_a_reply_to_the_shared_number_goes_to_whichever_clinics_patient_was_contacted_last(
    service: Service,
) -> None:
    service.text(DANA, HARBOR_PATIENT)
    service.text(SAM, MESA_PATIENT)

    recorded = service.reply(FAMILY_PHONE, SHARED)

    assert (recorded.record.clinic_id, recorded.record.patient_id) == (2, MESA_PATIENT.id)


def test_a_reply_to_a_number_no_clinic_holds_is_matched_across_clinics(service: Service) -> None:
    recorded = service.reply(MESA_ONLY_PHONE, PhoneNumber("+18005550000"))

    assert (recorded.record.clinic_id, recorded.record.patient_id) == (2, MESA_PATIENT.id)


def test_a_stranger_texting_a_clinics_number_is_kept_unmatched_for_that_clinic(
    service: Service,
) -> None:
    recorded = service.reply(STRANGER, HARBOR_LINE)

    stored = service.store.messages.get(recorded.record.id or 0)
    assert stored is not None
    assert (stored.clinic_id, stored.patient_id) == (1, None)
    assert recorded.activity is None
    assert service.store.activities.rows == {}
    assert service.store.events.rows == {}


def test_another_clinics_patient_texting_a_clinics_number_is_kept_unmatched_for_it(
    service: Service,
) -> None:
    recorded = service.reply(MESA_ONLY_PHONE, HARBOR_LINE)

    assert (recorded.record.clinic_id, recorded.record.patient_id) == (1, None)
    assert service.store.activities.rows == {}


# Inbound calls: put through to whoever looks after the caller.


def test_a_call_to_a_clinics_number_is_put_through_to_its_patients_coordinator(
    service: Service,
) -> None:
    recorded = service.call_in(FAMILY_PHONE, HARBOR_LINE)

    assert recorded.record.patient_id == HARBOR_PATIENT.id
    assert recorded.connect_to == DANA.phone


def test_a_call_whose_coordinator_has_no_phone_is_put_through_to_the_clinics_main_line(
    service: Service,
) -> None:
    recorded = service.call_in(LEES_PATIENTS_PHONE, HARBOR_LINE)

    assert recorded.connect_to == HARBOR_MAIN


def test_a_call_from_a_stranger_to_a_clinics_number_is_put_through_to_its_main_line(
    service: Service,
) -> None:
    recorded = service.call_in(STRANGER, HARBOR_LINE)

    assert (recorded.record.clinic_id, recorded.record.patient_id) == (1, None)
    assert recorded.connect_to == HARBOR_MAIN


def test_a_call_to_a_clinic_without_a_main_line_is_put_through_to_the_settings_one(
    service: Service,
) -> None:
    recorded = service.call_in(FAMILY_PHONE, MESA_LINE)

    assert recorded.record.patient_id == MESA_PATIENT.id
    assert recorded.connect_to == SETTINGS_MAIN_LINE


def test_a_call_to_the_shared_number_is_put_through_to_the_callers_clinics_main_line(
    service: Service,
) -> None:
    recorded = service.call_in(LEES_PATIENTS_PHONE, SHARED)

    assert recorded.record.patient_id == LEES_PATIENT.id
    assert recorded.connect_to == HARBOR_MAIN


def test_without_any_main_line_a_call_no_one_can_take_is_put_through_to_no_one() -> None:
    service = build_service(clinic_main_line=None)

    recorded = service.call_in(FAMILY_PHONE, MESA_LINE)

    assert recorded.connect_to is None


# Opt-outs: per clinic.


def test_after_stop_to_a_clinics_number_its_next_sms_to_that_phone_is_refused(
    service: Service,
) -> None:
    service.reply(FAMILY_PHONE, HARBOR_LINE, "STOP")

    with pytest.raises(RecipientOptedOut):
        service.text(DANA, HARBOR_PATIENT)

    assert service.gateway.sent == []
    assert [m.direction.value for m in service.store.messages.rows.values()] == ["inbound"]


def test_stop_to_one_of_a_clinics_numbers_stops_its_sms_from_all_of_them(
    service: Service,
) -> None:
    service.reply(FAMILY_PHONE, HARBOR_SECOND_LINE, "stop")

    with pytest.raises(RecipientOptedOut):
        service.text(DANA, HARBOR_PATIENT)  # from its sending number, the first

    assert service.gateway.sent == []


def test_after_stop_to_one_clinic_another_clinic_can_still_text_the_phone(
    service: Service,
) -> None:
    service.reply(FAMILY_PHONE, HARBOR_LINE, "STOP")

    service.text(SAM, MESA_PATIENT)

    assert [sms.sender for sms in service.gateway.sent] == [
        Sender(MESA_LINE, SERVICE_SID, clinic_id=2)
    ]


def test_after_stop_to_a_clinics_number_the_shared_number_can_still_text_the_phone(
    service: Service,
) -> None:
    service.reply(FAMILY_PHONE, HARBOR_LINE, "STOP")

    service.text(VAL, VALLEY_PATIENT)

    assert [sms.sender for sms in service.gateway.sent] == [Sender(SHARED)]


def test_start_to_the_same_clinic_lets_its_sms_through_again(service: Service) -> None:
    service.reply(FAMILY_PHONE, HARBOR_LINE, "STOP")
    service.reply(FAMILY_PHONE, HARBOR_SECOND_LINE, "START")

    service.text(DANA, HARBOR_PATIENT)

    assert [sms.sender for sms in service.gateway.sent] == [Sender(HARBOR_LINE, None, 1)]


def test_start_to_another_clinic_does_not_lift_a_clinics_opt_out(service: Service) -> None:
    service.reply(FAMILY_PHONE, HARBOR_LINE, "STOP")
    service.reply(FAMILY_PHONE, MESA_LINE, "START")

    with pytest.raises(RecipientOptedOut):
        service.text(DANA, HARBOR_PATIENT)


def test_stop_to_the_shared_number_stops_what_goes_through_it_and_nothing_else(
    service: Service,
) -> None:
    service.reply(FAMILY_PHONE, SHARED, "STOP")

    with pytest.raises(RecipientOptedOut):
        service.text(VAL, VALLEY_PATIENT)
    service.text(DANA, HARBOR_PATIENT)

    assert [sms.sender for sms in service.gateway.sent] == [Sender(HARBOR_LINE, None, 1)]


def test_stop_from_a_stranger_to_a_clinics_number_is_kept_in_that_clinics_ledger(
    service: Service,
) -> None:
    recorded = service.reply(STRANGER, HARBOR_LINE, "STOP")

    assert service.store.consent.entries == [
        ConsentEntry(
            STRANGER,
            1,
            ConsentAction.OPT_OUT,
            ConsentSource.KEYWORD,
            service.clock.now(),
            sms_id=recorded.record.id,
            recorded_for=1,
            id=1,
        )
    ]


def test_stop_and_start_are_kept_in_the_ledger_with_their_sms_and_clinic(
    service: Service,
) -> None:
    stop = service.reply(FAMILY_PHONE, HARBOR_LINE, "STOP")
    stopped_at = service.clock.now()
    start = service.reply(FAMILY_PHONE, HARBOR_SECOND_LINE, "START")

    assert service.store.consent.entries == [
        ConsentEntry(
            FAMILY_PHONE,
            1,
            ConsentAction.OPT_OUT,
            ConsentSource.KEYWORD,
            stopped_at,
            sms_id=stop.record.id,
            recorded_for=1,
            id=1,
        ),
        ConsentEntry(
            FAMILY_PHONE,
            1,
            ConsentAction.OPT_IN,
            ConsentSource.KEYWORD,
            service.clock.now(),
            sms_id=start.record.id,
            recorded_for=1,
            id=2,
        ),
    ]


def test_a_stop_twilio_sends_twice_is_kept_once(service: Service) -> None:
    sid = new_sid("SM")
    service.reply(FAMILY_PHONE, HARBOR_LINE, "STOP", sid=sid)

    service.reply(FAMILY_PHONE, HARBOR_LINE, "STOP", sid=sid)

    assert len(service.store.consent.entries) == 1


def test_twilios_21610_refusal_of_a_clinics_sms_opts_the_phone_out_of_that_clinic_only(
    service: Service,
) -> None:
    service.gateway.fail_next(OPTED_OUT)
    with pytest.raises(CommunicationFailed):
        service.text(DANA, HARBOR_PATIENT)

    with pytest.raises(RecipientOptedOut):
        service.text(DANA, HARBOR_PATIENT)
    service.text(SAM, MESA_PATIENT)

    assert [sms.sender for sms in service.gateway.sent] == [Sender(MESA_LINE, SERVICE_SID, 2)]


def test_twilios_21610_refusal_is_kept_in_the_ledger_with_the_refused_sms(
    service: Service,
) -> None:
    service.gateway.fail_next(OPTED_OUT)
    with pytest.raises(CommunicationFailed):
        service.text(SAM, MESA_PATIENT)

    [refused] = service.store.messages.rows.values()
    assert service.store.consent.entries == [
        ConsentEntry(
            FAMILY_PHONE,
            2,
            ConsentAction.OPT_OUT,
            ConsentSource.CARRIER,
            service.clock.now(),
            sms_id=refused.id,
            recorded_for=2,
            id=1,
        )
    ]


def test_twilios_21610_refusal_through_the_shared_number_opts_out_of_the_shared_number(
    service: Service,
) -> None:
    service.gateway.fail_next(OPTED_OUT)
    with pytest.raises(CommunicationFailed):
        service.text(VAL, VALLEY_PATIENT)

    with pytest.raises(RecipientOptedOut):
        service.text(NOA, UNRECORDED_CLINICS_PATIENT)
    service.text(DANA, HARBOR_PATIENT)

    assert [entry.clinic_id for entry in service.store.consent.entries] == [None]
    assert [sms.sender for sms in service.gateway.sent] == [Sender(HARBOR_LINE, None, 1)]


def undelivered_as_opted_out(sent: SmsSent) -> ApplyStatus:
    assert sent.message.twilio_sid is not None
    return ApplyStatus(
        Channel.SMS,
        sent.message.twilio_sid,
        "undelivered",
        record_id=sent.message.id,
        error_code=21610,
        error_message="Attempt to send to unsubscribed recipient",
    )


def test_a_21610_status_callback_opts_the_phone_out_of_the_sending_clinic_only(
    service: Service,
) -> None:
    sent = service.text(SAM, MESA_PATIENT)

    service.apply_status(undelivered_as_opted_out(sent))

    with pytest.raises(RecipientOptedOut):
        service.text(SAM, MESA_PATIENT)
    service.text(DANA, HARBOR_PATIENT)
    assert [sms.sender.clinic_id for sms in service.gateway.sent if sms.sender] == [2, 1]


def test_a_21610_status_callback_is_kept_in_the_ledger_with_its_sms_and_clinic(
    service: Service,
) -> None:
    sent = service.text(SAM, MESA_PATIENT)

    service.apply_status(undelivered_as_opted_out(sent))

    assert service.store.consent.entries == [
        ConsentEntry(
            FAMILY_PHONE,
            2,
            ConsentAction.OPT_OUT,
            ConsentSource.CARRIER,
            service.clock.now(),
            sms_id=sent.message.id,
            recorded_for=2,
            id=1,
        )
    ]


def test_a_21610_status_callback_twilio_sends_twice_is_kept_once(service: Service) -> None:
    sent = service.text(SAM, MESA_PATIENT)
    service.apply_status(undelivered_as_opted_out(sent))

    service.apply_status(undelivered_as_opted_out(sent))

    assert len(service.store.consent.entries) == 1


def test_a_21610_status_callback_of_a_shared_number_sms_opts_out_of_the_shared_number(
    service: Service,
) -> None:
    sent = service.text(VAL, VALLEY_PATIENT)

    service.apply_status(undelivered_as_opted_out(sent))

    assert [entry.clinic_id for entry in service.store.consent.entries] == [None]
