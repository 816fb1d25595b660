"""Settings read once from the environment: the encounter length of a call."""

from __future__ import annotations

import pytest

from ecm_comms.settings import SettingsError, settings_from_environ


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
