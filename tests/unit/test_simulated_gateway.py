"""SimulatedGateway: answers as Twilio does with test credentials, and sends nothing."""

from __future__ import annotations

import re

import pytest

from ecm_comms.adapters.simulated_gateway import SimulatedGateway
from ecm_comms.domain.errors import GatewayError
from ecm_comms.domain.phone_numbers import PhoneNumber
from ecm_comms.domain.sms_bodies import SmsBody
from ecm_comms.domain.statuses import CallStatus, SmsStatus

PATIENT = PhoneNumber("+18051234567")
HELLO = SmsBody("Hello")


def test_an_sms_sid_is_sm_and_32_lowercase_hex_digits() -> None:
    receipt = SimulatedGateway().send_sms(PATIENT, HELLO)

    assert re.fullmatch(r"SM[0-9a-f]{32}", receipt.sid), receipt.sid


def test_a_call_sid_is_ca_and_32_lowercase_hex_digits() -> None:
    receipt = SimulatedGateway().start_call(PATIENT)

    assert re.fullmatch(r"CA[0-9a-f]{32}", receipt.sid), receipt.sid


def test_every_sms_gets_its_own_sid() -> None:
    gateway = SimulatedGateway()

    sids = {gateway.send_sms(PATIENT, HELLO).sid for _ in range(5)}

    assert len(sids) == 5


def test_a_new_sms_is_queued() -> None:
    assert SimulatedGateway().send_sms(PATIENT, HELLO).status is SmsStatus.QUEUED


def test_a_new_call_is_queued() -> None:
    assert SimulatedGateway().start_call(PATIENT).status is CallStatus.QUEUED


def test_the_receipt_names_the_configured_sender() -> None:
    clinic = PhoneNumber("+18059876543")

    assert SimulatedGateway(sender=clinic).send_sms(PATIENT, HELLO).sender == clinic


def test_twilios_invalid_number_refuses_an_sms_with_21211() -> None:
    with pytest.raises(GatewayError) as refused:
        SimulatedGateway().send_sms(PhoneNumber("+15005550001"), HELLO)

    assert refused.value.code == 21211
    assert refused.value.unavailable is False


def test_twilios_invalid_number_refuses_a_call_with_21211() -> None:
    with pytest.raises(GatewayError) as refused:
        SimulatedGateway().start_call(PhoneNumber("+15005550001"))

    assert refused.value.code == 21211


def test_twilios_unsubscribed_number_refuses_an_sms_with_21610() -> None:
    with pytest.raises(GatewayError) as refused:
        SimulatedGateway().send_sms(PhoneNumber("+15005550004"), HELLO)

    assert refused.value.code == 21610
