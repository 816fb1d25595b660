"""The messaging provider (Twilio in production)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from ecm_comms.domain.clinics import Sender
from ecm_comms.domain.phone_numbers import PhoneNumber
from ecm_comms.domain.sms_bodies import SmsBody
from ecm_comms.domain.statuses import CallStatus, SmsStatus


@dataclass(frozen=True, slots=True)
class OutboundSms:
    record_id: int  # our record's id, carried in the status-callback URL
    to: PhoneNumber
    body: SmsBody
    sender: Sender  # From, or the Messaging Service when the number has one


@dataclass(frozen=True, slots=True)
class OutboundCall:
    record_id: int  # our record's id, carried in the status-callback URL
    to: PhoneNumber
    connect_to: PhoneNumber | None  # who the patient talks to on answering; None: a message
    sender: Sender  # From (calls have no Messaging Service)


@dataclass(frozen=True, slots=True)
class SmsReceipt:
    sid: str
    status: SmsStatus
    sender: PhoneNumber


@dataclass(frozen=True, slots=True)
class CallReceipt:
    sid: str
    status: CallStatus
    sender: PhoneNumber


class MessagingGateway(Protocol):
    """Hands an SMS or call to the provider.

    Raises ``ecm_comms.domain.errors.GatewayError`` when the provider refuses or cannot be reached.
    """

    @property
    def sender(self) -> PhoneNumber:
        """The shared number SMS and calls come from when their clinic has none of its own."""

    def send_sms(self, sms: OutboundSms) -> SmsReceipt: ...

    def start_call(self, call: OutboundCall) -> CallReceipt: ...
