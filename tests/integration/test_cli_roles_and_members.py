"""Who may produce reports (roles), and what a report needs of a patient, from the command line."""

from __future__ import annotations

from datetime import date

import pytest
from click.testing import CliRunner, Result

from ecm_comms.container import create_container
from ecm_comms.domain.people import Role
from ecm_comms.entrypoints.cli.main import cli

pytestmark = pytest.mark.both_databases


def run(database_url: str, *args: str) -> Result:
    return CliRunner().invoke(cli, list(args), env={"ECM_DATABASE_URL": database_url})


def create_user(database_url: str, *extra: str) -> Result:
    return run(database_url, "users", "create", "--id", "101", "--clinic-id", "1", "--name",
               "Dana", *extra)  # fmt: skip


def role_of(database_url: str, user_id: int) -> Role | None:
    user = create_container(database_url=database_url).user_directory().get(user_id)
    return None if user is None else user.role


def test_a_new_user_is_a_coordinator(database_url: str) -> None:
    result = create_user(database_url)

    assert result.exit_code == 0, result.output
    assert (role_of(database_url, 101), "Role: coordinator." in result.output) == (
        Role.COORDINATOR,
        True,
    )


def test_a_user_can_be_created_an_admin(database_url: str) -> None:
    assert create_user(database_url, "--role", "admin").exit_code == 0

    assert role_of(database_url, 101) is Role.ADMIN


def test_an_unknown_role_is_refused_naming_the_option_and_nothing_is_created(
    database_url: str,
) -> None:
    result = create_user(database_url, "--role", "owner")

    assert (result.exit_code, role_of(database_url, 101)) == (1, None)
    assert "--role: Role must be coordinator or admin" in result.output


def test_set_role_makes_a_coordinator_an_admin(database_url: str) -> None:
    create_user(database_url)

    result = run(database_url, "users", "set-role", "--id", "101", "--role", "admin")

    assert (result.exit_code, result.output) == (0, "User 101 is now admin.\n")
    assert role_of(database_url, 101) is Role.ADMIN


def test_set_role_of_an_unknown_user_is_refused(database_url: str) -> None:
    result = run(database_url, "users", "set-role", "--id", "999", "--role", "admin")

    assert result.exit_code == 1
    assert "User 999 not found" in result.output


def test_a_patient_keeps_their_cin_names_and_date_of_birth(database_url: str) -> None:
    result = run(
        database_url, "patients", "upsert", "--id", "123", "--clinic-id", "1",
        "--member-id", "91234567A", "--first-name", "Rosa", "--last-name", "Diaz",
        "--date-of-birth", "1961-04-09",
    )  # fmt: skip

    assert result.exit_code == 0, result.output
    patient = create_container(database_url=database_url).patient_directory().find(123, 1)
    assert patient is not None
    assert (patient.member_id, patient.first_name, patient.last_name, patient.date_of_birth) == (
        "91234567A",
        "Rosa",
        "Diaz",
        date(1961, 4, 9),
    )


@pytest.mark.parametrize("born", ["04/09/1961", "1961-02-30", "1961-4-9", "yesterday"])
def test_a_bad_date_of_birth_is_refused_naming_the_option(database_url: str, born: str) -> None:
    result = run(
        database_url, "patients", "upsert", "--id", "123", "--clinic-id", "1",
        "--date-of-birth", born,
    )  # fmt: skip

    assert result.exit_code == 1
    assert "--date-of-birth: Date of birth must be a date as YYYY-MM-DD" in result.output
    assert create_container(database_url=database_url).patient_directory().find(123, 1) is None
