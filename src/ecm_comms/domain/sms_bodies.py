"""The text of an SMS."""

from __future__ import annotations

from dataclasses import dataclass

from ecm_comms.domain.errors import ValidationError

# Twilio refuses longer bodies (error 21617); refusing them here keeps a doomed send off the wire.
MAX_SMS_BODY_LENGTH = 1600
BODY_REQUIRED = "Body is required"
BODY_TOO_LONG = f"Body is too long (maximum is {MAX_SMS_BODY_LENGTH} characters)"
BODY_UNSENDABLE = "Body contains characters that cannot be sent"


@dataclass(frozen=True, slots=True)
class SmsBody:
    text: str

    @classmethod
    def parse(cls, raw: str | None) -> SmsBody:
        """Keep the text exactly as written; only refuse a blank or over-long one."""
        if raw is None or not raw.strip():
            raise ValidationError(BODY_REQUIRED)
        if len(raw) > MAX_SMS_BODY_LENGTH:
            raise ValidationError(BODY_TOO_LONG)
        if not storable_text(raw):
            raise ValidationError(BODY_UNSENDABLE)
        return cls(raw)

    def __str__(self) -> str:
        return self.text


def storable_text(text: str) -> bool:
    """False for NUL and lone surrogates: valid in JSON strings, but neither SMS text nor
    storable as text by the databases."""
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
