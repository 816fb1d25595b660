"""PhoneNumber: whatever way a person typed a number, the business keeps it in E.164."""

from __future__ import annotations

from collections.abc import Callable

import phonenumbers
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ecm_comms.domain.errors import ValidationError
from ecm_comms.domain.phone_numbers import PhoneNumber


@pytest.mark.parametrize(
    "typed",
    [
        "+18051234567",
        "8051234567",
        "805-123-4567",
        "(805) 123-4567",
        "805 123 4567",
        "1 805 123 4567",
        "18051234567",
        "1-805-123-4567",
    ],
)
def test_every_format_of_the_api_document_normalises_to_e164(typed: str) -> None:
    assert PhoneNumber.parse(typed).e164 == "+18051234567"


def test_a_possible_but_unassigned_number_is_accepted() -> None:
    # The premise: phonenumbers calls this number possible, not valid (its exchange is unassigned).
    assert not phonenumbers.is_valid_number(phonenumbers.parse("+18051234567"))

    assert PhoneNumber.parse("+18051234567") == PhoneNumber("+18051234567")


@pytest.mark.parametrize("typed", [None, "", "   "])
def test_a_missing_number_is_required(typed: str | None) -> None:
    with pytest.raises(ValidationError) as refused:
        PhoneNumber.parse(typed)

    assert refused.value.message == "Phone number is required"


@pytest.mark.parametrize("typed", ["abc", "12345", "+1805123456789"])
def test_an_impossible_number_is_invalid(typed: str) -> None:
    with pytest.raises(ValidationError) as refused:
        PhoneNumber.parse(typed)

    assert refused.value.message == "Invalid phone number"


def test_a_national_number_is_read_in_the_given_region() -> None:
    assert PhoneNumber.parse("020 7946 0958", region="GB").e164 == "+442079460958"


def test_a_number_reads_as_its_e164_form() -> None:
    assert str(PhoneNumber.parse("805-123-4567")) == "+18051234567"


# A US number in three parts: area code, exchange, line (area and exchange never start 0 or 1).
UsNumber = tuple[str, str, str]


@st.composite
def us_numbers(draw: st.DrawFn) -> UsNumber:
    area = f"{draw(st.integers(2, 9))}{draw(st.integers(0, 99)):02d}"
    exchange = f"{draw(st.integers(2, 9))}{draw(st.integers(0, 99)):02d}"
    line = f"{draw(st.integers(0, 9999)):04d}"
    return area, exchange, line


FORMATTINGS: dict[str, Callable[[str, str, str], str]] = {
    "e164": lambda a, x, n: f"+1{a}{x}{n}",
    "national digits": lambda a, x, n: f"{a}{x}{n}",
    "dashes": lambda a, x, n: f"{a}-{x}-{n}",
    "parentheses": lambda a, x, n: f"({a}) {x}-{n}",
    "spaces": lambda a, x, n: f"{a} {x} {n}",
    "leading 1": lambda a, x, n: f"1 {a} {x} {n}",
    "dots": lambda a, x, n: f"{a}.{x}.{n}",
}


@given(us_numbers())
def test_every_formatting_of_a_us_number_normalises_to_the_same_e164(number: UsNumber) -> None:
    normalised = {name: PhoneNumber.parse(fmt(*number)).e164 for name, fmt in FORMATTINGS.items()}

    assert set(normalised.values()) == {"+1" + "".join(number)}, normalised


@given(us_numbers(), st.sampled_from(sorted(FORMATTINGS)))
def test_normalising_is_idempotent(number: UsNumber, formatting: str) -> None:
    once = PhoneNumber.parse(FORMATTINGS[formatting](*number))

    assert PhoneNumber.parse(once.e164) == once
