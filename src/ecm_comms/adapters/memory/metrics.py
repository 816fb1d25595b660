"""Metrics as a tally a test can read: ``metrics.counts[("opt_out_recorded", "keyword")] == 1``."""

from __future__ import annotations

from collections import Counter

from ecm_comms.domain.automated_sms import reason_kind
from ecm_comms.domain.channels import Channel
from ecm_comms.domain.consent import ConsentSource
from ecm_comms.ports.metrics import AutomatedOrigin, ProviderOutcome

Key = tuple[str, ...]


class CountingMetrics:
    """Each event under its name and labels, as the service's Prometheus metrics label it."""

    def __init__(self) -> None:
        self.counts: Counter[Key] = Counter()
        self.requests: list[tuple[str, str, int]] = []  # route, method, status

    def request_served(self, route: str, method: str, status: int, seconds: float) -> None:
        self.requests.append((route, method, status))

    def webhook_signature_refused(self) -> None:
        self.counts[("webhook_signature_refused",)] += 1

    def exposition(self) -> tuple[bytes, str]:
        lines = (" ".join(key) + f" {count}" for key, count in sorted(self.counts.items()))
        return "\n".join(lines).encode(), "text/plain; charset=utf-8"

    def provider_answered(
        self, channel: Channel, outcome: ProviderOutcome, error_code: int | None
    ) -> None:
        code = "" if error_code is None else str(error_code)
        self.counts[("provider_answered", channel.value, outcome.value, code)] += 1

    def stale_status_ignored(self, channel: Channel) -> None:
        self.counts[("stale_status_ignored", channel.value)] += 1

    def inbound_unmatched(self, channel: Channel) -> None:
        self.counts[("inbound_unmatched", channel.value)] += 1

    def opt_out_recorded(self, source: ConsentSource) -> None:
        self.counts[("opt_out_recorded", source.value)] += 1

    def automated_sms_scheduled(self, origin: AutomatedOrigin, count: int) -> None:
        self.counts[("automated_sms_scheduled", origin.value)] += count

    def automated_sms_sent(self) -> None:
        self.counts[("automated_sms_sent",)] += 1

    def automated_sms_skipped(self, reason: str, count: int = 1) -> None:
        self.counts[("automated_sms_skipped", reason_kind(reason))] += count

    def automated_sms_retried(self) -> None:
        self.counts[("automated_sms_retried",)] += 1

    def automated_sms_failed(self) -> None:
        self.counts[("automated_sms_failed",)] += 1
