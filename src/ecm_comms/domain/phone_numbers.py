"""Phone numbers as the business keeps them: E.164, whatever way a person typed them."""

from __future__ import annotations

from dataclasses import dataclass

import phonenumbers

from ecm_comms.domain.errors import ValidationError

PHONE_NUMBER_REQUIRED = "Phone number is required"
INVALID_PHONE_NUMBER = "Invalid phone number"
# The longest sender kept as reported ("client:…" identities, sender ids); longer is cut.
MAX_REPORTED_LENGTH = 64


@dataclass(frozen=True, slots=True)
class PhoneNumber:
    e164: str

    @classmethod
    def parse(cls, raw: str | None, region: str = "US") -> PhoneNumber:
        """Normalise ``raw`` (E.164, national, dashes, parentheses, spaces, a leading 1) to E.164.

        Only *possible* numbers are required, not *valid* ones: validity metadata lags behind new
        area codes, and the provider has the final word on whether a number can be reached.
        """
        if raw is None or not raw.strip():
            raise ValidationError(PHONE_NUMBER_REQUIRED)
        try:
            parsed = phonenumbers.parse(raw, region)
        except phonenumbers.NumberParseException as error:
            raise ValidationError(INVALID_PHONE_NUMBER) from error
        if not phonenumbers.is_possible_number(parsed):
            raise ValidationError(INVALID_PHONE_NUMBER)
        return cls(phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164))

    @classmethod
    def as_reported(cls, raw: str, region: str = "US") -> PhoneNumber:
        """A sender or recipient as the provider reported it: E.164 when it is a phone number,
        else kept as written (short codes, alphanumeric sender ids) so nothing is dropped."""
        try:
            return cls.parse(raw, region)
        except ValidationError:
            printable = "".join(c for c in raw.strip() if c.isprintable())
            return cls(printable[:MAX_REPORTED_LENGTH])

    @property
    def for_people(self) -> str:
        """As people write it: its country's national format ("(805) 555-0100"); a sender kept
        as reported stays as it is."""
        try:
            parsed = phonenumbers.parse(self.e164)
        except phonenumbers.NumberParseException:
            return self.e164
        return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL)

    def __str__(self) -> str:
        return self.e164
