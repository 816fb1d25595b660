"""The limits of automated SMS as settings from the command line: a patient's time zone, a
clinic's send window and caps, and refusals that name the option at fault."""

from __future__ import annotations

import pytest
from click.testing import CliRunner, Result

from ecm_comms.container import create_container
from ecm_comms.domain.people import Patient
from ecm_comms.entrypoints.cli.main import cli

pytestmark = pytest.mark.both_databases

DEFAULT_LIMITS = "automated SMS 08:00-21:00, at most 1 a day and 3 in 7 days"


def run(database_url: str, *args: str) -> Result:
    return CliRunner().invoke(cli, list(args), env={"ECM_DATABASE_URL": database_url})


def upsert_patient(database_url: str, *extra: str) -> Result:
    return run(database_url, "patients", "upsert", "--id", "123", "--clinic-id", "1",
               "--phone", "8051234567", *extra)  # fmt: skip


def patient(database_url: str) -> Patient | None:
    return create_container(database_url=database_url).patient_directory().find(123, 1)


def upsert_clinic(database_url: str, *extra: str) -> Result:
    return run(database_url, "clinics", "upsert", "--id", "1", "--name", "Harbor Health", *extra)


def listed(database_url: str) -> str:
    result = run(database_url, "clinics", "list")
    assert result.exit_code == 0, result.output
    return result.output


def test_a_patient_keeps_the_time_zone_given(database_url: str) -> None:
    result = upsert_patient(database_url, "--timezone", "America/New_York")

    assert result.exit_code == 0, result.output
    found = patient(database_url)
    assert found is not None
    assert found.timezone == "America/New_York"


def test_a_patient_upserted_without_a_time_zone_has_their_clinics(database_url: str) -> None:
    upsert_patient(database_url, "--timezone", "America/New_York")

    result = upsert_patient(database_url)

    assert result.exit_code == 0, result.output
    found = patient(database_url)
    assert found is not None
    assert found.timezone is None


def test_an_unknown_time_zone_of_a_patient_is_refused_naming_the_option(database_url: str) -> None:
    result = upsert_patient(database_url, "--timezone", "America/Gotham")

    assert result.exit_code == 1
    assert "--timezone: Unknown time zone" in result.output
    assert patient(database_url) is None


def test_a_clinics_send_window_and_caps_are_listed(database_url: str) -> None:
    result = upsert_clinic(
        database_url, "--send-window", "09:00-20:00", "--daily-cap", "2", "--weekly-cap", "5"
    )

    assert result.exit_code == 0, result.output
    assert listed(database_url).splitlines()[0] == (
        "1  Harbor Health  no NPI  America/Los_Angeles  no main line"
        "  automated SMS 09:00-20:00, at most 2 a day and 5 in 7 days"
    )


def test_a_clinic_upserted_without_limits_has_the_exemptions_own(database_url: str) -> None:
    upsert_clinic(database_url, "--send-window", "09:00-20:00", "--daily-cap", "2")

    result = upsert_clinic(database_url)

    assert result.exit_code == 0, result.output
    assert listed(database_url).splitlines()[0].endswith(DEFAULT_LIMITS)


@pytest.mark.parametrize(
    ("options", "refusals"),
    [
        pytest.param(
            ("--send-window", "07:00-22:00"),
            ["--send-window: Send window must be HH:MM-HH:MM within 08:00-21:00"],
            id="window",
        ),
        pytest.param(
            ("--daily-cap", "0"),
            ["--daily-cap: Daily cap must be a whole number of at least 1"],
            id="daily",
        ),
        pytest.param(
            ("--daily-cap", "4"),
            ["--weekly-cap: Weekly cap must be a whole number of at least 1, and not below"],
            id="daily-above-weekly",
        ),
        pytest.param(
            ("--send-window", "9-5", "--daily-cap", "0", "--weekly-cap", "0"),
            ["--send-window: ", "--daily-cap: ", "--weekly-cap: "],
            id="all-at-once",
        ),
    ],
)
def test_limits_out_of_bounds_are_refused_naming_the_option_and_nothing_is_stored(
    database_url: str, options: tuple[str, ...], refusals: list[str]
) -> None:
    result = upsert_clinic(database_url, *options)

    assert result.exit_code == 1
    for refusal in refusals:
        assert refusal in result.output
    assert listed(database_url) == "No clinics yet (ecm-comms clinics upsert).\n"
