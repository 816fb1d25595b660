"""Settings read once from the environment: the encounter length of a call, the log format and
the metrics."""

from __future__ import annotations

import pytest

from ecm_comms.settings import LogFormat, SettingsError, settings_from_environ


def test_a_call_of_a_minute_is_an_encounter_by_default() -> None:
    assert settings_from_environ({}).encounter_min_call_seconds == 60


@pytest.mark.parametrize(("raw", "seconds"), [("90", 90), ("0", 0)])
def test_the_encounter_length_comes_from_the_environment(raw: str, seconds: int) -> None:
    environ = {"ECM_ENCOUNTER_MIN_CALL_SECONDS": raw}

    assert settings_from_environ(environ).encounter_min_call_seconds == seconds


@pytest.mark.parametrize("raw", ["-5", "1.5", "a minute"])
def test_an_encounter_length_that_is_not_a_whole_number_is_refused(raw: str) -> None:
    with pytest.raises(SettingsError, match="ECM_ENCOUNTER_MIN_CALL_SECONDS"):
        settings_from_environ({"ECM_ENCOUNTER_MIN_CALL_SECONDS": raw})


# Logs.


@pytest.mark.parametrize("environ", [{}, {"ECM_LOG_FORMAT": ""}])
def test_logs_are_text_by_default(environ: dict[str, str]) -> None:
    assert settings_from_environ(environ).log_format is LogFormat.TEXT


@pytest.mark.parametrize(
    ("raw", "log_format"),
    [("json", LogFormat.JSON), ("JSON", LogFormat.JSON), ("text", LogFormat.TEXT)],
)
def test_the_log_format_comes_from_the_environment(raw: str, log_format: LogFormat) -> None:
    assert settings_from_environ({"ECM_LOG_FORMAT": raw}).log_format is log_format


def test_an_unknown_log_format_is_refused_naming_the_choices() -> None:
    with pytest.raises(SettingsError) as refused:
        settings_from_environ({"ECM_LOG_FORMAT": "yaml"})

    assert str(refused.value) == "ECM_LOG_FORMAT must be 'text' or 'json', not 'yaml'"


# Metrics.


def test_metrics_are_on_without_a_token_by_default() -> None:
    settings = settings_from_environ({})

    assert (settings.metrics_enabled, settings.metrics_token) == (True, None)


@pytest.mark.parametrize(
    ("raw", "enabled"),
    [("on", True), ("1", True), ("TRUE", True), ("off", False), ("0", False), ("no", False)],
)
def test_metrics_are_switched_by_the_environment(raw: str, enabled: bool) -> None:
    assert settings_from_environ({"ECM_METRICS": raw}).metrics_enabled is enabled


def test_a_metrics_switch_neither_on_nor_off_is_refused() -> None:
    with pytest.raises(SettingsError) as refused:
        settings_from_environ({"ECM_METRICS": "sometimes"})

    assert str(refused.value) == "ECM_METRICS must be on or off, not 'sometimes'"


def test_the_metrics_token_comes_from_the_environment() -> None:
    settings = settings_from_environ({"ECM_METRICS_TOKEN": "scrape-secret"})

    assert settings.metrics_token == "scrape-secret"


def test_an_empty_metrics_token_is_no_token() -> None:
    assert settings_from_environ({"ECM_METRICS_TOKEN": ""}).metrics_token is None


def test_the_metrics_token_is_not_shown_with_the_settings() -> None:
    settings = settings_from_environ({"ECM_METRICS_TOKEN": "scrape-secret"})

    assert "scrape-secret" not in repr(settings)
