"""``ecm-comms clinics``: clinics and their Twilio numbers from the command line, with refusals
that name the option at fault and never print a whole phone number that is not the operator's."""

from __future__ import annotations

import pytest
from click.testing import CliRunner, Result

from ecm_comms.entrypoints.cli import demo as demo_command
from ecm_comms.entrypoints.cli.main import cli

pytestmark = pytest.mark.both_databases

SERVICE_SID = "MG" + "0123456789abcdef" * 2
LIMITS = "  automated SMS 08:00-21:00, at most 1 a day and 3 in 7 days"


def run(database_url: str, *args: str) -> Result:
    return CliRunner().invoke(cli, list(args), env={"ECM_DATABASE_URL": database_url})


def upsert(database_url: str, clinic_id: int = 1, name: str = "Harbor Health", *extra: str) -> None:
    result = run(database_url, "clinics", "upsert", "--id", str(clinic_id), "--name", name, *extra)
    assert result.exit_code == 0, result.output


def add_number(database_url: str, clinic_id: int, number: str, *extra: str) -> None:
    result = run(
        database_url, "clinics", "add-number", "--clinic-id", str(clinic_id), "--number", number,
        *extra,
    )  # fmt: skip
    assert result.exit_code == 0, result.output


def listed(database_url: str) -> str:
    result = run(database_url, "clinics", "list")
    assert result.exit_code == 0, result.output
    return result.output


def test_upsert_reports_the_clinic_with_its_time_zone(database_url: str) -> None:
    result = run(database_url, "clinics", "upsert", "--id", "1", "--name", "Harbor Health")

    assert result.exit_code == 0, result.output
    assert result.output == "Clinic 1: Harbor Health (America/Los_Angeles).\n"


def test_list_shows_each_clinic_with_its_details_and_numbers(database_url: str) -> None:
    upsert(
        database_url, 1, "Harbor Health",
        "--npi", "1234567893", "--phone", "(805) 555-0100", "--timezone", "America/New_York",
    )  # fmt: skip
    add_number(database_url, 1, "(805) 987-6543")
    add_number(database_url, 1, "+18059870002", "--messaging-service-sid", SERVICE_SID)
    upsert(database_url, 2, "Mesa Clinic")

    assert listed(database_url) == (
        f"1  Harbor Health  NPI 1234567893  America/New_York  main line +18055550100{LIMITS}\n"
        "    +18059876543 (sending)\n"
        f"    +18059870002 via {SERVICE_SID}\n"
        f"2  Mesa Clinic  no NPI  America/Los_Angeles  no main line{LIMITS}\n"
        "    no numbers: sends from the shared number\n"
    )


def test_list_without_clinics_says_how_to_add_one(database_url: str) -> None:
    assert listed(database_url) == "No clinics yet (ecm-comms clinics upsert).\n"


def test_add_number_reports_the_number_in_e164(database_url: str) -> None:
    upsert(database_url)

    result = run(
        database_url, "clinics", "add-number", "--clinic-id", "1", "--number", "805.987.6543"
    )

    assert result.exit_code == 0, result.output
    assert result.output == "Clinic 1 now has +18059876543.\n"


def test_a_number_added_as_default_becomes_the_sending_number(database_url: str) -> None:
    upsert(database_url)
    add_number(database_url, 1, "+18059876543")

    add_number(database_url, 1, "+18059870002", "--default")

    assert "    +18059870002 (sending)\n" in listed(database_url)
    assert "    +18059876543\n" in listed(database_url)


def test_upserting_a_clinic_again_keeps_its_numbers(database_url: str) -> None:
    upsert(database_url)
    add_number(database_url, 1, "+18059876543")

    upsert(database_url, 1, "Harbor Health Center")

    assert listed(database_url).splitlines()[:2] == [
        f"1  Harbor Health Center  no NPI  America/Los_Angeles  no main line{LIMITS}",
        "    +18059876543 (sending)",
    ]


def test_remove_number_takes_it_from_its_clinic(database_url: str) -> None:
    upsert(database_url)
    add_number(database_url, 1, "+18059876543")

    result = run(database_url, "clinics", "remove-number", "--number", "+18059876543")

    assert result.exit_code == 0, result.output
    assert result.output == "+18059876543 belongs to no clinic now.\n"
    assert "no numbers: sends from the shared number" in listed(database_url)


def test_a_wrong_npi_is_refused_naming_the_option_and_nothing_is_stored(
    database_url: str,
) -> None:
    result = run(
        database_url, "clinics", "upsert", "--id", "1", "--name", "Harbor", "--npi", "1234567890"
    )

    assert result.exit_code == 1
    assert "--npi: NPI must be 10 digits with a valid check digit" in result.output
    assert listed(database_url) == "No clinics yet (ecm-comms clinics upsert).\n"


def test_an_unknown_time_zone_is_refused_naming_the_option(database_url: str) -> None:
    result = run(
        database_url, "clinics", "upsert", "--id", "1", "--name", "Harbor",
        "--timezone", "Pacific/Atlantis",
    )  # fmt: skip

    assert result.exit_code == 1
    assert "--timezone: Unknown time zone" in result.output


def test_a_number_another_clinic_holds_is_refused_naming_only_its_last_four_digits(
    database_url: str,
) -> None:
    upsert(database_url, 1, "Harbor Health")
    upsert(database_url, 2, "Mesa Clinic")
    add_number(database_url, 1, "+18059876543")

    result = run(
        database_url, "clinics", "add-number", "--clinic-id", "2", "--number", "(805) 987-6543"
    )

    assert result.exit_code == 1
    assert "Error: The number ending 6543 belongs to another clinic" in result.output
    assert "987" not in result.output
    assert "No clinics" not in listed(database_url)
    assert listed(database_url).count("+18059876543") == 1


def test_a_number_for_a_clinic_without_a_record_is_refused(database_url: str) -> None:
    result = run(
        database_url, "clinics", "add-number", "--clinic-id", "7", "--number", "+18059876543"
    )

    assert result.exit_code == 1
    assert "Clinic 7 not found" in result.output


def test_a_bad_messaging_service_sid_is_refused_naming_the_option(database_url: str) -> None:
    upsert(database_url)

    result = run(
        database_url, "clinics", "add-number", "--clinic-id", "1", "--number", "+18059876543",
        "--messaging-service-sid", "MG123",
    )  # fmt: skip

    assert result.exit_code == 1
    assert "--messaging-service-sid: Messaging Service SID must be MG" in result.output


def test_removing_a_number_no_clinic_holds_is_refused_naming_only_its_last_four_digits(
    database_url: str,
) -> None:
    result = run(database_url, "clinics", "remove-number", "--number", "+18059876543")

    assert result.exit_code == 1
    assert "No clinic holds the number ending 6543" in result.output
    assert "987" not in result.output


def test_users_and_patients_are_registered_for_a_clinic_without_a_record(
    database_url: str,
) -> None:
    user = run(database_url, "users", "create", "--id", "101", "--clinic-id", "9", "--name", "D")
    patient = run(
        database_url,
        "patients",
        "upsert",
        "--id",
        "123",
        "--clinic-id",
        "9",
        "--phone",
        "8051234567",
    )

    assert (user.exit_code, patient.exit_code) == (0, 0), user.output + patient.output
    assert "Created user 101 in clinic 9." in user.output
    assert patient.output == "Patient 123 in clinic 9: +18051234567.\n"


@pytest.fixture
def demo_without_serving(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """``ecm-comms demo`` sets up and then returns instead of serving."""
    served: list[object] = []
    monkeypatch.setattr(demo_command, "serve", lambda *args, **kwargs: served.append(args))
    return served


def test_the_demo_sets_up_clinic_one_texting_from_twilios_test_number(
    database_url: str, demo_without_serving: list[object]
) -> None:
    result = run(database_url, "demo")

    assert result.exit_code == 0, result.output
    assert len(demo_without_serving) == 1
    assert listed(database_url) == (
        f"1  Demo Clinic  NPI 1234567893  America/Los_Angeles  no main line{LIMITS}\n"
        "    +15005550006 (sending)\n"
    )


def test_the_demo_run_again_keeps_its_clinics_one_number(
    database_url: str, demo_without_serving: list[object]
) -> None:
    run(database_url, "demo")

    result = run(database_url, "demo")

    assert result.exit_code == 0, result.output
    assert listed(database_url).count("+15005550006") == 1
