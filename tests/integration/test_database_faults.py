"""PostgreSQL going away under the service: dropped connections, an unreachable server, and a cut
between the write-ahead record and the final commit.

The shared server is never stopped. Connections are dropped with ``pg_terminate_backend``, and an
outage is a TCP proxy (``tests/support/tcp_proxy.py``) between the service and the server that
the test cuts and restores. Every test runs on a database of this module's own, so terminating
its backends touches no other test's connections.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from flask.testing import FlaskClient
from sqlalchemy import Engine, RowMapping, Table, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import QueuePool
from werkzeug.test import TestResponse

from benchmarks.databases import own_database
from ecm_comms.adapters.memory import FakeGateway, FixedClock
from ecm_comms.adapters.sql import tables
from ecm_comms.adapters.sql.engine import make_engine
from ecm_comms.adapters.sql.schema import upgrade
from ecm_comms.container import Container
from ecm_comms.domain.commands import RegisterUser, UpsertPatient
from ecm_comms.domain.people import Patient
from ecm_comms.entrypoints.http import create_app
from ecm_comms.ports.gateway import OutboundSms, SmsReceipt
from tests.conftest import Staff
from tests.support.tcp_proxy import TcpProxy
from tests.support.webhooks import (
    SignedWebhooks,
    history,
    send_sms,
    webhook_container,
)

pytestmark = pytest.mark.postgres

PATIENT_PHONE = "+18051234567"
UNAVAILABLE = {"errors": ["The database is unavailable; please retry shortly"]}
READY = {"status": "ready", "checks": {"database": "ok", "migrations": "ok"}}
NOT_READY = {"status": "not_ready", "checks": {"database": "unavailable", "migrations": "unknown"}}
# How long the server may take to end the backends it was told to terminate.
TERMINATION_WAIT_SECONDS = 10.0


@pytest.fixture(scope="module")
def fault_database(postgres_server: Engine) -> Iterator[str]:
    """A migrated database of this module's own: its backends are ours to terminate."""
    with own_database(postgres_server, "ecm_comms_faults") as url:
        engine = make_engine(url)
        upgrade(engine)
        engine.dispose()
        yield url


@pytest.fixture
def database_url(fault_database: str) -> str:
    """conftest's fixtures (``container``, ``client``, …) on this module's empty database."""
    engine = make_engine(fault_database)
    names = ", ".join(table.name for table in tables.metadata.sorted_tables)
    with engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    engine.dispose()
    return fault_database


@pytest.fixture
def direct(database_url: str) -> Iterator[Engine]:
    """An engine of the test's own, straight to the server, to read what the service left."""
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


def _database_name(url: str) -> str:
    name = make_url(url).database
    assert name is not None
    return name


def _backends(server: Engine, database: str) -> int:
    with server.connect() as connection:
        query = text("SELECT count(*) FROM pg_stat_activity WHERE datname = :name")
        return int(connection.execute(query, {"name": database}).scalar_one())


def _terminate_backends(server: Engine, database: str) -> int:
    """Drop every connection to ``database`` as a server restart would; how many there were."""
    with server.connect() as connection:
        terminated = connection.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = :name AND pid <> pg_backend_pid()"
            ),
            {"name": database},
        ).all()
    deadline = time.monotonic() + TERMINATION_WAIT_SECONDS
    while _backends(server, database) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _backends(server, database) == 0, "the terminated backends are still there"
    return sum(1 for (done,) in terminated if done)


# --- (a) connections the server dropped between two requests ------------------------------------


def test_pooled_connections_the_server_dropped_cost_the_next_sms_nothing(
    container: Container,
    coordinator: Staff,
    patient: Patient,
    client: FlaskClient,
    postgres_server: Engine,
    database_url: str,
) -> None:
    first = send_sms(client, coordinator.headers)
    assert first.status_code == 201, first.get_json()
    pool = container.engine().pool
    assert isinstance(pool, QueuePool)
    assert pool.checkedin() >= 1, "the first request left no pooled connection"
    assert _terminate_backends(postgres_server, _database_name(database_url)) >= 1

    second = send_sms(client, coordinator.headers)

    assert second.status_code == 201, second.get_json()


# --- (b) and (c): the server unreachable, through a proxy the test cuts -----------------------


class CutsTheDatabaseWhileSending(FakeGateway):
    """A gateway that, once armed, cuts the database off while Twilio takes the SMS: the
    write-ahead record is committed, the final commit cannot be."""

    def __init__(self, proxy: TcpProxy) -> None:
        super().__init__()
        self._proxy = proxy
        self._armed = False

    def arm(self) -> None:
        self._armed = True

    def send_sms(self, sms: OutboundSms) -> SmsReceipt:
        receipt = super().send_sms(sms)
        if self._armed:
            self._armed = False
            self._proxy.cut()
        return receipt


@dataclass(frozen=True)
class ProxiedService:
    """The service whose every database connection goes through ``proxy``."""

    container: Container
    client: FlaskClient
    webhooks: SignedWebhooks
    staff: Staff
    gateway: CutsTheDatabaseWhileSending
    proxy: TcpProxy

    def send_sms(self, body: str = "Reminder: your appointment is Tuesday.") -> TestResponse:
        return send_sms(self.client, self.staff.headers, phone_number=PATIENT_PHONE, body=body)

    def history(self) -> TestResponse:
        return history(self.client, self.staff.headers)

    def inbound_sms(self, body: str = "Running 10 minutes late") -> TestResponse:
        return self.webhooks.inbound_sms(PATIENT_PHONE, body)

    def readiness(self) -> tuple[int, object]:
        response = self.client.get("/readyz")
        return response.status_code, response.get_json(silent=True)


@pytest.fixture
def proxy(database_url: str) -> Iterator[TcpProxy]:
    server = make_url(database_url)
    with TcpProxy(server.host or "127.0.0.1", server.port or 5432) as running:
        yield running


@pytest.fixture
def proxied(database_url: str, proxy: TcpProxy, clock: FixedClock) -> Iterator[ProxiedService]:
    url = (
        make_url(database_url)
        .set(host="127.0.0.1", port=proxy.port)
        .update_query_dict({"connect_timeout": "5"})
        .render_as_string(hide_password=False)
    )
    gateway = CutsTheDatabaseWhileSending(proxy)
    with webhook_container(url, gateway, clock) as container:
        registered = container.register_user()(RegisterUser(101, 1, "Dana Coordinator"))
        container.upsert_patient()(UpsertPatient(123, 1, (PATIENT_PHONE,), coordinator_id=101))
        client = create_app(container).test_client()
        yield ProxiedService(
            container=container,
            client=client,
            webhooks=SignedWebhooks(client),
            staff=Staff(registered.user, registered.token.value),
            gateway=gateway,
            proxy=proxy,
        )
        proxy.restore()  # so that disposing of the engine finds a server


def _cut_with_live_connections(service: ProxiedService) -> None:
    """Cut the database off while the service holds pooled connections to it."""
    assert service.send_sms().status_code == 201  # the pool holds a live connection
    assert service.proxy.open_connections >= 1
    service.proxy.cut()
    assert service.proxy.open_connections == 0


REQUESTS: dict[str, Callable[[ProxiedService], TestResponse]] = {
    "send an SMS": ProxiedService.send_sms,
    "read the history": ProxiedService.history,
    "a signed inbound SMS": ProxiedService.inbound_sms,
}


@pytest.mark.parametrize("request_kind", list(REQUESTS))
def test_while_the_database_is_unreachable_every_request_is_a_503_in_json(
    proxied: ProxiedService, request_kind: str
) -> None:
    _cut_with_live_connections(proxied)

    response = REQUESTS[request_kind](proxied)

    assert (response.status_code, response.mimetype, response.get_json(silent=True)) == (
        503,
        "application/json",
        UNAVAILABLE,
    )


def test_while_the_database_is_unreachable_no_sms_goes_to_twilio(proxied: ProxiedService) -> None:
    _cut_with_live_connections(proxied)
    sent_before = len(proxied.gateway.sent)

    response = proxied.send_sms("This one must not leave")

    assert response.status_code == 503
    assert len(proxied.gateway.sent) == sent_before


def test_when_the_database_returns_requests_succeed_again(proxied: ProxiedService) -> None:
    _cut_with_live_connections(proxied)
    outage = [REQUESTS[kind](proxied).status_code for kind in REQUESTS]
    assert outage == [503, 503, 503]

    proxied.proxy.restore()
    after = [REQUESTS[kind](proxied).status_code for kind in REQUESTS]

    assert after == [201, 200, 200]


def test_while_the_database_is_unreachable_the_service_is_not_ready(
    proxied: ProxiedService,
) -> None:
    _cut_with_live_connections(proxied)

    assert proxied.readiness() == (503, NOT_READY)


def test_while_the_database_is_unreachable_the_service_is_still_alive(
    proxied: ProxiedService,
) -> None:
    _cut_with_live_connections(proxied)

    response = proxied.client.get("/healthz")

    assert (response.status_code, response.get_json()) == (200, {"status": "ok"})


def test_when_the_database_returns_the_service_is_ready_again(proxied: ProxiedService) -> None:
    _cut_with_live_connections(proxied)
    assert proxied.readiness() == (503, NOT_READY)

    proxied.proxy.restore()

    assert proxied.readiness() == (200, READY)


def _rows(engine: Engine, table: Table) -> list[RowMapping]:
    with engine.connect() as connection:
        return list(connection.execute(table.select().order_by(table.c.id)).mappings())


def _half_written(engine: Engine) -> list[str]:
    """What breaks "a record, its activity and its event, together": one line per problem.

    An SMS with a sid has exactly one activity and one event; one without is a write-ahead
    record still queued, or a failed one, and has neither."""
    activities = _rows(engine, tables.activities)
    events = _rows(engine, tables.events)
    problems: list[str] = []
    for message in _rows(engine, tables.text_messages):
        own = {a["id"] for a in activities if a["text_message_id"] == message["id"]}
        counts = (len(own), sum(1 for e in events if e["activity_id"] in own))
        if message["twilio_sid"] is not None and counts != (1, 1):
            problems.append(f"sms {message['id']} has a sid and {counts} activities/events")
        if message["twilio_sid"] is None and (
            counts != (0, 0) or message["status"] not in ("queued", "failed")
        ):
            problems.append(f"sms {message['id']} has no sid, is {message['status']}, {counts}")
    return problems


def test_an_outage_leaves_no_half_written_record(proxied: ProxiedService, direct: Engine) -> None:
    assert proxied.send_sms().status_code == 201
    proxied.gateway.arm()  # the outage begins while Twilio takes the next SMS
    assert proxied.send_sms("Your lab results are ready").status_code == 503
    outage = [REQUESTS[kind](proxied).status_code for kind in REQUESTS]
    proxied.proxy.restore()
    after = [REQUESTS[kind](proxied).status_code for kind in REQUESTS]
    assert (outage, after) == ([503, 503, 503], [201, 200, 200])

    kept = [
        (message["direction"], message["status"], message["twilio_sid"] is not None)
        for message in _rows(direct, tables.text_messages)
    ]
    assert kept == [
        ("outbound", "queued", True),  # before the outage
        ("outbound", "queued", False),  # interrupted: waits for its status callback
        ("outbound", "queued", True),  # after it
        ("inbound", "received", True),  # Twilio's retry of the reply refused during it
    ]
    assert _half_written(direct) == []


# --- (c) the cut between the write-ahead record and the final commit ------------------------------


def _interrupted_send(service: ProxiedService) -> TestResponse:
    """An SMS whose final commit finds the database gone (Twilio took it); then it is back."""
    service.gateway.arm()
    response = service.send_sms("Your lab results are ready")
    service.proxy.restore()
    return response


def test_a_cut_after_twilio_took_the_sms_is_a_503(proxied: ProxiedService) -> None:
    response = _interrupted_send(proxied)

    assert (response.status_code, response.get_json(silent=True)) == (503, UNAVAILABLE)
    assert len(proxied.gateway.sent) == 1


def test_a_cut_after_twilio_took_the_sms_leaves_its_write_ahead_record_queued(
    proxied: ProxiedService, direct: Engine
) -> None:
    _interrupted_send(proxied)

    [message] = _rows(direct, tables.text_messages)
    assert (message["status"], message["twilio_sid"], message["id"]) == (
        "queued",
        None,
        proxied.gateway.sent[0].record_id,
    )
    assert _rows(direct, tables.activities) == []
    assert _rows(direct, tables.events) == []


def test_the_status_callback_completes_an_sms_whose_final_commit_was_cut(
    proxied: ProxiedService, direct: Engine
) -> None:
    _interrupted_send(proxied)
    [taken] = proxied.gateway.sent

    callback = proxied.webhooks.sms_status(
        taken.sid, "delivered", record_id=taken.record_id, to=PATIENT_PHONE
    )

    assert callback.status_code == 204, callback.get_data(as_text=True)
    [message] = _rows(direct, tables.text_messages)
    assert (message["twilio_sid"], message["status"]) == (taken.sid, "delivered")
    [activity] = _rows(direct, tables.activities)
    assert activity["text_message_id"] == taken.record_id
    [event] = _rows(direct, tables.events)
    assert event["activity_id"] == activity["id"]
    assert _half_written(direct) == []
