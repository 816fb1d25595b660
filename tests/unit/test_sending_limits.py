"""The TCPA exemption's limits on automated SMS: the hours and the frequency."""

from __future__ import annotations

from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

import pytest

from ecm_comms.domain.errors import ValidationError
from ecm_comms.domain.sending_limits import FrequencyCaps, SendWindow

LA = ZoneInfo("America/Los_Angeles")
NY = ZoneInfo("America/New_York")


def la(day: int, hour: int, minute: int = 0, month: int = 12) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=LA).astimezone(UTC)


def test_the_default_window_is_eight_to_nine_in_the_patients_zone() -> None:
    window = SendWindow()

    assert not window.is_open(la(4, 7, 59), LA)
    assert window.is_open(la(4, 8, 0), LA)
    assert window.is_open(la(4, 20, 59), LA)
    assert not window.is_open(la(4, 21, 0), LA)


def test_the_same_instant_may_be_open_in_one_zone_and_closed_in_another() -> None:
    at = la(4, 19)  # 22:00 in New York

    assert SendWindow().is_open(at, LA)
    assert not SendWindow().is_open(at, NY)


def test_before_the_window_the_next_opening_is_the_same_morning() -> None:
    assert SendWindow().next_opening(la(4, 3), LA) == la(4, 8)


def test_after_the_window_the_next_opening_is_the_next_morning() -> None:
    assert SendWindow().next_opening(la(4, 22), LA) == la(5, 8)


def test_inside_the_window_the_next_opening_is_now() -> None:
    assert SendWindow().next_opening(la(4, 12), LA) == la(4, 12)


def test_the_opening_follows_the_wall_clock_across_a_daylight_saving_change() -> None:
    # 2026-03-08: clocks in California go forward at 02:00.
    opening = SendWindow().next_opening(la(7, 22, month=3), LA)

    assert opening.astimezone(LA).time() == time(8, 0)
    assert opening.astimezone(LA).day == 8


def test_a_clinic_may_narrow_the_window() -> None:
    window = SendWindow.parse("09:00-20:00")

    assert (window.start, window.end) == (time(9), time(20))
    assert str(window) == "09:00-20:00"
    assert not window.is_open(la(4, 8, 30), LA)


@pytest.mark.parametrize(
    "raw", ["07:00-20:00", "09:00-22:00", "20:00-09:00", "09:00-09:00", "9am-5pm", "09:00", ""]
)
def test_a_window_wider_than_the_exemptions_or_malformed_is_refused(raw: str) -> None:
    with pytest.raises(ValidationError, match="Send window must be"):
        SendWindow.parse(raw)


def test_one_automated_sms_a_day_by_default() -> None:
    caps = FrequencyCaps()

    assert caps.allows(la(4, 15), LA, [])
    assert not caps.allows(la(4, 15), LA, [la(4, 9)])


def test_the_day_is_the_patients_calendar_day() -> None:
    # 23:30 on the 3rd in Los Angeles is already the 4th in UTC: still yesterday for the patient.
    assert FrequencyCaps().allows(la(4, 9), LA, [la(3, 23, 30)])


def test_three_automated_sms_in_seven_calendar_days_by_default() -> None:
    caps = FrequencyCaps()
    sent = [la(1, 9), la(2, 9), la(3, 9)]

    assert not caps.allows(la(7, 9), LA, sent)  # the 1st is within the seven days ending the 7th
    assert caps.allows(la(8, 9), LA, sent)  # … and no longer within those ending the 8th


def test_a_clinic_may_set_its_own_caps() -> None:
    caps = FrequencyCaps.of(daily=2, weekly=2)

    assert caps.allows(la(4, 15), LA, [la(4, 9)])
    assert not caps.allows(la(5, 15), LA, [la(4, 9), la(4, 10)])


def test_an_unset_cap_keeps_the_exemptions_default() -> None:
    assert FrequencyCaps.of(None, None) == FrequencyCaps(1, 3)


@pytest.mark.parametrize(("daily", "weekly"), [(0, 3), (1, 0), (3, 2), (-1, 3)])
def test_caps_below_one_or_a_week_below_a_day_are_refused(daily: int, weekly: int) -> None:
    with pytest.raises(ValidationError, match="cap must be"):
        FrequencyCaps.of(daily, weekly)


def test_the_week_starts_at_local_midnight_six_days_before() -> None:
    assert FrequencyCaps().week_start(la(8, 15), LA) == la(2, 0)
