"""The Twilio adapter, driving the real twilio-python client over HTTP against a stand-in."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from urllib3.util.retry import RequestHistory

from benchmarks.twilio_standin import RunningStandIn, TwilioStandIn
from ecm_comms.adapters.twilio_gateway import (
    MAX_ATTEMPTS,
    REQUEST_TIMEOUT_SECONDS,
    RETRY_BUDGET_SECONDS,
    TwilioGateway,
    twilio_client,
    twilio_retries,
)
from ecm_comms.domain.clinics import Sender
from ecm_comms.domain.errors import GatewayError
from ecm_comms.domain.phone_numbers import PhoneNumber
from ecm_comms.domain.sms_bodies import SmsBody
from ecm_comms.domain.statuses import CallStatus, SmsStatus
from ecm_comms.ports.gateway import OutboundCall, OutboundSms

ACCOUNT_SID = "AC" + "0" * 32
CLINIC = PhoneNumber("+18059876543")
FROM_THE_CLINIC = Sender(CLINIC)  # the shared number the gateway is configured with
PATIENT = PhoneNumber("+18051234567")
COORDINATOR = PhoneNumber("+18055550101")
PUBLIC_BASE_URL = "https://comms.clinic.example"
RECORD_ID = 42
XML = '<?xml version="1.0" encoding="UTF-8"?>'


@pytest.fixture
def twilio() -> Iterator[TwilioStandIn]:
    with RunningStandIn() as standin:
        yield standin


def gateway_for(
    twilio: TwilioStandIn,
    timeout: float = 5.0,
    *,
    public_base_url: str | None = None,
    unavailable_message: str = "",
) -> TwilioGateway:
    client = twilio_client(ACCOUNT_SID, "secret-token", twilio.base_url, timeout)
    return TwilioGateway(
        client,
        CLINIC,
        public_base_url=public_base_url,
        unavailable_message=unavailable_message,
    )


def an_sms(body: str = "hi", record_id: int = RECORD_ID) -> OutboundSms:
    return OutboundSms(record_id, PATIENT, SmsBody(body), FROM_THE_CLINIC)


def a_call(connect_to: PhoneNumber | None = None, record_id: int = RECORD_ID) -> OutboundCall:
    return OutboundCall(record_id, PATIENT, connect_to, FROM_THE_CLINIC)


# --- what goes to Twilio -------------------------------------------------------------------------


def test_an_sms_goes_to_twilio_with_recipient_sender_and_body(twilio: TwilioStandIn) -> None:
    receipt = gateway_for(twilio).send_sms(an_sms("See you Tuesday"))

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


def test_a_call_goes_to_twilio_from_the_clinic_to_the_patient(twilio: TwilioStandIn) -> None:
    receipt = gateway_for(twilio).start_call(a_call(COORDINATOR))

    [request] = twilio.requests
    assert request.path == f"/2010-04-01/Accounts/{ACCOUNT_SID}/Calls.json"
    assert (request.field("To"), request.field("From")) == ("+18051234567", "+18059876543")
    assert receipt.sid.startswith("CA")
    assert receipt.status is CallStatus.QUEUED
    assert receipt.sender == CLINIC


# --- status callbacks ----------------------------------------------------------------------------


def test_an_sms_asks_twilio_to_report_its_status_at_the_public_url_naming_the_record(
    twilio: TwilioStandIn,
) -> None:
    gateway_for(twilio, public_base_url=PUBLIC_BASE_URL).send_sms(an_sms(record_id=7))

    [request] = twilio.requests
    assert request.fields("StatusCallback") == [
        "https://comms.clinic.example/v1/clinic/webhooks/twilio/sms_status?id=7"
    ]


def test_a_call_asks_twilio_to_report_its_status_at_the_public_url_naming_the_record(
    twilio: TwilioStandIn,
) -> None:
    gateway_for(twilio, public_base_url=PUBLIC_BASE_URL).start_call(a_call(record_id=9))

    [request] = twilio.requests
    assert request.fields("StatusCallback") == [
        "https://comms.clinic.example/v1/clinic/webhooks/twilio/voice_status?id=9"
    ]


def test_a_call_asks_twilio_for_every_progress_event_not_only_completion(
    twilio: TwilioStandIn,
) -> None:
    gateway_for(twilio, public_base_url=PUBLIC_BASE_URL).start_call(a_call())

    [request] = twilio.requests
    assert request.fields("StatusCallbackEvent") == [
        "initiated",
        "ringing",
        "answered",
        "completed",
    ]


def test_a_trailing_slash_on_the_public_url_is_not_doubled(twilio: TwilioStandIn) -> None:
    gateway_for(twilio, public_base_url=PUBLIC_BASE_URL + "/").send_sms(an_sms(record_id=7))

    [request] = twilio.requests
    assert request.fields("StatusCallback") == [
        "https://comms.clinic.example/v1/clinic/webhooks/twilio/sms_status?id=7"
    ]


def test_without_a_public_url_an_sms_asks_for_no_status_callback(twilio: TwilioStandIn) -> None:
    gateway_for(twilio, public_base_url=None).send_sms(an_sms())

    [request] = twilio.requests
    assert "StatusCallback" not in request.form


def test_without_a_public_url_a_call_asks_for_no_status_callback(twilio: TwilioStandIn) -> None:
    gateway_for(twilio, public_base_url=None).start_call(a_call())

    [request] = twilio.requests
    assert ("StatusCallback" in request.form, "StatusCallbackEvent" in request.form) == (
        False,
        False,
    )


# --- TwiML for when the patient answers ----------------------------------------------------------


def test_an_answered_call_is_connected_to_the_number_it_is_given(twilio: TwilioStandIn) -> None:
    gateway_for(twilio, unavailable_message="No one is here").start_call(a_call(COORDINATOR))

    [request] = twilio.requests
    assert request.field("Twiml") == f"{XML}<Response><Dial>+18055550101</Dial></Response>"


def test_an_answered_call_with_no_one_to_connect_hears_the_message_and_hangs_up(
    twilio: TwilioStandIn,
) -> None:
    gateway_for(twilio, unavailable_message="Please call us back & text us").start_call(a_call())

    [request] = twilio.requests
    assert request.field("Twiml") == (
        f"{XML}<Response><Say>Please call us back &amp; text us</Say><Hangup /></Response>"
    )


def test_an_answered_call_with_no_one_to_connect_and_no_message_just_hangs_up(
    twilio: TwilioStandIn,
) -> None:
    gateway_for(twilio, unavailable_message="").start_call(a_call())

    [request] = twilio.requests
    assert request.field("Twiml") == f"{XML}<Response><Hangup /></Response>"


# --- failures ------------------------------------------------------------------------------------


def test_a_refusal_carries_twilios_code_and_message_and_is_not_retried(
    twilio: TwilioStandIn,
) -> None:
    twilio.fail_next(400, 21211, "The 'To' number is not a valid phone number")

    with pytest.raises(GatewayError) as refused:
        gateway_for(twilio).send_sms(an_sms())

    assert refused.value.code == 21211
    assert refused.value.reason == "The 'To' number is not a valid phone number"
    assert not refused.value.unavailable
    assert not refused.value.outcome_unknown
    assert len(twilio.requests) == 1


def test_an_opted_out_recipient_is_a_refusal_with_twilios_code(twilio: TwilioStandIn) -> None:
    twilio.fail_next(400, 21610, "Attempt to send to unsubscribed recipient")

    with pytest.raises(GatewayError) as refused:
        gateway_for(twilio).send_sms(an_sms())

    assert (refused.value.code, refused.value.reason, refused.value.unavailable) == (
        21610,
        "Attempt to send to unsubscribed recipient",
        False,
    )


@pytest.mark.parametrize("status", [429, 503])
def test_a_busy_twilio_is_asked_again_and_the_retry_succeeds(
    twilio: TwilioStandIn, status: int
) -> None:
    twilio.fail_next(status, 20429 if status == 429 else None, "Too many requests")

    receipt = gateway_for(twilio).send_sms(an_sms())

    assert receipt.sid.startswith("SM")
    assert len(twilio.requests) == 2


def test_retries_stop_after_three_attempts_and_twilio_surely_did_nothing(
    twilio: TwilioStandIn,
) -> None:
    twilio.fail_next(503, None, "Service unavailable", times=5)

    with pytest.raises(GatewayError) as unavailable:
        gateway_for(twilio).start_call(a_call())

    assert unavailable.value.unavailable
    assert not unavailable.value.outcome_unknown
    assert len(twilio.requests) == 3


def test_a_server_error_is_not_retried_because_twilio_may_have_acted(
    twilio: TwilioStandIn,
) -> None:
    twilio.fail_next(500, None, "Internal error")

    with pytest.raises(GatewayError) as unavailable:
        gateway_for(twilio).send_sms(an_sms())

    assert unavailable.value.unavailable
    assert unavailable.value.outcome_unknown
    assert len(twilio.requests) == 1


def test_a_stalled_request_times_out_and_is_not_retried(twilio: TwilioStandIn) -> None:
    twilio.stall_next(2.0)

    with pytest.raises(GatewayError) as unavailable:
        gateway_for(twilio, timeout=0.3).send_sms(an_sms())

    assert unavailable.value.unavailable
    assert unavailable.value.outcome_unknown
    assert len(twilio.requests) == 1


def test_an_unreachable_twilio_is_tried_three_times(caplog: pytest.LogCaptureFixture) -> None:
    with RunningStandIn() as gone:
        base_url = gone.base_url
    client = twilio_client(ACCOUNT_SID, "secret-token", base_url, 1.0)
    gateway = TwilioGateway(client, CLINIC)

    with (
        caplog.at_level(logging.WARNING, logger="urllib3.connectionpool"),
        pytest.raises(GatewayError) as unavailable,
    ):
        gateway.send_sms(an_sms())

    assert unavailable.value.unavailable
    assert not unavailable.value.outcome_unknown  # it never reached Twilio
    retries = [r for r in caplog.records if r.getMessage().startswith("Retrying")]
    assert len(retries) == 2  # the attempts after the first


def test_every_attempt_and_its_backoff_end_within_the_retry_budget() -> None:
    retries = twilio_retries()
    attempts = retries.total + 1
    failure = RequestHistory("POST", "/Messages.json", None, 503, None)
    backoffs = sum(
        retries.new(history=(failure,) * failures).get_backoff_time()
        for failures in range(1, attempts)
    )

    # A request that answers before the server's 30 s limit, whatever Twilio does.
    assert attempts == MAX_ATTEMPTS
    assert attempts * REQUEST_TIMEOUT_SECONDS + backoffs <= RETRY_BUDGET_SECONDS
    assert retries.respect_retry_after_header is False
