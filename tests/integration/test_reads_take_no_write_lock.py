"""Reads open no writing transaction: on SQLite, while another process holds the database's write
lock, the record is still read at once (WAL lets readers past the single writer)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from ecm_comms.adapters.memory import FakeGateway
from ecm_comms.container import create_container
from ecm_comms.domain.commands import RegisterUser, SendSms, UpsertPatient
from ecm_comms.entrypoints.http import create_app

API = "/v1/clinic/ecm/communications"
# Holds the write lock (BEGIN IMMEDIATE) until it is killed, and says when it has it.
HOLD_THE_WRITE_LOCK = """
import sqlite3, sys, time
connection = sqlite3.connect(sys.argv[1], isolation_level=None)
connection.execute("BEGIN IMMEDIATE")
print("locked", flush=True)
time.sleep(120)
"""


@pytest.fixture
def database(tmp_path: Path, migrated_sqlite_template: Path) -> Path:
    path = tmp_path / "ecm_comms.sqlite3"
    shutil.copy(migrated_sqlite_template, path)
    return path


@pytest.fixture
def served(database: Path) -> Iterator[tuple[FlaskClient, dict[str, str], int]]:
    """A client, Dana's headers and the id of an SMS she sent to patient 123."""
    container = create_container(environ={}, database_url=f"sqlite:///{database}")
    container.gateway.override(FakeGateway())
    dana = container.register_user()(RegisterUser(101, 1, "Dana Coordinator"))
    container.upsert_patient()(UpsertPatient(123, 1, ("+18051234567",)))
    sent = container.send_sms()(SendSms(123, "+18051234567", "See you Tuesday", dana.user))
    assert sent.message.id is not None
    yield create_app(container).test_client(), {"X-User-Token": dana.token.value}, sent.message.id
    container.engine().dispose()


@pytest.fixture
def write_lock_held(
    database: Path, served: tuple[FlaskClient, dict[str, str], int]
) -> Iterator[None]:
    """Taken once the records are written."""
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_THE_WRITE_LOCK, str(database)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "locked"
        yield
    finally:
        holder.kill()
        holder.wait(timeout=10)


@pytest.mark.usefixtures("write_lock_held")
def test_a_patients_history_is_read_while_another_process_holds_the_write_lock(
    served: tuple[FlaskClient, dict[str, str], int],
) -> None:
    client, headers, sms_id = served

    response = client.get(f"{API}/patients/123/communications", headers=headers)

    assert response.status_code == 200
    assert [item["id"] for item in response.get_json()["communications"]] == [sms_id]


@pytest.mark.usefixtures("write_lock_held")
def test_an_sms_is_read_while_another_process_holds_the_write_lock(
    served: tuple[FlaskClient, dict[str, str], int],
) -> None:
    client, headers, sms_id = served

    response = client.get(f"{API}/sms/{sms_id}", headers=headers)

    assert response.status_code == 200
    assert response.get_json()["sms"]["id"] == sms_id
