"""Consent to SMS: every opt-out and opt-in kept as a ledger entry, never overwritten.

A patient's number is opted out of a clinic's SMS (``clinic_id``), or of the shared fallback
number's (``clinic_id`` None), when the latest entry for it there is an opt-out.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from enum import Enum

from ecm_comms.domain.communications import TextMessage
from ecm_comms.domain.phone_numbers import PhoneNumber

NOTE_TOO_LONG = "Note must be at most 500 characters"
NOTE_UNSTORABLE = "Note contains characters that cannot be stored"
MAX_NOTE_LENGTH = 500
STAFF_OPT_IN_REFUSED = "Only the patient can opt back in, by texting START"
INVALID_ACTION = "Action must be opt_out or opt_in"


class ConsentAction(Enum):
    OPT_OUT = "opt_out"
    OPT_IN = "opt_in"


class ConsentSource(Enum):
    KEYWORD = "keyword"  # the patient texted STOP or START
    CARRIER = "carrier_21610"  # Twilio refused a send: the number had opted out
    STAFF = "staff"  # staff recorded what the patient asked another way


@dataclass(frozen=True, slots=True)
class ConsentEntry:
    phone: PhoneNumber
    clinic_id: int | None  # None: the shared fallback number
    action: ConsentAction
    source: ConsentSource
    at: datetime
    sms_id: int | None = None  # the inbound STOP/START, or the send Twilio refused
    user_id: int | None = None  # staff who recorded it
    note: str | None = None
    # The clinic whose record carried it (the SMS's, the staff member's); None for an SMS no
    # clinic's patient sent. On the shared number entries of several clinics mix.
    recorded_for: int | None = None
    id: int | None = None

    @classmethod
    def keyword(
        cls, message: TextMessage, clinic_id: int | None, action: ConsentAction
    ) -> ConsentEntry:
        """The patient texted STOP (or START) in ``message``."""
        return cls(
            message.from_,
            clinic_id,
            action,
            ConsentSource.KEYWORD,
            message.created_at,
            sms_id=message.id,
            recorded_for=message.clinic_id,
        )

    @classmethod
    def carrier_opt_out(
        cls, message: TextMessage, clinic_id: int | None, at: datetime
    ) -> ConsentEntry:
        """Twilio refused ``message`` with error 21610: its recipient had opted out."""
        return cls(
            message.to,
            clinic_id,
            ConsentAction.OPT_OUT,
            ConsentSource.CARRIER,
            at,
            sms_id=message.id,
            recorded_for=message.clinic_id,
        )


@dataclass(frozen=True, slots=True)
class Consent:
    """A number's SMS consent with one clinic (or the shared number): its ledger, newest first."""

    phone: PhoneNumber
    history: tuple[ConsentEntry, ...] = ()

    @property
    def sms_opted_out(self) -> bool:
        return bool(self.history) and self.history[0].action is ConsentAction.OPT_OUT

    def as_seen_by(self, clinic_id: int) -> Consent:
        """What a clinic may see: every entry's action, source and time (they bind its SMS),
        but which SMS, which staff member and the note only of its own entries; on the shared
        number the others are other clinics' records."""
        return replace(
            self,
            history=tuple(
                entry
                if entry.recorded_for == clinic_id
                else replace(entry, sms_id=None, user_id=None, note=None)
                for entry in self.history
            ),
        )
