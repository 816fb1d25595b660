"""The Twilio adapter, driving the real twilio-python client over HTTP against a stand-in."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ecm_comms.adapters.twilio_gateway import TwilioGateway, twilio_client
from ecm_comms.domain.errors import GatewayError
from ecm_comms.domain.phone_numbers import PhoneNumber
from ecm_comms.domain.sms_bodies import SmsBody
from ecm_comms.domain.statuses import CallStatus, SmsStatus
from tests.support.twilio_standin import RunningStandIn, TwilioStandIn

ACCOUNT_SID = "AC" + "0" * 32
CLINIC = PhoneNumber("+18059876543")
PATIENT = PhoneNumber("+18051234567")


@pytest.fixture
def twilio() -> Iterator[TwilioStandIn]:
    with RunningStandIn() as standin:
        yield standin


def gateway_for(twilio: TwilioStandIn, timeout: float = 5.0) -> TwilioGateway:
    client = twilio_client(ACCOUNT_SID, "secret-token", twilio.base_url, timeout)
    return TwilioGateway(client, CLINIC, sleep=lambda _seconds: None)


def test_an_sms_goes_to_twilio_with_recipient_sender_and_body(twilio: TwilioStandIn) -> None:
    receipt = gateway_for(twilio).send_sms(PATIENT, SmsBody("See you Tuesday"))

    [request] = twilio.requests
    assert request.path == f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
    assert request.account_sid == ACCOUNT_SID
    assert (request.field("To"), request.field("From"), request.field("Body")) == (
        "+18051234567",
        "+18059876543",
        "See you Tuesday",
    )
    assert receipt.sid.startswith("SM")
    assert receipt.status is SmsStatus.QUEUED
    assert receipt.sender == CLINIC


def test_a_call_goes_to_twilio_with_twiml_for_when_it_is_answered(twilio: TwilioStandIn) -> None:
    receipt = gateway_for(twilio).start_call(PATIENT)

    [request] = twilio.requests
    assert request.path.endswith("/Calls.json")
    assert request.field("To") == "+18051234567"
    assert request.field("Twiml").startswith("<?xml")
    assert "<Say>" in request.field("Twiml")
    assert receipt.sid.startswith("CA")
    assert receipt.status is CallStatus.QUEUED


def test_a_refusal_carries_twilios_code_and_message_and_is_not_retried(
    twilio: TwilioStandIn,
) -> None:
    twilio.fail_next(400, 21211, "The 'To' number is not a valid phone number")

    with pytest.raises(GatewayError) as refused:
        gateway_for(twilio).send_sms(PATIENT, SmsBody("hi"))

    assert refused.value.code == 21211
    assert refused.value.reason == "The 'To' number is not a valid phone number"
    assert not refused.value.unavailable
    assert len(twilio.requests) == 1


@pytest.mark.parametrize("status", [429, 503])
def test_a_busy_twilio_is_asked_again_and_the_retry_succeeds(
    twilio: TwilioStandIn, status: int
) -> None:
    twilio.fail_next(status, 20429 if status == 429 else None, "Too many requests")

    receipt = gateway_for(twilio).send_sms(PATIENT, SmsBody("hi"))

    assert receipt.sid.startswith("SM")
    assert len(twilio.requests) == 2


def test_retries_stop_after_three_attempts(twilio: TwilioStandIn) -> None:
    twilio.fail_next(503, None, "Service unavailable", times=5)

    with pytest.raises(GatewayError) as unavailable:
        gateway_for(twilio).start_call(PATIENT)

    assert unavailable.value.unavailable
    assert len(twilio.requests) == 3


def test_a_server_error_is_not_retried_because_twilio_may_have_acted(
    twilio: TwilioStandIn,
) -> None:
    twilio.fail_next(500, None, "Internal error")

    with pytest.raises(GatewayError) as unavailable:
        gateway_for(twilio).send_sms(PATIENT, SmsBody("hi"))

    assert unavailable.value.unavailable
    assert len(twilio.requests) == 1


def test_a_stalled_request_times_out_and_is_not_retried(twilio: TwilioStandIn) -> None:
    twilio.stall_next(2.0)

    with pytest.raises(GatewayError) as unavailable:
        gateway_for(twilio, timeout=0.3).send_sms(PATIENT, SmsBody("hi"))

    assert unavailable.value.unavailable
    assert len(twilio.requests) == 1


def test_an_unreachable_twilio_is_tried_three_times() -> None:
    with RunningStandIn() as gone:
        base_url = gone.base_url
    attempts: list[float] = []
    client = twilio_client(ACCOUNT_SID, "secret-token", base_url, 1.0)
    gateway = TwilioGateway(client, CLINIC, sleep=attempts.append)

    with pytest.raises(GatewayError) as unavailable:
        gateway.send_sms(PATIENT, SmsBody("hi"))

    assert unavailable.value.unavailable
    assert len(attempts) == 2  # backoffs between the three attempts
