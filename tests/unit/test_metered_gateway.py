"""The metered gateway: every answer of the provider counted by channel, outcome and error code,
and otherwise the provider's answer, unchanged."""

from __future__ import annotations

import pytest

from ecm_comms.adapters.memory import CountingMetrics, FakeGateway
from ecm_comms.adapters.metered_gateway import MeteredGateway
from ecm_comms.domain.clinics import Sender
from ecm_comms.domain.errors import GatewayError
from ecm_comms.domain.phone_numbers import PhoneNumber
from ecm_comms.domain.sms_bodies import SmsBody
from ecm_comms.ports.gateway import OutboundCall, OutboundSms

CLINIC = PhoneNumber("+18059876543")
PATIENT = PhoneNumber("+18051234567")
AN_SMS = OutboundSms(42, PATIENT, SmsBody("See you Tuesday"), Sender(CLINIC))
A_CALL = OutboundCall(43, PATIENT, None, Sender(CLINIC))
INVALID_NUMBER = GatewayError("The 'To' number is not a valid phone number", code=21211)
TIMED_OUT = GatewayError("Twilio did not answer in time", unavailable=True)


@pytest.fixture
def provider() -> FakeGateway:
    return FakeGateway(CLINIC)


@pytest.fixture
def metrics() -> CountingMetrics:
    return CountingMetrics()


@pytest.fixture
def metered(provider: FakeGateway, metrics: CountingMetrics) -> MeteredGateway:
    return MeteredGateway(provider, metrics)


def test_an_accepted_sms_is_counted_and_its_receipt_returned(
    metered: MeteredGateway, provider: FakeGateway, metrics: CountingMetrics
) -> None:
    receipt = metered.send_sms(AN_SMS)

    assert receipt.sid == provider.sent[0].sid
    assert metrics.counts == {("provider_answered", "sms", "accepted", ""): 1}


def test_an_accepted_call_is_counted_as_a_call(
    metered: MeteredGateway, provider: FakeGateway, metrics: CountingMetrics
) -> None:
    receipt = metered.start_call(A_CALL)

    assert receipt.sid == provider.calls[0].sid
    assert metrics.counts == {("provider_answered", "call", "accepted", ""): 1}


def test_a_refusal_is_counted_with_twilios_error_code(
    metered: MeteredGateway, provider: FakeGateway, metrics: CountingMetrics
) -> None:
    provider.fail_next(INVALID_NUMBER)

    with pytest.raises(GatewayError):
        metered.send_sms(AN_SMS)

    assert metrics.counts == {("provider_answered", "sms", "refused", "21211"): 1}


def test_an_unavailable_provider_is_counted_as_unavailable(
    metered: MeteredGateway, provider: FakeGateway, metrics: CountingMetrics
) -> None:
    provider.fail_next(TIMED_OUT)

    with pytest.raises(GatewayError):
        metered.start_call(A_CALL)

    assert metrics.counts == {("provider_answered", "call", "unavailable", ""): 1}


def test_the_providers_error_is_raised_again_unchanged(
    metered: MeteredGateway, provider: FakeGateway
) -> None:
    provider.fail_next(INVALID_NUMBER)

    with pytest.raises(GatewayError) as raised:
        metered.send_sms(AN_SMS)

    assert raised.value is INVALID_NUMBER


def test_the_sender_is_the_providers(metered: MeteredGateway) -> None:
    assert metered.sender == CLINIC
