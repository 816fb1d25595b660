"""The SMS and call endpoints side by side, for the rules they share."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import Table
from werkzeug.test import TestResponse

from ecm_comms.adapters.memory import FakeGateway
from ecm_comms.adapters.memory.gateway import SentSms, StartedCall
from ecm_comms.adapters.sql import tables
from tests.conftest import Staff
from tests.integration.records import API, recorded

PHONE = "+18051234567"
BODY = "Hello! This is a reminder about your upcoming appointment. Please reply to confirm."
MISSING = object()  # the key is absent from the request's object


@dataclass(frozen=True)
class Channel:
    """One endpoint: what it is posted, what it answers, where it records, what Twilio is asked."""

    key: str  # the URL's last segment and the name of the request's and the answer's object
    table: Table
    activity_column: str  # the activities column that points at the record
    created_message: str
    failure_prefix: str
    sid_prefix: str
    answer_fields: tuple[str, ...]
    valid: dict[str, Any]  # a request's object that is accepted as it is
    invalid: dict[str, Any]  # a request's object with every field refused
    stored: dict[str, Any] = field(default_factory=dict)  # what the record keeps besides the number
    # What the answer adds to the record's fields.
    answered: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        return self.key

    def url(self, patient_id: int | str = 123) -> str:
        return f"{API}/patients/{patient_id}/{self.key}"

    def post(
        self, client: FlaskClient, staff: Staff, obj: Any, *, patient_id: int | str = 123
    ) -> TestResponse:
        return client.post(self.url(patient_id), json={self.key: obj}, headers=staff.headers)

    def with_phone(self, phone_number: Any) -> dict[str, Any]:
        """The valid object with another phone number, or none if it is ``MISSING``."""
        fields = {**self.valid, "phone_number": phone_number}
        return {key: value for key, value in fields.items() if value is not MISSING}

    def asked(self, gateway: FakeGateway) -> list[SentSms] | list[StartedCall]:
        """What Twilio was asked on this channel."""
        return gateway.sent if self.key == "sms" else gateway.calls

    def asked_on_the_other_channel(self, gateway: FakeGateway) -> list[SentSms] | list[StartedCall]:
        return gateway.calls if self.key == "sms" else gateway.sent

    def recorded(self, records: int = 1, *, activities: int = 0) -> dict[str, int]:
        """The expected ``count_rows`` after ``records`` rows on this channel."""
        return recorded(**{self.table.name: records}, activities=activities)


SMS = Channel(
    key="sms",
    table=tables.text_messages,
    activity_column="text_message_id",
    created_message="SMS sent successfully",
    failure_prefix="Failed to send SMS",
    sid_prefix="SM",
    answer_fields=(
        "id",
        "twilio_sid",
        "to",
        "from",
        "body",
        "status",
        "direction",
        "created_at",
        "segments",
        "encoding",
        "send_at",
        "skip_reason",
    ),
    valid={"phone_number": PHONE, "body": BODY},
    invalid={"phone_number": "abc", "body": ""},
    stored={"body": BODY},
    answered={"segments": 1, "encoding": "GSM-7", "send_at": None, "skip_reason": None},
)
CALL = Channel(
    key="call",
    table=tables.voice_calls,
    activity_column="voice_call_id",
    created_message="Call initiated successfully",
    failure_prefix="Failed to initiate call",
    sid_prefix="CA",
    answer_fields=("id", "twilio_sid", "to", "from", "status", "direction", "created_at"),
    valid={"phone_number": PHONE},
    invalid={"phone_number": "abc"},
)
CHANNELS = [SMS, CALL]
