"""What operators count: the outreach's events, each told once the change it counts is committed.

The service counts them in Prometheus (``adapters/prometheus_metrics.py``); a library user who
passes nothing to the use cases counts nothing (``UNCOUNTED``).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Protocol

from ecm_comms.domain.channels import Channel
from ecm_comms.domain.consent import ConsentSource
from ecm_comms.domain.errors import GatewayError


class ProviderOutcome(StrEnum):
    """How the messaging provider answered a request to send an SMS or start a call."""

    ACCEPTED = "accepted"
    REFUSED = "refused"  # it answered no (Twilio's 4xx, with its error code)
    UNAVAILABLE = "unavailable"  # no answer, or an error of its own (5xx, a timeout)

    @classmethod
    def of(cls, error: GatewayError | None) -> ProviderOutcome:
        if error is None:
            return cls.ACCEPTED
        return cls.UNAVAILABLE if error.unavailable else cls.REFUSED


class AutomatedOrigin(StrEnum):
    SCHEDULED_SMS = "scheduled_sms"  # one SMS a coordinator scheduled
    CAMPAIGN = "campaign"


class OutreachMetrics(Protocol):
    def provider_answered(
        self, channel: Channel, outcome: ProviderOutcome, error_code: int | None
    ) -> None:
        """The provider answered (or failed to answer) one request to send or call."""

    def stale_status_ignored(self, channel: Channel) -> None:
        """A status callback that would have moved a record backwards changed nothing."""

    def inbound_unmatched(self, channel: Channel) -> None:
        """An SMS or call came from a number no patient of the clinic called has."""

    def opt_out_recorded(self, source: ConsentSource) -> None: ...

    def automated_sms_scheduled(self, origin: AutomatedOrigin, count: int) -> None: ...

    def automated_sms_sent(self) -> None:
        """A worker handed an automated SMS to the provider, which accepted it."""

    def automated_sms_skipped(self, reason: str, count: int = 1) -> None:
        """Skipped by the sending rules, for ``reason`` (a ``SkipReason``, or a campaign's
        missing value)."""

    def automated_sms_retried(self) -> None:
        """A transient failure: the SMS goes back to the queue for another attempt."""

    def automated_sms_failed(self) -> None:
        """Refused by the provider, or out of attempts."""


class ServiceMetrics(OutreachMetrics, Protocol):
    """The outreach's counts, and what the served service adds: its requests, and scrapes."""

    def request_served(self, route: str, method: str, status: int, seconds: float) -> None:
        """``route`` is the route's template, never the path (which holds patients' ids)."""

    def webhook_signature_refused(self) -> None: ...

    def exposition(self) -> tuple[bytes, str]:
        """Every metric in the scraper's format, and that format's content type."""


class Uncounted:
    """Counts nothing: the use cases' default, for a library user without metrics, and the
    service's with ECM_METRICS=off."""

    def request_served(self, route: str, method: str, status: int, seconds: float) -> None:
        pass

    def webhook_signature_refused(self) -> None:
        pass

    def exposition(self) -> tuple[bytes, str]:
        return b"", "text/plain; charset=utf-8"

    def provider_answered(
        self, channel: Channel, outcome: ProviderOutcome, error_code: int | None
    ) -> None:
        pass

    def stale_status_ignored(self, channel: Channel) -> None:
        pass

    def inbound_unmatched(self, channel: Channel) -> None:
        pass

    def opt_out_recorded(self, source: ConsentSource) -> None:
        pass

    def automated_sms_scheduled(self, origin: AutomatedOrigin, count: int) -> None:
        pass

    def automated_sms_sent(self) -> None:
        pass

    def automated_sms_skipped(self, reason: str, count: int = 1) -> None:
        pass

    def automated_sms_retried(self) -> None:
        pass

    def automated_sms_failed(self) -> None:
        pass


UNCOUNTED: ServiceMetrics = Uncounted()
