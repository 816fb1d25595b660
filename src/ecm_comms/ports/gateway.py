"""The messaging provider (Twilio in production)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from ecm_comms.domain.phone_numbers import PhoneNumber
from ecm_comms.domain.sms_bodies import SmsBody
from ecm_comms.domain.statuses import CallStatus, SmsStatus


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

    def send_sms(self, to: PhoneNumber, body: SmsBody) -> SmsReceipt: ...

    def start_call(self, to: PhoneNumber) -> CallReceipt: ...
