"""Fixtures shared by every test: databases (SQLite and real PostgreSQL), containers, clients."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url

from benchmarks.databases import own_database
from ecm_comms.adapters.memory import FakeGateway, FixedClock, InMemorySendQueue
from ecm_comms.adapters.sql import tables
from ecm_comms.adapters.sql.engine import make_engine
from ecm_comms.adapters.sql.schema import upgrade
from ecm_comms.container import Container, create_container
from ecm_comms.domain.commands import RegisterUser, UpsertPatient
from ecm_comms.domain.people import Patient, User
from ecm_comms.entrypoints.http import create_app

POSTGRES_SERVER_URL = os.environ.get(
    "ECM_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


def postgres_required() -> bool:
    """In CI a PostgreSQL test that cannot reach the server fails; locally it is skipped."""
    return bool(os.environ.get("CI") or os.environ.get("ECM_REQUIRE_POSTGRES"))


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[Engine]:
    """An engine on the server's maintenance database, for creating and dropping databases."""
    engine = make_engine(POSTGRES_SERVER_URL, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as error:  # the server is down or unreachable
        engine.dispose()
        message = f"PostgreSQL is not reachable at {make_url(POSTGRES_SERVER_URL).host}: {error}"
        if postgres_required():
            pytest.fail(message)
        pytest.skip(message)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def postgres_database(postgres_server: Engine) -> Iterator[str]:
    """A migrated database of our own on the PostgreSQL server, dropped at the end of the run."""
    with own_database(postgres_server, "ecm_comms_test") as url:
        engine = make_engine(url)
        upgrade(engine)
        engine.dispose()
        yield url


@pytest.fixture(scope="session")
def migrated_sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "ecm_comms.sqlite3"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()
    return path


def _empty_postgres(url: str) -> None:
    engine = make_engine(url)
    names = ", ".join(table.name for table in tables.metadata.sorted_tables)
    with engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    engine.dispose()


BOTH_DATABASES = "both_databases"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{BOTH_DATABASES}: the test touches SQL, so it runs on SQLite and on PostgreSQL"
        " (every other test that needs a database runs once, on SQLite)",
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Runs a test marked ``both_databases`` once per database."""
    if "database_url" in metafunc.fixturenames and metafunc.definition.get_closest_marker(
        BOTH_DATABASES
    ):
        metafunc.parametrize(
            "database_url",
            ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)],
            indirect=True,
        )


@pytest.fixture
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A migrated, empty database: SQLite, unless the test asks for PostgreSQL too."""
    if getattr(request, "param", "sqlite") == "sqlite":
        path = tmp_path / "ecm_comms.sqlite3"
        shutil.copy(request.getfixturevalue("migrated_sqlite_template"), path)
        return f"sqlite:///{path}"
    url: str = request.getfixturevalue("postgres_database")
    _empty_postgres(url)
    return url


@pytest.fixture
def gateway() -> FakeGateway:
    return FakeGateway()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()


@pytest.fixture
def queue() -> InMemorySendQueue:
    """A send queue a test can read and run; tests that want it override ``container``'s."""
    return InMemorySendQueue()


@pytest.fixture
def container(database_url: str, gateway: FakeGateway, clock: FixedClock) -> Iterator[Container]:
    """The real container on a real database, with the gateway and clock swapped for fakes."""
    built = create_container(environ={}, database_url=database_url)
    built.gateway.override(gateway)
    built.clock.override(clock)
    yield built
    built.engine().dispose()


@dataclass(frozen=True)
class Staff:
    user: User
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"X-User-Token": self.token}


@pytest.fixture
def coordinator(container: Container) -> Staff:
    """Dana, coordinator 101 of clinic 1."""
    registered = container.register_user()(RegisterUser(101, 1, "Dana Coordinator", "+18055550101"))
    return Staff(registered.user, registered.token.value)


@pytest.fixture
def other_clinic_coordinator(container: Container) -> Staff:
    """Sam, coordinator 201 of clinic 2."""
    registered = container.register_user()(RegisterUser(201, 2, "Sam Otherclinic"))
    return Staff(registered.user, registered.token.value)


@pytest.fixture
def patient(container: Container) -> Patient:
    """Patient 123 of clinic 1, coordinated by 101."""
    return container.upsert_patient()(
        UpsertPatient(123, 1, ("(805) 123-4567",), name="Pat Example", coordinator_id=101)
    )


@pytest.fixture
def app(container: Container) -> Flask:
    return create_app(container)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()
