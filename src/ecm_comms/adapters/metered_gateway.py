"""Any messaging gateway, with each of its answers counted: accepted, refused, unavailable."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from ecm_comms.domain.channels import Channel
from ecm_comms.domain.errors import GatewayError
from ecm_comms.domain.phone_numbers import PhoneNumber
from ecm_comms.ports.gateway import (
    CallReceipt,
    MessagingGateway,
    OutboundCall,
    OutboundSms,
    SmsReceipt,
)
from ecm_comms.ports.metrics import OutreachMetrics, ProviderOutcome

_Request = TypeVar("_Request")
_Receipt = TypeVar("_Receipt")


class MeteredGateway:
    def __init__(self, gateway: MessagingGateway, metrics: OutreachMetrics) -> None:
        self._gateway = gateway
        self._metrics = metrics

    @property
    def sender(self) -> PhoneNumber:
        return self._gateway.sender

    def send_sms(self, sms: OutboundSms) -> SmsReceipt:
        return self._counted(Channel.SMS, self._gateway.send_sms, sms)

    def start_call(self, call: OutboundCall) -> CallReceipt:
        return self._counted(Channel.CALL, self._gateway.start_call, call)

    def _counted(
        self, channel: Channel, ask: Callable[[_Request], _Receipt], request: _Request
    ) -> _Receipt:
        try:
            receipt = ask(request)
        except GatewayError as error:
            self._metrics.provider_answered(channel, ProviderOutcome.of(error), error.code)
            raise
        self._metrics.provider_answered(channel, ProviderOutcome.ACCEPTED, None)
        return receipt
