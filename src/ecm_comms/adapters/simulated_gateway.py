"""A gateway that sends nothing: for the embedded default, demos and development.

It answers as Twilio does with test credentials, including Twilio's magic "To" numbers, so a
developer can see each failure by hand without an account.
"""

from __future__ import annotations

from ecm_comms.adapters.sids import new_sid
from ecm_comms.domain.errors import GatewayError
from ecm_comms.domain.phone_numbers import PhoneNumber
from ecm_comms.domain.statuses import CallStatus, SmsStatus
from ecm_comms.ports.gateway import CallReceipt, OutboundCall, OutboundSms, SmsReceipt

# Twilio's own test number that is always a valid sender.
DEFAULT_SENDER = PhoneNumber("+15005550006")

# https://www.twilio.com/docs/iam/test-credentials — the numbers Twilio's test credentials refuse.
_REFUSED = {
    "+15005550001": (21211, "The 'To' number {to} is not a valid phone number."),
    "+15005550002": (21612, "The 'To' phone number: {to}, is not currently reachable."),
    "+15005550003": (21408, "Permission to send an SMS has not been enabled for the region."),
    "+15005550004": (21610, "Attempt to send to unsubscribed recipient"),
    "+15005550009": (21614, "'To' number is not a valid mobile number"),
}


class SimulatedGateway:
    def __init__(self, sender: PhoneNumber = DEFAULT_SENDER) -> None:
        self._sender = sender

    @property
    def sender(self) -> PhoneNumber:
        return self._sender

    def send_sms(self, sms: OutboundSms) -> SmsReceipt:
        self._refuse_magic_numbers(sms.to)
        return SmsReceipt(sid=new_sid("SM"), status=SmsStatus.QUEUED, sender=sms.sender.number)

    def start_call(self, call: OutboundCall) -> CallReceipt:
        self._refuse_magic_numbers(call.to)
        return CallReceipt(sid=new_sid("CA"), status=CallStatus.QUEUED, sender=call.sender.number)

    @staticmethod
    def _refuse_magic_numbers(to: PhoneNumber) -> None:
        if to.e164 in _REFUSED:
            code, template = _REFUSED[to.e164]
            raise GatewayError(template.format(to=to.e164), code=code)
