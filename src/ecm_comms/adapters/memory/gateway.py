from __future__ import annotations

from dataclasses import dataclass

from ecm_comms.adapters.sids import new_sid
from ecm_comms.domain.errors import GatewayError
from ecm_comms.domain.phone_numbers import PhoneNumber
from ecm_comms.domain.sms_bodies import SmsBody
from ecm_comms.domain.statuses import CallStatus, SmsStatus
from ecm_comms.ports.gateway import CallReceipt, SmsReceipt

CLINIC_NUMBER = PhoneNumber("+18059876543")


@dataclass(frozen=True, slots=True)
class SentSms:
    sid: str
    to: PhoneNumber
    body: SmsBody


@dataclass(frozen=True, slots=True)
class StartedCall:
    sid: str
    to: PhoneNumber


class FakeGateway:
    """Remembers what it was asked to send; ``fail_next`` makes the next request fail."""

    def __init__(self, sender: PhoneNumber = CLINIC_NUMBER) -> None:
        self.sender = sender
        self.sent: list[SentSms] = []
        self.calls: list[StartedCall] = []
        self._failure: GatewayError | None = None

    def fail_next(self, error: GatewayError) -> None:
        self._failure = error

    def send_sms(self, to: PhoneNumber, body: SmsBody) -> SmsReceipt:
        self._raise_pending_failure()
        sms = SentSms(new_sid("SM"), to, body)
        self.sent.append(sms)
        return SmsReceipt(sid=sms.sid, status=SmsStatus.QUEUED, sender=self.sender)

    def start_call(self, to: PhoneNumber) -> CallReceipt:
        self._raise_pending_failure()
        call = StartedCall(new_sid("CA"), to)
        self.calls.append(call)
        return CallReceipt(sid=call.sid, status=CallStatus.QUEUED, sender=self.sender)

    def _raise_pending_failure(self) -> None:
        failure, self._failure = self._failure, None
        if failure is not None:
            raise failure
