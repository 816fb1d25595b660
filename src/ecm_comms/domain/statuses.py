"""Delivery statuses, and the rule that they only move forward.

Twilio's status callbacks arrive late, twice and out of order, so a status is replaced only by one
of higher rank. The ranks are fixed by the design guide.
"""

from __future__ import annotations

from enum import StrEnum


class SmsStatus(StrEnum):
    ACCEPTED = "accepted"
    SCHEDULED = "scheduled"
    QUEUED = "queued"
    RECEIVING = "receiving"
    SENDING = "sending"
    SENT = "sent"
    RECEIVED = "received"
    DELIVERED = "delivered"
    UNDELIVERED = "undelivered"
    FAILED = "failed"
    CANCELED = "canceled"
    SKIPPED = "skipped"  # ours: an automated SMS the sending rules did not let out
    PARTIALLY_DELIVERED = "partially_delivered"
    READ = "read"

    @property
    def rank(self) -> int:
        return _SMS_RANKS[self]

    @property
    def is_final(self) -> bool:
        return self.rank >= _FINAL_RANK

    def may_become(self, new: SmsStatus) -> bool:
        """Whether a callback reporting ``new`` moves a message that is ``self`` forward."""
        if new is SmsStatus.SKIPPED:
            return False  # ours alone: the provider never reports it, and no callback may
        if new is SmsStatus.READ and self.is_final and self is not SmsStatus.DELIVERED:
            # "read" follows only delivery; a failed message cannot have been read.
            return False
        return new.rank > self.rank


class CallStatus(StrEnum):
    QUEUED = "queued"
    INITIATED = "initiated"
    RINGING = "ringing"
    IN_PROGRESS = "in-progress"
    COMPLETED = "completed"
    BUSY = "busy"
    NO_ANSWER = "no-answer"
    FAILED = "failed"
    CANCELED = "canceled"

    @property
    def rank(self) -> int:
        return _CALL_RANKS[self]

    @property
    def is_final(self) -> bool:
        return self.rank >= _FINAL_RANK

    def may_become(self, new: CallStatus) -> bool:
        """Whether a callback reporting ``new`` moves a call that is ``self`` forward."""
        return new.rank > self.rank


_FINAL_RANK = 3

_SMS_RANKS: dict[SmsStatus, int] = {
    SmsStatus.ACCEPTED: 0,
    SmsStatus.SCHEDULED: 0,
    SmsStatus.QUEUED: 0,
    SmsStatus.RECEIVING: 0,
    SmsStatus.SENDING: 1,
    SmsStatus.SENT: 2,
    SmsStatus.RECEIVED: 3,
    SmsStatus.DELIVERED: 3,
    SmsStatus.UNDELIVERED: 3,
    SmsStatus.FAILED: 3,
    SmsStatus.CANCELED: 3,
    SmsStatus.SKIPPED: 3,
    SmsStatus.PARTIALLY_DELIVERED: 3,
    SmsStatus.READ: 4,
}

_CALL_RANKS: dict[CallStatus, int] = {
    CallStatus.QUEUED: 0,
    CallStatus.INITIATED: 0,
    CallStatus.RINGING: 1,
    CallStatus.IN_PROGRESS: 2,
    CallStatus.COMPLETED: 3,
    CallStatus.BUSY: 3,
    CallStatus.NO_ANSWER: 3,
    CallStatus.FAILED: 3,
    CallStatus.CANCELED: 3,
}
