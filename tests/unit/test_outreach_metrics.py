"""What the outreach use cases count, once their change is committed: stale status callbacks,
unmatched inbound SMS and calls, and opt-outs by source."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from ecm_comms.adapters.memory import (
    CountingMetrics,
    FakeGateway,
    FixedClock,
    InMemoryClinicDirectory,
    InMemoryConsentViews,
    InMemoryPatientDirectory,
    InMemoryStore,
    InMemoryUnitOfWork,
    InMemoryUserDirectory,
)
from ecm_comms.domain.channels import Channel
from ecm_comms.domain.commands import (
    ApplyStatus,
    InitiateCall,
    RecordConsent,
    RecordInboundCall,
    RecordInboundSms,
    SendSms,
)
from ecm_comms.domain.errors import CommunicationFailed, GatewayError, StaffOptInRefused
from ecm_comms.domain.opt_outs import OPTED_OUT_ERROR_CODE
from ecm_comms.domain.people import Patient, User
from ecm_comms.domain.phone_numbers import PhoneNumber
from ecm_comms.domain.use_cases.apply_status import ApplyStatusHandler
from ecm_comms.domain.use_cases.consent import RecordConsentHandler
from ecm_comms.domain.use_cases.initiate_call import InitiateCallHandler
from ecm_comms.domain.use_cases.record_inbound import (
    RecordInboundCallHandler,
    RecordInboundSmsHandler,
)
from ecm_comms.domain.use_cases.send_sms import SendSmsHandler

CLINIC_LINE = PhoneNumber("+18059876543")
DANA = User(id=101, clinic_id=1, name="Dana Coordinator", phone=PhoneNumber("+18055550101"))
PAT_PHONE = PhoneNumber("+18051234567")
PAT = Patient(id=123, clinic_id=1, phones=(PAT_PHONE,), coordinator_id=DANA.id)
STRANGER = "+18055550999"
SMS_SID = "SM" + "a" * 32
CALL_SID = "CA" + "a" * 32
UNSUBSCRIBED = GatewayError("Attempt to send to unsubscribed recipient", code=OPTED_OUT_ERROR_CODE)


@dataclass
class Outreach:
    """A clinic's store, its handlers on in-memory fakes, all counting in ``metrics``."""

    store: InMemoryStore = field(default_factory=InMemoryStore)
    gateway: FakeGateway = field(default_factory=FakeGateway)
    clock: FixedClock = field(default_factory=FixedClock)
    metrics: CountingMetrics = field(default_factory=CountingMetrics)

    def __post_init__(self) -> None:
        self.patients = InMemoryPatientDirectory((PAT,))
        self.clinics = InMemoryClinicDirectory()
        self.users = InMemoryUserDirectory()
        self.users.add(DANA, token_digest="0" * 64)

    def _uow(self) -> InMemoryUnitOfWork:
        return InMemoryUnitOfWork(self.store)

    def send_sms(self) -> str:
        """An SMS Twilio took (queued); its sid."""
        sent = self._send_sms_handler()(SendSms(PAT.id, PAT_PHONE.e164, "See you at 10.", DANA))
        assert sent.message.twilio_sid is not None
        return sent.message.twilio_sid

    def _send_sms_handler(self) -> SendSmsHandler:
        return SendSmsHandler(
            self._uow(),
            self.patients,
            self.clinics,
            self.gateway,
            self.clock,
            metrics=self.metrics,
        )

    def send_sms_refused(self, error: GatewayError) -> None:
        self.gateway.fail_next(error)
        with pytest.raises(CommunicationFailed):
            self.send_sms()

    def start_call(self) -> str:
        """A call Twilio took (queued); its sid."""
        handler = InitiateCallHandler(
            self._uow(), self.patients, self.clinics, self.gateway, self.clock
        )
        call = handler(InitiateCall(PAT.id, PAT_PHONE.e164, DANA)).call
        assert call.twilio_sid is not None
        return call.twilio_sid

    def apply(
        self, channel: Channel, sid: str, status: str, *, error_code: int | None = None
    ) -> None:
        handler = ApplyStatusHandler(self._uow(), self.clinics, self.clock, metrics=self.metrics)
        handler(ApplyStatus(channel, sid, status, error_code=error_code))

    def inbound_sms(
        self, body: str = "Running late", *, from_number: str = PAT_PHONE.e164, sid: str = SMS_SID
    ) -> None:
        handler = RecordInboundSmsHandler(
            self._uow(), self.patients, self.clinics, self.clock, metrics=self.metrics
        )
        handler(RecordInboundSms(sid, from_number, CLINIC_LINE.e164, body))

    def inbound_call(self, *, from_number: str = PAT_PHONE.e164, sid: str = CALL_SID) -> None:
        handler = RecordInboundCallHandler(
            self._uow(),
            self.patients,
            self.clinics,
            self.users,
            self.clock,
            metrics=self.metrics,
        )
        handler(RecordInboundCall(sid, from_number, CLINIC_LINE.e164, "ringing"))

    def record_consent(self, action: str) -> None:
        handler = RecordConsentHandler(
            self._uow(),
            InMemoryConsentViews(self.store),
            self.clinics,
            self.clock,
            metrics=self.metrics,
        )
        handler(RecordConsent(PAT_PHONE.e164, action, DANA, note="asked by phone"))

    @property
    def counts(self) -> dict[tuple[str, ...], int]:
        return dict(self.metrics.counts)


@pytest.fixture
def outreach() -> Outreach:
    return Outreach()


# Status callbacks.


def test_a_callback_older_than_the_records_status_is_counted_as_stale(outreach: Outreach) -> None:
    sid = outreach.send_sms()
    outreach.apply(Channel.SMS, sid, "delivered")

    outreach.apply(Channel.SMS, sid, "sent")

    assert outreach.counts == {("stale_status_ignored", "sms"): 1}


def test_a_stale_call_callback_is_counted_for_calls(outreach: Outreach) -> None:
    sid = outreach.start_call()
    outreach.apply(Channel.CALL, sid, "completed")

    outreach.apply(Channel.CALL, sid, "ringing")

    assert outreach.counts == {("stale_status_ignored", "call"): 1}


def test_a_callback_that_moves_the_status_forward_is_not_stale(outreach: Outreach) -> None:
    sid = outreach.send_sms()

    outreach.apply(Channel.SMS, sid, "sent")
    outreach.apply(Channel.SMS, sid, "delivered")

    assert outreach.counts == {}


def test_a_repeated_callback_is_not_counted_as_stale(outreach: Outreach) -> None:
    sid = outreach.send_sms()
    outreach.apply(Channel.SMS, sid, "sent")

    outreach.apply(Channel.SMS, sid, "sent")

    assert outreach.counts == {}


def test_a_calls_initiated_callback_is_not_stale(outreach: Outreach) -> None:
    # Twilio takes a call as "queued" and then reports "initiated", of the same rank: every call
    # does, and nothing arrived late.
    sid = outreach.start_call()

    outreach.apply(Channel.CALL, sid, "initiated")

    assert outreach.counts == {}


def test_a_callback_for_an_unknown_record_is_not_counted(outreach: Outreach) -> None:
    outreach.apply(Channel.SMS, "SM" + "f" * 32, "delivered")

    assert outreach.counts == {}


def test_a_carrier_opt_out_reported_by_a_status_callback_is_counted(outreach: Outreach) -> None:
    sid = outreach.send_sms()

    outreach.apply(Channel.SMS, sid, "undelivered", error_code=OPTED_OUT_ERROR_CODE)

    assert outreach.counts == {("opt_out_recorded", "carrier_21610"): 1}


def test_a_repeated_carrier_opt_out_callback_is_counted_once(outreach: Outreach) -> None:
    sid = outreach.send_sms()
    outreach.apply(Channel.SMS, sid, "undelivered", error_code=OPTED_OUT_ERROR_CODE)

    outreach.apply(Channel.SMS, sid, "undelivered", error_code=OPTED_OUT_ERROR_CODE)

    assert outreach.counts == {("opt_out_recorded", "carrier_21610"): 1}


def test_another_error_code_in_a_status_callback_is_no_opt_out(outreach: Outreach) -> None:
    sid = outreach.send_sms()

    outreach.apply(Channel.SMS, sid, "undelivered", error_code=30003)

    assert outreach.counts == {}


# Sends Twilio refuses.


def test_a_send_twilio_refuses_as_unsubscribed_counts_a_carrier_opt_out(
    outreach: Outreach,
) -> None:
    outreach.send_sms_refused(UNSUBSCRIBED)

    assert outreach.counts == {("opt_out_recorded", "carrier_21610"): 1}


def test_a_send_twilio_refuses_for_another_reason_is_no_opt_out(outreach: Outreach) -> None:
    outreach.send_sms_refused(GatewayError("The 'To' number is not valid", code=21211))

    assert outreach.counts == {}


# Inbound SMS and calls.


def test_an_sms_from_a_number_no_patient_has_is_counted_as_unmatched(outreach: Outreach) -> None:
    outreach.inbound_sms(from_number=STRANGER)

    assert outreach.counts == {("inbound_unmatched", "sms"): 1}


def test_an_sms_from_a_patient_is_not_counted_as_unmatched(outreach: Outreach) -> None:
    outreach.inbound_sms()

    assert outreach.counts == {}


def test_a_repeated_webhook_of_an_unmatched_sms_is_counted_once(outreach: Outreach) -> None:
    outreach.inbound_sms(from_number=STRANGER)

    outreach.inbound_sms(from_number=STRANGER)  # Twilio's retry: the same sid

    assert outreach.counts == {("inbound_unmatched", "sms"): 1}


def test_a_call_from_a_number_no_patient_has_is_counted_as_unmatched(outreach: Outreach) -> None:
    outreach.inbound_call(from_number=STRANGER)

    assert outreach.counts == {("inbound_unmatched", "call"): 1}


def test_a_call_from_a_patient_is_not_counted_as_unmatched(outreach: Outreach) -> None:
    outreach.inbound_call()

    assert outreach.counts == {}


def test_a_repeated_webhook_of_an_unmatched_call_is_counted_once(outreach: Outreach) -> None:
    outreach.inbound_call(from_number=STRANGER)

    outreach.inbound_call(from_number=STRANGER)

    assert outreach.counts == {("inbound_unmatched", "call"): 1}


# Opt-outs by keyword and by staff.


def test_a_stop_keyword_is_counted_as_a_keyword_opt_out(outreach: Outreach) -> None:
    outreach.inbound_sms("STOP")

    assert outreach.counts == {("opt_out_recorded", "keyword"): 1}


def test_a_repeated_webhook_of_a_stop_is_counted_once(outreach: Outreach) -> None:
    outreach.inbound_sms("STOP")

    outreach.inbound_sms("STOP")

    assert outreach.counts == {("opt_out_recorded", "keyword"): 1}


def test_a_start_keyword_is_not_an_opt_out(outreach: Outreach) -> None:
    outreach.inbound_sms("STOP", sid="SM" + "1" * 32)

    outreach.inbound_sms("START", sid="SM" + "2" * 32)

    assert outreach.counts == {("opt_out_recorded", "keyword"): 1}


def test_a_stop_from_a_number_no_patient_has_is_an_opt_out_and_unmatched(
    outreach: Outreach,
) -> None:
    outreach.inbound_sms("STOP", from_number=STRANGER)

    assert outreach.counts == {
        ("opt_out_recorded", "keyword"): 1,
        ("inbound_unmatched", "sms"): 1,
    }


def test_an_opt_out_staff_record_is_counted_as_a_staff_opt_out(outreach: Outreach) -> None:
    outreach.record_consent("opt_out")

    assert outreach.counts == {("opt_out_recorded", "staff"): 1}


def test_a_refused_staff_opt_in_is_not_counted(outreach: Outreach) -> None:
    with pytest.raises(StaffOptInRefused):
        outreach.record_consent("opt_in")

    assert outreach.counts == {}
