"""Opt-out keywords: a single word, trimmed, in any case; Twilio's OptOutType wins over the body."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ecm_comms.domain.opt_outs import (
    HELP_WORDS,
    OPT_IN_WORDS,
    OPT_OUT_WORDS,
    OPTED_OUT_ERROR_CODE,
    OptOutRequest,
    opt_out_request,
)

STOP_WORDS = ["STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"]
START_WORDS = ["START", "YES", "UNSTOP"]
KEYWORDS = [
    *((word, OptOutRequest.OPT_OUT) for word in STOP_WORDS),
    *((word, OptOutRequest.OPT_IN) for word in START_WORDS),
    ("HELP", OptOutRequest.HELP),
]

# Padding a person (or a phone's keyboard) might leave around a keyword.
padding = st.text(alphabet=" \t\r\n", max_size=4)


@st.composite
def any_casing(draw: st.DrawFn, word: str) -> str:
    uppers = draw(st.lists(st.booleans(), min_size=len(word), max_size=len(word)))
    return "".join(c.upper() if up else c.lower() for c, up in zip(word, uppers, strict=True))


@st.composite
def typed_keyword(draw: st.DrawFn) -> tuple[str, OptOutRequest]:
    """A keyword as a patient might type it: any casing, any padding."""
    word, request = draw(st.sampled_from(KEYWORDS))
    return draw(padding) + draw(any_casing(word)) + draw(padding), request


# The words of DESIGN.md, "Opt-out".


def test_the_opt_out_words_are_those_of_the_design() -> None:
    assert set(STOP_WORDS) == OPT_OUT_WORDS


def test_the_opt_in_words_are_those_of_the_design() -> None:
    assert set(START_WORDS) == OPT_IN_WORDS


def test_help_is_the_only_help_word() -> None:
    assert {"HELP"} == HELP_WORDS


def test_twilios_opted_out_error_is_21610() -> None:
    assert OPTED_OUT_ERROR_CODE == 21610


# Reading the body.


@pytest.mark.parametrize("word", STOP_WORDS)
def test_each_stop_word_asks_to_opt_out(word: str) -> None:
    assert opt_out_request(word) is OptOutRequest.OPT_OUT


@pytest.mark.parametrize("word", START_WORDS)
def test_each_start_word_asks_to_opt_back_in(word: str) -> None:
    assert opt_out_request(word) is OptOutRequest.OPT_IN


def test_help_asks_for_help() -> None:
    assert opt_out_request("HELP") is OptOutRequest.HELP


@pytest.mark.parametrize("body", ["stop", "Stop", "sToP", "  stop  ", "\tSTOP\n", "start\r\n"])
def test_a_keyword_is_read_in_any_case_and_trimmed(body: str) -> None:
    assert opt_out_request(body) is not None


@settings(max_examples=200)
@given(typed_keyword())
def test_any_casing_and_padding_of_a_keyword_asks_what_the_keyword_asks(
    typed: tuple[str, OptOutRequest],
) -> None:
    body, request = typed

    assert opt_out_request(body) is request


@pytest.mark.parametrize(
    "body",
    [
        "stop please",
        "Please stop",
        "STOP STOP",
        "don't stop",
        "start over",
        "yes I will be there",
        "help me",
        "STOP.",
        "stopp",
        "S T O P",
        "",
        "Hello, see you tomorrow",
    ],
)
def test_anything_but_a_single_keyword_asks_nothing(body: str) -> None:
    assert opt_out_request(body) is None


@settings(max_examples=200)
@given(
    typed_keyword(),
    st.text(alphabet=" \t", min_size=1, max_size=3),
    st.text(alphabet="abcdefghijklmnopqrstuvwxyz!.,", min_size=1, max_size=10),
    st.booleans(),
)
def test_a_keyword_with_another_word_asks_nothing(
    typed: tuple[str, OptOutRequest], gap: str, other: str, keyword_first: bool
) -> None:
    keyword = typed[0].strip()
    body = f"{keyword}{gap}{other}" if keyword_first else f"{other}{gap}{keyword}"

    assert opt_out_request(body) is None


# Twilio's OptOutType (Advanced Opt-Out) wins over the body.


@pytest.mark.parametrize(
    ("reported", "asked"),
    [
        ("STOP", OptOutRequest.OPT_OUT),
        ("START", OptOutRequest.OPT_IN),
        ("HELP", OptOutRequest.HELP),
    ],
)
def test_twilios_opt_out_type_is_read_even_when_the_body_is_no_keyword(
    reported: str, asked: OptOutRequest
) -> None:
    # Advanced Opt-Out may have custom keywords the body alone would not show.
    assert opt_out_request("arrêtez svp", reported) is asked


def test_twilios_opt_out_type_wins_over_the_body() -> None:
    assert opt_out_request("STOP", "HELP") is OptOutRequest.HELP


def test_twilios_opt_out_type_is_read_in_any_case() -> None:
    assert opt_out_request("hello", " stop ") is OptOutRequest.OPT_OUT


@pytest.mark.parametrize("reported", [None, ""])
def test_without_an_opt_out_type_the_body_decides(reported: str | None) -> None:
    assert opt_out_request("STOP", reported) is OptOutRequest.OPT_OUT
