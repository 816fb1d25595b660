"""The service's metrics in Prometheus, with prometheus-client.

Under gunicorn each worker process counts in files of its own in ``PROMETHEUS_MULTIPROC_DIR``,
and a scrape of any worker adds them all up (prometheus-client's multiprocess mode). The library
decides between those files and plain in-process counters when it is first imported, so only
this module imports it, and only the container imports this module, once a process knows which
it is (``entrypoints/cli/server.py`` names the directory before any worker starts).

Labels are bounded sets: route templates (never a path with an id in it), methods, statuses,
Twilio's error codes, enums. No label ever holds a number, a name or a body.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector

from ecm_comms.domain.automated_sms import reason_kind
from ecm_comms.domain.channels import Channel
from ecm_comms.domain.consent import ConsentSource
from ecm_comms.domain.errors import StorageUnavailable
from ecm_comms.ports.metrics import AutomatedOrigin, ProviderOutcome

log = logging.getLogger(__name__)

MULTIPROCESS_DIRECTORY = "PROMETHEUS_MULTIPROC_DIR"

# From a cached read to a report: most requests take milliseconds, Twilio's round trip
# hundreds of them, and the server gives up at 30 s.
_DURATION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

REQUESTS = Counter(
    "ecm_http_requests",
    "HTTP requests answered, by route template, method and status.",
    ["route", "method", "status"],
)
REQUEST_SECONDS = Histogram(
    "ecm_http_request_duration_seconds",
    "Time to answer an HTTP request, by route template and method.",
    ["route", "method"],
    buckets=_DURATION_BUCKETS,
)
TWILIO_REQUESTS = Counter(
    "ecm_twilio_requests",
    "Requests to Twilio to send an SMS or start a call, by outcome and Twilio error code.",
    ["channel", "outcome", "error_code"],
)
SIGNATURE_FAILURES = Counter(
    "ecm_webhook_signature_failures",
    "Webhooks refused because Twilio's signature was missing or did not hold.",
)
STALE_CALLBACKS = Counter(
    "ecm_status_callbacks_stale",
    "Status callbacks ignored: they would have moved a record's status backwards.",
    ["channel"],
)
INBOUND_UNMATCHED = Counter(
    "ecm_inbound_unmatched",
    "Inbound SMS and calls from a number no patient of the clinic has.",
    ["channel"],
)
OPT_OUTS = Counter(
    "ecm_opt_outs_recorded",
    "Opt-outs recorded: STOP keywords, carrier refusals (21610), staff.",
    ["source"],
)
SCHEDULED = Counter(
    "ecm_automated_sms_scheduled",
    "Automated SMS scheduled, one by one or by campaigns.",
    ["origin"],
)
SENT = Counter("ecm_automated_sms_sent", "Automated SMS the workers handed to Twilio.")
SKIPPED = Counter(
    "ecm_automated_sms_skipped",
    "Automated SMS the sending rules held back, by reason.",
    ["reason"],
)
RETRIED = Counter(
    "ecm_automated_sms_retried", "Automated SMS put back on the queue after a transient failure."
)
FAILED = Counter("ecm_automated_sms_failed", "Automated SMS refused by Twilio, or out of attempts.")

Backlog = Callable[[], int]


class PrometheusMetrics:
    """Counts in prometheus-client's metrics above, and answers a scrape."""

    def __init__(self, backlog: Backlog) -> None:
        self._backlog = backlog

    def request_served(self, route: str, method: str, status: int, seconds: float) -> None:
        REQUESTS.labels(route, method, str(status)).inc()
        REQUEST_SECONDS.labels(route, method).observe(seconds)

    def webhook_signature_refused(self) -> None:
        SIGNATURE_FAILURES.inc()

    def provider_answered(
        self, channel: Channel, outcome: ProviderOutcome, error_code: int | None
    ) -> None:
        code = "" if error_code is None else str(error_code)
        TWILIO_REQUESTS.labels(channel.value, outcome.value, code).inc()

    def stale_status_ignored(self, channel: Channel) -> None:
        STALE_CALLBACKS.labels(channel.value).inc()

    def inbound_unmatched(self, channel: Channel) -> None:
        INBOUND_UNMATCHED.labels(channel.value).inc()

    def opt_out_recorded(self, source: ConsentSource) -> None:
        OPT_OUTS.labels(source.value).inc()

    def automated_sms_scheduled(self, origin: AutomatedOrigin, count: int) -> None:
        SCHEDULED.labels(origin.value).inc(count)

    def automated_sms_sent(self) -> None:
        SENT.inc()

    def automated_sms_skipped(self, reason: str, count: int = 1) -> None:
        SKIPPED.labels(reason_kind(reason)).inc(count)

    def automated_sms_retried(self) -> None:
        RETRIED.inc()

    def automated_sms_failed(self) -> None:
        FAILED.inc()

    def exposition(self) -> tuple[bytes, str]:
        """Every metric in Prometheus' text format, and its content type."""
        registry = CollectorRegistry(auto_describe=False)
        if os.environ.get(MULTIPROCESS_DIRECTORY):
            MultiProcessCollector(registry)  # type: ignore[no-untyped-call]  # every worker's files, added up
        else:
            registry.register(REGISTRY)  # this process's counters, and the process collectors
        registry.register(_BacklogCollector(self._backlog))
        return generate_latest(registry), CONTENT_TYPE_LATEST


class _BacklogCollector:
    """The send queue's backlog, read from the database at each scrape: it is the same for every
    process, so it is not added up."""

    def __init__(self, backlog: Backlog) -> None:
        self._backlog = backlog

    def collect(self) -> Iterator[Metric]:
        try:
            waiting = self._backlog()
        except StorageUnavailable:
            log.warning("the send queue's backlog could not be read: the database is unavailable")
            return
        yield GaugeMetricFamily(
            "ecm_send_queue_backlog",
            "Batches of automated SMS waiting in the send queue, due now or later.",
            value=waiting,
        )
