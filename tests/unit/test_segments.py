"""Segments counted as Twilio counts them."""

from __future__ import annotations

import pytest

from ecm_comms.domain.segments import Encoding, SegmentCount, count_segments


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a" * 160, SegmentCount(1, Encoding.GSM_7)),
        ("a" * 161, SegmentCount(2, Encoding.GSM_7)),
        ("a" * 306, SegmentCount(2, Encoding.GSM_7)),
        ("a" * 307, SegmentCount(3, Encoding.GSM_7)),
        ("é£ñ@" * 40, SegmentCount(1, Encoding.GSM_7)),
    ],
)
def test_gsm_7_text_is_160_in_one_segment_and_153_per_segment_beyond(
    text: str, expected: SegmentCount
) -> None:
    assert count_segments(text) == expected


def test_characters_of_the_extension_table_count_twice() -> None:
    assert count_segments("€" * 80) == SegmentCount(1, Encoding.GSM_7)
    assert count_segments("€" * 81) == SegmentCount(2, Encoding.GSM_7)
    assert count_segments("[" + "a" * 159) == SegmentCount(2, Encoding.GSM_7)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ü" + "ç" * 69, SegmentCount(1, Encoding.UCS_2)),  # ç is not in the GSM alphabet
        ("ç" * 71, SegmentCount(2, Encoding.UCS_2)),
        ("ç" * 134, SegmentCount(2, Encoding.UCS_2)),
        ("ç" * 135, SegmentCount(3, Encoding.UCS_2)),
    ],
)
def test_any_other_character_makes_it_ucs_2_at_70_and_67(text: str, expected: SegmentCount) -> None:
    assert count_segments(text) == expected


def test_an_emoji_is_two_ucs_2_units() -> None:
    assert count_segments("😀" * 35) == SegmentCount(1, Encoding.UCS_2)
    assert count_segments("😀" * 36) == SegmentCount(2, Encoding.UCS_2)


def test_one_character_outside_the_alphabet_turns_the_whole_text_ucs_2() -> None:
    assert count_segments("Hi Ana, see you at 10 ✓").encoding is Encoding.UCS_2
