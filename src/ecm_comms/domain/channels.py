"""The two ways a coordinator reaches a patient."""

from enum import StrEnum


class Channel(StrEnum):
    """Also the ``activity_type`` of an activity and the ``event_type`` of an event."""

    SMS = "sms"
    CALL = "call"


class Direction(StrEnum):
    OUTBOUND = "outbound"
    INBOUND = "inbound"
