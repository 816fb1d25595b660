"""SmsBody: the text of an SMS, kept exactly as written, refused only when blank or too long."""

from __future__ import annotations

import pytest

from ecm_comms.domain.errors import ValidationError
from ecm_comms.domain.sms_bodies import SmsBody


@pytest.mark.parametrize("typed", [None, "", "   ", "\n\t "])
def test_a_blank_body_is_required(typed: str | None) -> None:
    with pytest.raises(ValidationError) as refused:
        SmsBody.parse(typed)

    assert refused.value.message == "Body is required"


def test_a_body_of_1600_characters_is_accepted() -> None:
    text = "x" * 1600

    assert SmsBody.parse(text).text == text


def test_a_body_of_1601_characters_is_too_long() -> None:
    with pytest.raises(ValidationError) as refused:
        SmsBody.parse("x" * 1601)

    assert refused.value.message == "Body is too long (maximum is 1600 characters)"


def test_the_text_is_kept_exactly_as_written() -> None:
    text = "  Your appointment is tomorrow at 10.\n"

    assert SmsBody.parse(text).text == text


@pytest.mark.parametrize("text", ["Hi\x00there", "Hi \ud800 there"], ids=["nul", "lone-surrogate"])
def test_a_body_with_characters_no_carrier_or_database_takes_is_refused(text: str) -> None:
    with pytest.raises(ValidationError) as refused:
        SmsBody.parse(text)

    assert refused.value.message == "Body contains characters that cannot be sent"
