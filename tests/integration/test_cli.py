"""``ecm-comms``: migrating, registering users and patients, with clear refusals."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import inspect, select

from ecm_comms.adapters.sql import tables
from ecm_comms.adapters.sql.engine import make_engine
from ecm_comms.container import create_container
from ecm_comms.domain.commands import Authenticate
from ecm_comms.domain.errors import NotAuthenticated
from ecm_comms.entrypoints.cli.main import cli


def run(database_url: str, *args: str) -> Result:
    return CliRunner().invoke(cli, list(args), env={"ECM_DATABASE_URL": database_url})


def test_db_upgrade_creates_the_schema_and_can_run_again(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'new.sqlite3'}"

    first, second = run(url, "db", "upgrade"), run(url, "db", "upgrade")

    assert (first.exit_code, second.exit_code) == (0, 0), first.output
    engine = make_engine(url)
    assert {table.name for table in tables.metadata.sorted_tables} <= set(
        inspect(engine).get_table_names()
    )
    engine.dispose()


def test_users_create_prints_a_working_token_last_and_stores_only_its_hash(
    database_url: str,
) -> None:
    result = run(
        database_url, "users", "create", "--id", "101", "--clinic-id", "1", "--name", "Dana"
    )

    assert result.exit_code == 0, result.output
    token = result.output.strip().splitlines()[-1]
    container = create_container(environ={}, database_url=database_url)
    assert container.authenticate()(Authenticate(token)).id == 101
    with container.engine().connect() as connection:
        stored = connection.execute(select(tables.users.c.token_digest)).scalar_one()
    container.engine().dispose()
    assert stored != token
    assert token not in stored


def test_users_create_refuses_a_taken_id(database_url: str) -> None:
    args = ("users", "create", "--id", "101", "--clinic-id", "1", "--name", "Dana")
    run(database_url, *args)

    result = run(database_url, *args)

    assert result.exit_code == 1
    assert "User 101 already exists" in result.output


def test_users_token_replaces_the_old_token(database_url: str) -> None:
    created = run(database_url, "users", "create", "--id", "7", "--clinic-id", "1", "--name", "D")
    old = created.output.strip().splitlines()[-1]

    result = run(database_url, "users", "token", "--id", "7")

    new = result.output.strip().splitlines()[-1]
    container = create_container(environ={}, database_url=database_url)
    authenticate = container.authenticate()
    assert authenticate(Authenticate(new)).id == 7
    with pytest.raises(NotAuthenticated, match="Invalid user token"):
        authenticate(Authenticate(old))
    container.engine().dispose()


def test_patients_upsert_stores_phone_numbers_in_e164(database_url: str) -> None:
    result = run(
        database_url,
        "patients", "upsert", "--id", "123", "--clinic-id", "1",
        "--phone", "(805) 123-4567", "--phone", "805.555.0199", "--coordinator-id", "101",
    )  # fmt: skip

    assert result.exit_code == 0, result.output
    assert "+18051234567, +18055550199" in result.output
    engine = make_engine(database_url)
    with engine.connect() as connection:
        phones = connection.execute(
            select(tables.patient_phones.c.phone).order_by(tables.patient_phones.c.position)
        ).scalars()
        assert list(phones) == ["+18051234567", "+18055550199"]
    engine.dispose()


def test_patients_upsert_refuses_an_invalid_number_and_stores_nothing(database_url: str) -> None:
    result = run(
        database_url, "patients", "upsert", "--id", "123", "--clinic-id", "1", "--phone", "12345"
    )

    assert result.exit_code != 0
    assert "Invalid phone number" in result.output
    engine = make_engine(database_url)
    with engine.connect() as connection:
        assert connection.execute(select(tables.patients)).first() is None
    engine.dispose()


def test_a_bad_setting_is_a_clear_refusal() -> None:
    result = CliRunner().invoke(
        cli, ["db", "upgrade"], env={"ECM_GATEWAY": "carrier-pigeon", "ECM_DATABASE_URL": ""}
    )

    assert result.exit_code == 1
    assert "ECM_GATEWAY must be 'twilio' or 'simulated'" in result.output
