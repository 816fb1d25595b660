from __future__ import annotations

from dataclasses import dataclass

from ecm_comms.adapters.sids import new_sid
from ecm_comms.domain.clinics import Sender
from ecm_comms.domain.errors import GatewayError
from ecm_comms.domain.phone_numbers import PhoneNumber
from ecm_comms.domain.sms_bodies import SmsBody
from ecm_comms.domain.statuses import CallStatus, SmsStatus
from ecm_comms.ports.gateway import CallReceipt, OutboundCall, OutboundSms, SmsReceipt

CLINIC_NUMBER = PhoneNumber("+18059876543")


@dataclass(frozen=True, slots=True)
class SentSms:
    sid: str
    to: PhoneNumber
    body: SmsBody
    record_id: int
    sender: Sender | None = None


@dataclass(frozen=True, slots=True)
class StartedCall:
    sid: str
    to: PhoneNumber
    connect_to: PhoneNumber | None
    record_id: int
    sender: Sender | None = None


class FakeGateway:
    """Remembers what it was asked to send; ``fail_next`` makes the next request fail."""

    def __init__(self, sender: PhoneNumber = CLINIC_NUMBER) -> None:
        self._sender = sender
        self.sent: list[SentSms] = []
        self.calls: list[StartedCall] = []
        self._failure: GatewayError | None = None

    @property
    def sender(self) -> PhoneNumber:
        return self._sender

    def fail_next(self, error: GatewayError) -> None:
        self._failure = error

    def send_sms(self, sms: OutboundSms) -> SmsReceipt:
        self._raise_pending_failure()
        sid = new_sid("SM")
        self.sent.append(SentSms(sid, sms.to, sms.body, sms.record_id, sms.sender))
        return SmsReceipt(sid=sid, status=SmsStatus.QUEUED, sender=sms.sender.number)

    def start_call(self, call: OutboundCall) -> CallReceipt:
        self._raise_pending_failure()
        sid = new_sid("CA")
        self.calls.append(StartedCall(sid, call.to, call.connect_to, call.record_id, call.sender))
        return CallReceipt(sid=sid, status=CallStatus.QUEUED, sender=call.sender.number)

    def _raise_pending_failure(self) -> None:
        failure, self._failure = self._failure, None
        if failure is not None:
            raise failure
