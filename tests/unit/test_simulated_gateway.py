"""SimulatedGateway: answers as Twilio does with test credentials, and sends nothing."""

from __future__ import annotations

import re

import pytest

from ecm_comms.adapters.simulated_gateway import DEFAULT_SENDER, SimulatedGateway
from ecm_comms.domain.clinics import Sender
from ecm_comms.domain.errors import GatewayError
from ecm_comms.domain.phone_numbers import PhoneNumber
from ecm_comms.domain.sms_bodies import SmsBody
from ecm_comms.domain.statuses import CallStatus, SmsStatus
from ecm_comms.ports.gateway import OutboundCall, OutboundSms

PATIENT = PhoneNumber("+18051234567")
HELLO = SmsBody("Hello")
CLINIC = PhoneNumber("+18059876543")
SHARED = Sender(DEFAULT_SENDER)  # what a clinic without numbers of its own sends from


def sms_to(to: PhoneNumber = PATIENT, sender: Sender = SHARED) -> OutboundSms:
    return OutboundSms(record_id=1, to=to, body=HELLO, sender=sender)


def call_to(to: PhoneNumber = PATIENT, sender: Sender = SHARED) -> OutboundCall:
    return OutboundCall(record_id=1, to=to, connect_to=None, sender=sender)


def test_an_sms_sid_is_sm_and_32_lowercase_hex_digits() -> None:
    receipt = SimulatedGateway().send_sms(sms_to())

    assert re.fullmatch(r"SM[0-9a-f]{32}", receipt.sid), receipt.sid


def test_a_call_sid_is_ca_and_32_lowercase_hex_digits() -> None:
    receipt = SimulatedGateway().start_call(call_to())

    assert re.fullmatch(r"CA[0-9a-f]{32}", receipt.sid), receipt.sid


def test_every_sms_gets_its_own_sid() -> None:
    gateway = SimulatedGateway()

    sids = {gateway.send_sms(sms_to()).sid for _ in range(5)}

    assert len(sids) == 5


def test_a_new_sms_is_queued() -> None:
    assert SimulatedGateway().send_sms(sms_to()).status is SmsStatus.QUEUED


def test_a_new_call_is_queued() -> None:
    assert SimulatedGateway().start_call(call_to()).status is CallStatus.QUEUED


def test_the_receipt_names_the_configured_sender_when_asked_to_send_from_it() -> None:
    gateway = SimulatedGateway(sender=CLINIC)

    assert gateway.send_sms(sms_to(sender=Sender(gateway.sender))).sender == CLINIC


def test_the_receipt_names_the_number_it_was_asked_to_send_from() -> None:
    clinics_own = Sender(PhoneNumber("+18055550600"), clinic_id=1)

    receipt = SimulatedGateway(sender=CLINIC).send_sms(sms_to(sender=clinics_own))

    assert receipt.sender == clinics_own.number


def test_the_sender_is_the_configured_number() -> None:
    assert SimulatedGateway(sender=CLINIC).sender == CLINIC


def test_without_a_configured_number_the_sender_is_twilios_magic_sender() -> None:
    assert SimulatedGateway().sender == PhoneNumber("+15005550006")


def test_the_call_receipt_names_the_configured_sender_when_asked_to_call_from_it() -> None:
    gateway = SimulatedGateway(sender=CLINIC)

    assert gateway.start_call(call_to(sender=Sender(gateway.sender))).sender == CLINIC


def test_the_call_receipt_names_the_number_it_was_asked_to_call_from() -> None:
    clinics_own = Sender(PhoneNumber("+18055550600"), clinic_id=1)

    receipt = SimulatedGateway(sender=CLINIC).start_call(call_to(sender=clinics_own))

    assert receipt.sender == clinics_own.number


def test_twilios_invalid_number_refuses_an_sms_with_21211() -> None:
    with pytest.raises(GatewayError) as refused:
        SimulatedGateway().send_sms(sms_to(PhoneNumber("+15005550001")))

    assert refused.value.code == 21211
    assert refused.value.unavailable is False


def test_twilios_invalid_number_refuses_a_call_with_21211() -> None:
    with pytest.raises(GatewayError) as refused:
        SimulatedGateway().start_call(call_to(PhoneNumber("+15005550001")))

    assert refused.value.code == 21211


def test_twilios_unsubscribed_number_refuses_an_sms_with_21610() -> None:
    with pytest.raises(GatewayError) as refused:
        SimulatedGateway().send_sms(sms_to(PhoneNumber("+15005550004")))

    assert refused.value.code == 21610


@pytest.mark.parametrize(
    ("to", "code"),
    [
        ("+15005550002", 21612),
        ("+15005550003", 21408),
        ("+15005550009", 21614),
    ],
)
def test_twilios_other_magic_numbers_refuse_with_their_codes(to: str, code: int) -> None:
    with pytest.raises(GatewayError) as refused:
        SimulatedGateway().send_sms(sms_to(PhoneNumber(to)))

    assert (refused.value.code, refused.value.unavailable) == (code, False)


def test_a_refusal_names_the_number_where_twilio_does() -> None:
    with pytest.raises(GatewayError) as refused:
        SimulatedGateway().send_sms(sms_to(PhoneNumber("+15005550001")))

    assert "+15005550001" in refused.value.reason
