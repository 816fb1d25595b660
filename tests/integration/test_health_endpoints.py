"""What a load balancer and Prometheus ask of the service: /healthz (the process answers),
/readyz (the database answers and its schema is this code's), /metrics (the counts, in
Prometheus' text format, behind ECM_METRICS_TOKEN when it is set).

prometheus-client's counters belong to the process and other tests count in them too, so a test
of a count scrapes before and after, and looks at the difference.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from flask.testing import FlaskClient
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import Engine, text
from werkzeug.test import TestResponse

from ecm_comms.adapters.memory import FakeGateway, FixedClock
from ecm_comms.adapters.sql.schema import alembic_config, downgrade, upgrade
from ecm_comms.container import Container
from ecm_comms.entrypoints.http import create_app
from ecm_comms.entrypoints.http.app import create_health_app
from ecm_comms.ports.metrics import UNCOUNTED
from ecm_comms.webhook_routes import INBOUND_SMS
from tests.conftest import Staff
from tests.support.webhooks import (
    WEBHOOK_SETTINGS,
    SignedWebhooks,
    inbound_sms_form,
    webhook_container,
)

READY = {"status": "ready", "checks": {"database": "ok", "migrations": "ok"}}
UNAVAILABLE = {
    "status": "not_ready",
    "checks": {"database": "unavailable", "migrations": "unknown"},
}
BEHIND = {"status": "not_ready", "checks": {"database": "ok", "migrations": "behind"}}
AHEAD = {"status": "ready", "checks": {"database": "ok", "migrations": "ahead"}}
METRICS_TOKEN = "scrape-me-7c1e2b9a"
TOKEN_REQUIRED = {"errors": ["Metrics need the bearer token of ECM_METRICS_TOKEN"]}
SMS_ROUTE = "/v1/clinic/ecm/communications/sms/<sms_id>"
UNKNOWN_REVISION = "feedfacecafe"  # a migration of a newer version of the code
PATIENT_PHONE = "+18051234567"

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


@contextmanager
def served(
    database_url: str, gateway: FakeGateway, clock: FixedClock, **environ: str
) -> Iterator[FlaskClient]:
    """A client of the service on ``database_url``, configured by ``environ``."""
    with webhook_container(database_url, gateway, clock, environ) as container:
        yield create_app(container).test_client()


def unreachable_database(tmp_path: Path) -> str:
    """A SQLite database in a directory that does not exist: it cannot be opened."""
    return f"sqlite:///{tmp_path / 'gone' / 'ecm_comms.sqlite3'}"


def scrape(client: FlaskClient, headers: Mapping[str, str] | None = None) -> Samples:
    response = client.get("/metrics", headers=dict(headers or {}))
    assert response.status_code == 200, response.get_data(as_text=True)
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.get_data(as_text=True))
        for sample in family.samples
    }


def counted(
    client: FlaskClient, name: str, labels: Mapping[str, str], action: Callable[[], object]
) -> float:
    """How much ``action`` added to the sample ``name`` with ``labels`` of a scrape."""
    key = (name, tuple(sorted(labels.items())))
    before = scrape(client).get(key, 0.0)
    action()
    return scrape(client).get(key, 0.0) - before


@pytest.fixture
def schema(container: Container) -> Iterator[Engine]:
    """The service's database, whose schema the test may move; at the newest migration after."""
    engine = container.engine()
    yield engine
    head = ScriptDirectory.from_config(alembic_config(engine)).get_current_head()
    with engine.begin() as connection:
        connection.execute(
            text("UPDATE alembic_version SET version_num = :head WHERE version_num = :unknown"),
            {"head": head, "unknown": UNKNOWN_REVISION},
        )
    upgrade(engine)


def requests_of(route: str, method: str, status: int) -> dict[str, str]:
    return {"route": route, "method": method, "status": str(status)}


# /healthz


def test_healthz_says_the_process_is_alive(client: FlaskClient) -> None:
    response = client.get("/healthz")

    assert (response.status_code, response.get_json()) == (200, {"status": "ok"})


def test_healthz_asks_nothing_of_the_database(
    tmp_path: Path, gateway: FakeGateway, clock: FixedClock
) -> None:
    with served(unreachable_database(tmp_path), gateway, clock) as client:
        response = client.get("/healthz")

    assert (response.status_code, response.get_json()) == (200, {"status": "ok"})


# /readyz


@pytest.mark.both_databases
def test_readyz_is_ready_on_a_database_at_the_newest_migration(client: FlaskClient) -> None:
    response = client.get("/readyz")

    assert (response.status_code, response.get_json()) == (200, READY)


@pytest.mark.both_databases
def test_readyz_is_not_ready_when_the_schema_is_a_migration_behind(
    client: FlaskClient, schema: Engine
) -> None:
    downgrade(schema, "-1")

    response = client.get("/readyz")

    assert (response.status_code, response.get_json()) == (503, BEHIND)


def test_readyz_is_not_ready_on_a_database_never_migrated(
    tmp_path: Path, gateway: FakeGateway, clock: FixedClock
) -> None:
    with served(f"sqlite:///{tmp_path / 'empty.sqlite3'}", gateway, clock) as client:
        response = client.get("/readyz")

    assert (response.status_code, response.get_json()) == (503, BEHIND)


@pytest.mark.both_databases
def test_readyz_is_ready_when_a_newer_version_has_migrated_first(
    client: FlaskClient, schema: Engine
) -> None:
    # A rolling deploy: the new version migrated, this process serves until it is replaced.
    with schema.begin() as connection:
        connection.execute(
            text("UPDATE alembic_version SET version_num = :revision"),
            {"revision": UNKNOWN_REVISION},
        )

    response = client.get("/readyz")

    assert (response.status_code, response.get_json()) == (200, AHEAD)


def test_readyz_is_not_ready_when_the_database_is_unreachable(
    tmp_path: Path, gateway: FakeGateway, clock: FixedClock
) -> None:
    with served(unreachable_database(tmp_path), gateway, clock) as client:
        response = client.get("/readyz")

    assert (response.status_code, response.mimetype, response.get_json()) == (
        503,
        "application/json",
        UNAVAILABLE,
    )


def test_readyz_names_no_database_revision_or_version(
    client: FlaskClient, container: Container
) -> None:
    with container.engine().connect() as connection:
        revision = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    assert revision

    body = client.get("/readyz").get_data(as_text=True)

    for secret in (revision, str(container.engine().url.database), "sqlite", "version"):
        assert secret not in body


def test_health_endpoints_ask_for_no_user_token(client: FlaskClient) -> None:
    statuses = [client.get(path).status_code for path in ("/healthz", "/readyz", "/metrics")]

    assert statuses == [200, 200, 200]


# /metrics


def test_metrics_are_in_prometheus_text_format(client: FlaskClient) -> None:
    response = client.get("/metrics")

    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    assert response.headers["Content-Type"].startswith("text/plain; version=")
    names = {f.name for f in text_string_to_metric_families(response.get_data(as_text=True))}
    assert {
        "ecm_http_requests",
        "ecm_http_request_duration_seconds",
        "ecm_twilio_requests",
        "ecm_webhook_signature_failures",
        "ecm_automated_sms_sent",
        "ecm_send_queue_backlog",
    } <= names


def test_the_send_queue_backlog_is_scraped_from_the_database(
    client: FlaskClient, container: Container
) -> None:
    container.send_queue().enqueue([1, 2])

    assert scrape(client)[("ecm_send_queue_backlog", ())] == 1  # one task, of two SMS


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer wrong-token", f"Basic {METRICS_TOKEN}", "Bearer", f"{METRICS_TOKEN}"],
    ids=["none", "a wrong token", "another scheme", "no token", "no scheme"],
)
def test_with_a_token_set_metrics_without_it_are_refused(
    database_url: str, gateway: FakeGateway, clock: FixedClock, authorization: str | None
) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}

    with served(database_url, gateway, clock, ECM_METRICS_TOKEN=METRICS_TOKEN) as client:
        response = client.get("/metrics", headers=headers)

    assert (response.status_code, response.mimetype, response.get_json()) == (
        401,
        "application/json",
        TOKEN_REQUIRED,
    )
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="metrics"'


def test_with_a_token_set_metrics_bearing_it_are_answered(
    database_url: str, gateway: FakeGateway, clock: FixedClock
) -> None:
    with served(database_url, gateway, clock, ECM_METRICS_TOKEN=METRICS_TOKEN) as client:
        response = client.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})

    assert response.status_code == 200
    assert b"ecm_http_requests_total" in response.data


def test_a_token_guards_metrics_only(
    database_url: str, gateway: FakeGateway, clock: FixedClock
) -> None:
    with served(database_url, gateway, clock, ECM_METRICS_TOKEN=METRICS_TOKEN) as client:
        statuses = [client.get(path).status_code for path in ("/healthz", "/readyz")]

    assert statuses == [200, 200]


def test_with_metrics_off_metrics_are_not_found(
    database_url: str, gateway: FakeGateway, clock: FixedClock
) -> None:
    with served(database_url, gateway, clock, ECM_METRICS="off") as client:
        response = client.get("/metrics")

    assert (response.status_code, response.get_json()) == (404, {"errors": ["Not found"]})


def test_with_metrics_off_nothing_is_counted(
    database_url: str, gateway: FakeGateway, clock: FixedClock
) -> None:
    with webhook_container(database_url, gateway, clock, {"ECM_METRICS": "off"}) as container:
        assert container.metrics() is UNCOUNTED


def test_a_request_is_counted_by_its_route_template_never_its_path(
    client: FlaskClient, coordinator: Staff
) -> None:
    def read_an_sms() -> TestResponse:
        return client.get(
            "/v1/clinic/ecm/communications/sms/987654321", headers=coordinator.headers
        )

    added = counted(
        client, "ecm_http_requests_total", requests_of(SMS_ROUTE, "GET", 404), read_an_sms
    )

    assert added == 1
    assert b"987654321" not in client.get("/metrics").data


def test_a_requests_duration_is_observed_by_its_route_template(
    client: FlaskClient, coordinator: Staff
) -> None:
    added = counted(
        client,
        "ecm_http_request_duration_seconds_count",
        {"route": SMS_ROUTE, "method": "GET"},
        lambda: client.get("/v1/clinic/ecm/communications/sms/1", headers=coordinator.headers),
    )

    assert added == 1


def test_a_path_no_route_serves_is_counted_as_unmatched(client: FlaskClient) -> None:
    added = counted(
        client,
        "ecm_http_requests_total",
        requests_of("unmatched", "GET", 404),
        lambda: client.get("/wp-admin/setup-config.php"),
    )

    assert added == 1
    assert b"wp-admin" not in client.get("/metrics").data


@pytest.mark.parametrize("signature", [None, "not-a-signature"], ids=["missing", "wrong"])
def test_a_webhook_refused_for_its_signature_is_counted(
    database_url: str, gateway: FakeGateway, clock: FixedClock, signature: str | None
) -> None:
    with webhook_container(database_url, gateway, clock, WEBHOOK_SETTINGS) as container:
        client = create_app(container).test_client()
        twilio = SignedWebhooks(client)

        def post() -> None:
            form = inbound_sms_form(PATIENT_PHONE, "Yes")
            response = twilio.post_with_signature(INBOUND_SMS, form, signature)
            assert response.status_code == 403

        added = counted(client, "ecm_webhook_signature_failures_total", {}, post)

    assert added == 1


# The worker's health app.


@pytest.mark.parametrize("path", ["/healthz", "/readyz", "/metrics"])
def test_the_workers_health_app_serves_the_health_endpoints(
    container: Container, path: str
) -> None:
    response = create_health_app(container).test_client().get(path)

    assert response.status_code == 200


def test_the_workers_health_app_serves_nothing_else(container: Container) -> None:
    response = create_health_app(container).test_client().get("/v1/clinic/webhooks/twilio/sms")

    assert (response.status_code, response.get_json()) == (404, {"errors": ["Not found"]})
