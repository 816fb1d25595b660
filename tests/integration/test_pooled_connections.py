"""Pooled PostgreSQL connections checked on checkout (``adapters/sql/liveness.py``).

``make_engine`` does without SQLAlchemy's ``pool_pre_ping``: a connection leaving the pool is
pinged only when its socket has something to read (the server hung up, or sent a notification)
or when it sat idle longer than ``PING_AFTER_IDLE_SECONDS``; one that fails the ping is replaced
before anyone uses it. Covered here:

- a healthy pooled connection is handed out again, unpinged;
- one whose backend the server terminated is replaced before use;
- one idle past the threshold is pinged first;
- one with a notification waiting on its socket is pinged and, being alive, kept;
- SQLite engines have no such check.

Pings are counted by wrapping the dialect's ``do_ping``; a connection is told from another by its
backend pid. The module runs on a database of its own, so terminating its backends touches no
other test's connections.
"""

from __future__ import annotations

import select
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import Connection, Engine, text
from sqlalchemy.engine.interfaces import DBAPIConnection

from benchmarks.databases import own_database
from ecm_comms.adapters.sql import liveness
from ecm_comms.adapters.sql.engine import make_engine

pytestmark = pytest.mark.postgres

# How long the server may take to end a backend it was told to terminate.
TERMINATION_WAIT_SECONDS = 10.0
# How long a notification may take to reach a listening connection's socket.
NOTIFICATION_WAIT_SECONDS = 10.0
CHANNEL = "ecm_pooled_connections"


class PingCounter:
    """Stands in for ``engine.dialect.do_ping``: counts the pings and makes the real ones."""

    def __init__(self, engine: Engine) -> None:
        self._ping = engine.dialect.do_ping
        self.count = 0

    def __call__(self, dbapi_connection: DBAPIConnection) -> bool:
        self.count += 1
        return self._ping(dbapi_connection)


@pytest.fixture(scope="module")
def pool_database(postgres_server: Engine) -> Iterator[str]:
    """An empty database of this module's own: its backends are ours to terminate."""
    with own_database(postgres_server, "ecm_comms_pool") as url:
        yield url


@pytest.fixture
def engine(pool_database: str) -> Iterator[Engine]:
    """The service's engine on this module's database, with a pool of its own."""
    built = make_engine(pool_database)
    yield built
    built.dispose()


@pytest.fixture
def sqlite(tmp_path: Path) -> Iterator[Engine]:
    """The service's engine on a SQLite file (a pooled one, unlike an in-memory database)."""
    built = make_engine(f"sqlite:///{tmp_path / 'pool.sqlite3'}")
    yield built
    built.dispose()


@pytest.fixture
def neighbour(pool_database: str) -> Iterator[Engine]:
    """Another engine on the same database, for what must not come from ``engine``'s pool."""
    built = make_engine(pool_database, isolation_level="AUTOCOMMIT")
    yield built
    built.dispose()


def _count_pings(monkeypatch: pytest.MonkeyPatch, engine: Engine) -> PingCounter:
    counter = PingCounter(engine)
    monkeypatch.setattr(engine.dialect, "do_ping", counter)
    return counter


def _backend_pid(connection: Connection) -> int:
    return int(connection.execute(text("SELECT pg_backend_pid()")).scalar_one())


def _pooled_backend(engine: Engine) -> int:
    """Use a connection once and return it to the pool; the pid of its backend."""
    with engine.connect() as connection:
        return _backend_pid(connection)


def _terminate(server: Engine, pid: int) -> None:
    """End backend ``pid`` as a server restart would, and wait until it is gone."""
    with server.connect() as connection:
        query = text("SELECT pg_terminate_backend(:pid)")
        assert connection.execute(query, {"pid": pid}).scalar_one(), f"no backend {pid}"
    deadline = time.monotonic() + TERMINATION_WAIT_SECONDS
    while _is_running(server, pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _is_running(server, pid), f"backend {pid} is still there"


def _is_running(server: Engine, pid: int) -> bool:
    with server.connect() as connection:
        query = text("SELECT count(*) FROM pg_stat_activity WHERE pid = :pid")
        return bool(connection.execute(query, {"pid": pid}).scalar_one())


def _socket_of(connection: Connection) -> int:
    dbapi_connection = connection.connection.dbapi_connection
    assert isinstance(dbapi_connection, psycopg.Connection)
    return dbapi_connection.fileno()


def _wait_until_readable(descriptor: int) -> bool:
    readable, _, _ = select.select([descriptor], [], [], NOTIFICATION_WAIT_SECONDS)
    return bool(readable)


def test_a_healthy_pooled_connection_is_handed_out_again_without_a_ping(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = _pooled_backend(engine)
    pings = _count_pings(monkeypatch, engine)

    with engine.connect() as connection:
        answer = connection.execute(text("SELECT 1")).scalar_one()
        again = _backend_pid(connection)

    assert (answer, pings.count, again) == (1, 0, first)


def test_a_pooled_connection_the_server_terminated_is_replaced_before_use(
    engine: Engine, postgres_server: Engine
) -> None:
    terminated = _pooled_backend(engine)
    _terminate(postgres_server, terminated)

    with engine.connect() as connection:
        replacement = _backend_pid(connection)

    assert replacement != terminated


def test_a_connection_idle_past_the_threshold_is_pinged_before_use(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    _pooled_backend(engine)
    monkeypatch.setattr(liveness, "PING_AFTER_IDLE_SECONDS", 0.0)
    pings = _count_pings(monkeypatch, engine)

    with engine.connect() as connection:
        answer = connection.execute(text("SELECT 1")).scalar_one()

    assert (answer, pings.count) == (1, 1)


def test_a_live_connection_with_a_notification_waiting_is_pinged_and_kept(
    engine: Engine, neighbour: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    with engine.connect() as connection:
        listener = _backend_pid(connection)
        socket = _socket_of(connection)
        connection.execute(text(f"LISTEN {CHANNEL}"))
        connection.commit()
    with neighbour.connect() as connection:
        connection.execute(text(f"NOTIFY {CHANNEL}"))
    assert _wait_until_readable(socket), "the notification never reached the pooled connection"
    pings = _count_pings(monkeypatch, engine)

    with engine.connect() as connection:
        again = _backend_pid(connection)

    assert (pings.count, again) == (1, listener)


def test_sqlite_connections_are_never_pinged_on_checkout(
    sqlite: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    with sqlite.connect() as connection:
        connection.execute(text("SELECT 1"))
    monkeypatch.setattr(liveness, "PING_AFTER_IDLE_SECONDS", 0.0)
    pings = _count_pings(monkeypatch, sqlite)

    with sqlite.connect() as connection:
        answer = connection.execute(text("SELECT 1")).scalar_one()

    assert (answer, pings.count) == (1, 0)
