"""The Prometheus adapter: each count shows in the scrape, under bounded labels; the send queue's
backlog is read at each scrape.

prometheus-client's counters belong to the process, and other tests count in them too, so each
test reads a sample before and after, and looks at the difference.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import pytest
from prometheus_client import CONTENT_TYPE_LATEST
from prometheus_client.parser import text_string_to_metric_families

from ecm_comms.adapters.prometheus_metrics import PrometheusMetrics
from ecm_comms.domain.automated_sms import SkipReason, missing_value
from ecm_comms.domain.channels import Channel
from ecm_comms.domain.consent import ConsentSource
from ecm_comms.domain.errors import StorageUnavailable
from ecm_comms.ports.metrics import AutomatedOrigin, ProviderOutcome

ROUTE = "/v1/clinic/ecm/communications/sms/<int:sms_id>"
BACKLOG = "ecm_send_queue_backlog"

Labels = dict[str, str]


def scraped(metrics: PrometheusMetrics) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a scrape, by name and labels."""
    text, _ = metrics.exposition()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text.decode())
        for sample in family.samples
    }


def sample(metrics: PrometheusMetrics, name: str, labels: Labels | None = None) -> float:
    return scraped(metrics).get((name, tuple(sorted((labels or {}).items()))), 0.0)


def counted(
    metrics: PrometheusMetrics,
    name: str,
    labels: Labels | None,
    event: Callable[[PrometheusMetrics], None],
) -> float:
    """How much ``event`` added to the sample ``name`` of the scrape."""
    before = sample(metrics, name, labels)
    event(metrics)
    return sample(metrics, name, labels) - before


@pytest.fixture
def metrics() -> PrometheusMetrics:
    return PrometheusMetrics(backlog=lambda: 7)


EVENTS: dict[str, tuple[Callable[[PrometheusMetrics], None], str, Labels | None, float]] = {
    "a request served": (
        lambda m: m.request_served(ROUTE, "GET", 200, 0.012),
        "ecm_http_requests_total",
        {"route": ROUTE, "method": "GET", "status": "200"},
        1,
    ),
    "a request's duration": (
        lambda m: m.request_served(ROUTE, "GET", 200, 0.012),
        "ecm_http_request_duration_seconds_count",
        {"route": ROUTE, "method": "GET"},
        1,
    ),
    "a request's duration in its bucket": (
        lambda m: m.request_served(ROUTE, "GET", 200, 0.012),
        "ecm_http_request_duration_seconds_bucket",
        {"route": ROUTE, "method": "GET", "le": "0.025"},
        1,
    ),
    "a webhook signature refused": (
        lambda m: m.webhook_signature_refused(),
        "ecm_webhook_signature_failures_total",
        None,
        1,
    ),
    "an SMS Twilio accepted": (
        lambda m: m.provider_answered(Channel.SMS, ProviderOutcome.ACCEPTED, None),
        "ecm_twilio_requests_total",
        {"channel": "sms", "outcome": "accepted", "error_code": ""},
        1,
    ),
    "a call Twilio refused": (
        lambda m: m.provider_answered(Channel.CALL, ProviderOutcome.REFUSED, 21211),
        "ecm_twilio_requests_total",
        {"channel": "call", "outcome": "refused", "error_code": "21211"},
        1,
    ),
    "a stale status callback": (
        lambda m: m.stale_status_ignored(Channel.CALL),
        "ecm_status_callbacks_stale_total",
        {"channel": "call"},
        1,
    ),
    "an unmatched inbound SMS": (
        lambda m: m.inbound_unmatched(Channel.SMS),
        "ecm_inbound_unmatched_total",
        {"channel": "sms"},
        1,
    ),
    "a carrier opt-out": (
        lambda m: m.opt_out_recorded(ConsentSource.CARRIER),
        "ecm_opt_outs_recorded_total",
        {"source": "carrier_21610"},
        1,
    ),
    "a campaign's scheduled SMS": (
        lambda m: m.automated_sms_scheduled(AutomatedOrigin.CAMPAIGN, 40),
        "ecm_automated_sms_scheduled_total",
        {"origin": "campaign"},
        40,
    ),
    "an automated SMS sent": (
        lambda m: m.automated_sms_sent(),
        "ecm_automated_sms_sent_total",
        None,
        1,
    ),
    "automated SMS skipped": (
        lambda m: m.automated_sms_skipped(SkipReason.FREQUENCY_CAP, 3),
        "ecm_automated_sms_skipped_total",
        {"reason": "frequency_cap"},
        3,
    ),
    "an automated SMS retried": (
        lambda m: m.automated_sms_retried(),
        "ecm_automated_sms_retried_total",
        None,
        1,
    ),
    "an automated SMS failed": (
        lambda m: m.automated_sms_failed(),
        "ecm_automated_sms_failed_total",
        None,
        1,
    ),
}


@pytest.mark.parametrize("event", list(EVENTS))
def test_each_count_shows_in_the_scrape(metrics: PrometheusMetrics, event: str) -> None:
    tell, name, labels, added = EVENTS[event]

    assert counted(metrics, name, labels, tell) == added


def test_a_missing_value_is_labelled_by_its_kind_not_by_the_placeholder(
    metrics: PrometheusMetrics,
) -> None:
    added = counted(
        metrics,
        "ecm_automated_sms_skipped_total",
        {"reason": "missing_value"},
        lambda m: m.automated_sms_skipped(missing_value("appointment")),
    )

    assert added == 1
    text, _ = metrics.exposition()
    assert b"appointment" not in text


def test_the_scrape_is_in_prometheus_text_format(metrics: PrometheusMetrics) -> None:
    text, content_type = metrics.exposition()

    assert content_type == CONTENT_TYPE_LATEST
    assert b"# TYPE ecm_http_requests_total counter" in text


def test_the_scrape_includes_the_send_queue_backlog(metrics: PrometheusMetrics) -> None:
    assert sample(metrics, BACKLOG) == 7


def test_the_backlog_is_read_at_each_scrape() -> None:
    waiting = [3]
    metrics = PrometheusMetrics(backlog=lambda: waiting[0])
    assert sample(metrics, BACKLOG) == 3

    waiting[0] = 0

    assert (BACKLOG, ()) in scraped(metrics)
    assert sample(metrics, BACKLOG) == 0


def test_without_the_database_the_scrape_leaves_the_backlog_out(
    caplog: pytest.LogCaptureFixture,
) -> None:
    def unavailable() -> int:
        raise StorageUnavailable()

    metrics = PrometheusMetrics(backlog=unavailable)

    with caplog.at_level(logging.WARNING):
        samples = scraped(metrics)

    assert (BACKLOG, ()) not in samples
    assert ("ecm_automated_sms_sent_total", ()) in samples  # the rest of the scrape is there
    assert "backlog could not be read" in caplog.text
