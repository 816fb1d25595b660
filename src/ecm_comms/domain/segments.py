"""How many SMS segments a text costs, counted as Twilio counts them."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Encoding(StrEnum):
    GSM_7 = "GSM-7"
    UCS_2 = "UCS-2"


# The GSM 03.38 default alphabet, and its extension table (each extension character is sent as
# an escape and the character: two septets).
_GSM_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM_EXTENSION = frozenset("\f^{}\\[~]|€")
# (units in one segment, units per segment of a longer message), by encoding.
_CAPACITY = {Encoding.GSM_7: (160, 153), Encoding.UCS_2: (70, 67)}


@dataclass(frozen=True, slots=True)
class SegmentCount:
    segments: int
    encoding: Encoding


def count_segments(text: str) -> SegmentCount:
    """GSM-7 when every character is in the GSM alphabet (extension characters count twice),
    else UCS-2, counted in UTF-16 code units (a character beyond the BMP, an emoji, is two)."""
    if all(c in _GSM_BASIC or c in _GSM_EXTENSION for c in text):
        encoding = Encoding.GSM_7
        units = sum(2 if c in _GSM_EXTENSION else 1 for c in text)
    else:
        encoding = Encoding.UCS_2
        units = len(text.encode("utf-16-le")) // 2
    single, per_part = _CAPACITY[encoding]
    segments = 1 if units <= single else -(-units // per_part)
    return SegmentCount(segments, encoding)
