"""A patient's communication history: pages of SMS and calls, newest first."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import UTC, datetime

from ecm_comms.domain.activities import Activity
from ecm_comms.domain.channels import Channel
from ecm_comms.domain.communications import TextMessage, VoiceCall
from ecm_comms.domain.errors import InvalidInput

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 200
_MAX_ID = 2**63  # ids are 64-bit


@dataclass(frozen=True, slots=True)
class HistoryItem:
    """An SMS or call with its activity (None: unmatched, refused, or not yet accepted)."""

    record: TextMessage | VoiceCall
    activity: Activity | None

    @property
    def channel(self) -> Channel:
        return self.record.CHANNEL


@dataclass(frozen=True, slots=True)
class Position:
    """Where a page ends: the order key of its last item (newest first: time, channel, id)."""

    created_at: datetime
    channel: Channel
    record_id: int

    def encode(self) -> str:
        raw = json.dumps([self.created_at.isoformat(), self.channel.value, self.record_id])
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, cursor: str) -> Position:
        """A cursor comes back from the client: anything but one we made is refused."""
        try:
            padded = cursor + "=" * (-len(cursor) % 4)
            created_at, channel, record_id = json.loads(base64.urlsafe_b64decode(padded))
            if not isinstance(record_id, int) or not 0 < record_id < _MAX_ID:
                raise ValueError("record id out of range")
            moment = datetime.fromisoformat(created_at)
            if moment.tzinfo is None:
                raise ValueError("naive time")
            return cls(moment.astimezone(UTC), Channel(channel), record_id)
        except (ValueError, TypeError, OverflowError, RecursionError, binascii.Error) as error:
            raise InvalidInput(["Invalid cursor"]) from error

    @classmethod
    def of(cls, item: HistoryItem) -> Position:
        assert item.record.id is not None
        return cls(item.record.created_at, item.channel, item.record.id)


@dataclass(frozen=True, slots=True)
class HistoryPage:
    items: list[HistoryItem]
    next_cursor: str | None


def page_size(limit: int | None) -> int:
    if limit is None:
        return DEFAULT_PAGE_SIZE
    if not 1 <= limit <= MAX_PAGE_SIZE:
        raise InvalidInput([f"limit must be between 1 and {MAX_PAGE_SIZE}"])
    return limit
