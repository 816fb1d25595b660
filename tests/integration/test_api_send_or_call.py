"""The rules POST …/sms and POST …/call share, as the API document describes them, per channel."""

from __future__ import annotations

import json
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import Engine, select

from ecm_comms.adapters.memory import FakeGateway
from ecm_comms.adapters.sql import tables
from ecm_comms.container import Container
from ecm_comms.domain.errors import GatewayError
from ecm_comms.domain.phone_numbers import PhoneNumber
from ecm_comms.ports.gateway import CallReceipt, OutboundCall, OutboundSms, SmsReceipt
from tests.conftest import Staff
from tests.integration.channels import CALL, CHANNELS, MISSING, PHONE, SMS, Channel
from tests.integration.records import count_rows, not_sent, only_row, outcome, refused, rows

CREATED_AT = "2024-11-27T10:00:00.000Z"  # FixedClock's default instant
TWILIO_REJECTION = "The 'To' number is not a valid phone number"

pytestmark = pytest.mark.usefixtures("patient")


@pytest.fixture(params=CHANNELS, ids=str)
def channel(request: pytest.FixtureRequest) -> Channel:
    the_channel: Channel = request.param
    return the_channel


# --- success -------------------------------------------------------------------------------------


def test_the_answer_is_201_with_the_documented_body(
    client: FlaskClient,
    coordinator: Staff,
    container: Container,
    gateway: FakeGateway,
    channel: Channel,
) -> None:
    response = channel.post(client, coordinator, channel.valid)

    record = only_row(container, channel.table)
    activity = only_row(container, tables.activities)
    assert response.status_code == 201
    assert response.mimetype == "application/json"
    assert response.json == {
        "message": channel.created_message,
        channel.key: {
            "id": record["id"],
            "twilio_sid": channel.asked(gateway)[0].sid,
            "to": PHONE,
            "from": "+18059876543",
            **channel.stored,
            **channel.answered,
            "status": "queued",
            "direction": "outbound",
            "created_at": CREATED_AT,
        },
        "activity": {
            "id": activity["id"],
            "activity_type": channel.key,
            "status": "created",
            "patient_id": 123,
            "performed_by_id": 101,
            "assigned_to_id": 101,
        },
    }


def test_the_answer_has_the_fields_in_the_documents_order(
    client: FlaskClient, coordinator: Staff, channel: Channel
) -> None:
    body = channel.post(client, coordinator, channel.valid).json
    assert body is not None

    assert list(body) == ["message", channel.key, "activity"]
    assert list(body[channel.key]) == list(channel.answer_fields)
    assert list(body["activity"]) == [
        "id",
        "activity_type",
        "status",
        "patient_id",
        "performed_by_id",
        "assigned_to_id",
    ]


def test_the_answer_has_integer_ids_and_the_channels_twilio_sid(
    client: FlaskClient, coordinator: Staff, channel: Channel
) -> None:
    body = channel.post(client, coordinator, channel.valid).json
    assert body is not None

    assert isinstance(body[channel.key]["id"], int)
    assert isinstance(body["activity"]["id"], int)
    assert body[channel.key]["twilio_sid"].startswith(channel.sid_prefix)


def test_twilio_is_asked_once_on_the_channel_and_never_on_the_other(
    client: FlaskClient, coordinator: Staff, gateway: FakeGateway, channel: Channel
) -> None:
    channel.post(client, coordinator, channel.valid)

    assert [asked.to for asked in channel.asked(gateway)] == [PhoneNumber(PHONE)]
    assert channel.asked_on_the_other_channel(gateway) == []


def test_one_record_one_activity_and_one_event_are_written(
    client: FlaskClient, coordinator: Staff, container: Container, channel: Channel
) -> None:
    channel.post(client, coordinator, channel.valid)

    assert count_rows(container) == channel.recorded(activities=1)


@pytest.mark.parametrize(
    "typed",
    [
        pytest.param("+18051234567", id="e164"),
        pytest.param("8051234567", id="national"),
        pytest.param("805-123-4567", id="with-dashes"),
        pytest.param("(805) 123-4567", id="with-parentheses"),
        pytest.param("1 805 123 4567", id="spaces-and-leading-1"),
    ],
)
def test_every_documented_phone_format_reaches_twilio_and_is_stored_as_e164(
    client: FlaskClient,
    coordinator: Staff,
    container: Container,
    gateway: FakeGateway,
    channel: Channel,
    typed: str,
) -> None:
    response = channel.post(client, coordinator, channel.with_phone(typed))

    assert response.status_code == 201
    assert response.json is not None
    assert response.json[channel.key]["to"] == "+18051234567"
    assert [asked.to for asked in channel.asked(gateway)] == [PhoneNumber("+18051234567")]
    assert only_row(container, channel.table)["to_number"] == "+18051234567"


def test_a_request_without_a_content_type_header_is_still_read_as_json(
    client: FlaskClient, coordinator: Staff, container: Container, channel: Channel
) -> None:
    data = json.dumps({channel.key: channel.valid})

    response = client.post(channel.url(), data=data, headers=coordinator.headers)

    assert response.status_code == 201
    assert response.mimetype == "application/json"
    assert count_rows(container) == channel.recorded(activities=1)


# --- 422 -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "phone_number",
    [
        pytest.param(MISSING, id="missing"),
        pytest.param(None, id="null"),
        pytest.param("", id="empty"),
        pytest.param("   ", id="blank"),
    ],
)
def test_a_missing_phone_number_is_refused(
    client: FlaskClient,
    coordinator: Staff,
    container: Container,
    gateway: FakeGateway,
    channel: Channel,
    phone_number: Any,
) -> None:
    response = channel.post(client, coordinator, channel.with_phone(phone_number))

    assert outcome(response, container, gateway) == refused(422, ["Phone number is required"])


@pytest.mark.parametrize(
    "phone_number",
    [
        pytest.param("abc", id="letters"),
        pytest.param("12345", id="too-short"),
        pytest.param("+1805123456789", id="too-long"),
    ],
)
def test_an_invalid_phone_number_is_refused(
    client: FlaskClient,
    coordinator: Staff,
    container: Container,
    gateway: FakeGateway,
    channel: Channel,
    phone_number: str,
) -> None:
    response = channel.post(client, coordinator, channel.with_phone(phone_number))

    assert outcome(response, container, gateway) == refused(422, ["Invalid phone number"])


def _without_the_object(channel: Channel) -> dict[str, Any]:
    return {}


def _with_a_null_object(channel: Channel) -> dict[str, Any]:
    return {channel.key: None}


def _with_the_other_channels_object(channel: Channel) -> dict[str, Any]:
    other = CALL if channel is SMS else SMS
    return {other.key: other.valid}


@pytest.mark.parametrize(
    "payload_for",
    [
        pytest.param(_without_the_object, id="no-object-key"),
        pytest.param(_with_a_null_object, id="object-null"),
        pytest.param(_with_the_other_channels_object, id="the-other-channels-payload"),
    ],
)
def test_a_request_without_the_channels_object_is_refused(
    client: FlaskClient,
    coordinator: Staff,
    container: Container,
    gateway: FakeGateway,
    channel: Channel,
    payload_for: Any,
) -> None:
    response = client.post(channel.url(), json=payload_for(channel), headers=coordinator.headers)

    assert outcome(response, container, gateway) == refused(422, [f'"{channel.key}" is required'])


@pytest.mark.parametrize(
    "obj_for",
    [
        pytest.param(lambda channel: "x", id="string"),
        pytest.param(lambda channel: [], id="empty-list"),
        pytest.param(lambda channel: list(channel.valid.values()), id="list"),
        pytest.param(lambda channel: 3, id="number"),
        pytest.param(lambda channel: True, id="boolean"),
    ],
)
def test_a_channels_object_that_is_not_an_object_is_refused(
    client: FlaskClient,
    coordinator: Staff,
    container: Container,
    gateway: FakeGateway,
    channel: Channel,
    obj_for: Any,
) -> None:
    response = channel.post(client, coordinator, obj_for(channel))

    assert outcome(response, container, gateway) == refused(
        422, [f'"{channel.key}" must be an object']
    )


@pytest.mark.parametrize(
    "phone_number",
    [
        pytest.param(8051234567, id="integer"),
        pytest.param(8051234567.0, id="float"),
        pytest.param([PHONE], id="list"),
        pytest.param({"number": PHONE}, id="object"),
        pytest.param(False, id="boolean"),
    ],
)
def test_a_phone_number_that_is_not_a_string_is_refused(
    client: FlaskClient,
    coordinator: Staff,
    container: Container,
    gateway: FakeGateway,
    channel: Channel,
    phone_number: Any,
) -> None:
    response = channel.post(client, coordinator, channel.with_phone(phone_number))

    assert outcome(response, container, gateway) == refused(422, ["Phone number must be a string"])


# --- 404 -----------------------------------------------------------------------------------------


def test_an_unknown_patient_is_not_found(
    client: FlaskClient,
    coordinator: Staff,
    container: Container,
    gateway: FakeGateway,
    channel: Channel,
) -> None:
    response = channel.post(client, coordinator, channel.valid, patient_id=999)

    assert outcome(response, container, gateway) == refused(404, ["Patient not found"])


def test_a_patient_of_another_clinic_is_not_found(
    client: FlaskClient,
    other_clinic_coordinator: Staff,
    container: Container,
    gateway: FakeGateway,
    channel: Channel,
) -> None:
    response = channel.post(client, other_clinic_coordinator, channel.valid)

    assert outcome(response, container, gateway) == refused(404, ["Patient not found"])


def test_a_patient_of_another_clinic_is_not_found_even_with_invalid_fields(
    client: FlaskClient,
    other_clinic_coordinator: Staff,
    container: Container,
    gateway: FakeGateway,
    channel: Channel,
) -> None:
    response = channel.post(client, other_clinic_coordinator, channel.invalid)

    assert outcome(response, container, gateway) == refused(404, ["Patient not found"])


@pytest.mark.parametrize(
    "patient_id",
    [
        pytest.param("abc", id="letters"),
        pytest.param("12.5", id="decimal"),
        pytest.param("-1", id="negative"),
        pytest.param("1e3", id="exponent"),
        pytest.param("99999999999999999999", id="beyond-64-bits"),
    ],
)
def test_a_patient_id_that_is_not_an_integer_is_not_found(
    client: FlaskClient,
    coordinator: Staff,
    container: Container,
    gateway: FakeGateway,
    channel: Channel,
    patient_id: str,
) -> None:
    response = channel.post(client, coordinator, channel.valid, patient_id=patient_id)

    assert outcome(response, container, gateway) == refused(404, ["Patient not found"])


# --- on record before Twilio is asked, and what Twilio is asked ----------------------------------


class _RowReadingGateway(FakeGateway):
    """Reads the channel's table at the moment Twilio is asked."""

    def __init__(self, engine: Engine, channel: Channel) -> None:
        super().__init__()
        self._engine = engine
        self._channel = channel
        self.rows_seen: list[dict[str, Any]] = []

    def _read(self) -> None:
        with self._engine.connect() as connection:
            found = connection.execute(select(self._channel.table)).mappings()
            self.rows_seen = [dict(row) for row in found]

    def send_sms(self, sms: OutboundSms) -> SmsReceipt:
        self._read()
        return super().send_sms(sms)

    def start_call(self, call: OutboundCall) -> CallReceipt:
        self._read()
        return super().start_call(call)


def test_the_record_is_committed_as_queued_without_a_sid_before_twilio_is_asked(
    client: FlaskClient, coordinator: Staff, container: Container, channel: Channel
) -> None:
    reading = _RowReadingGateway(container.engine(), channel)
    container.gateway.override(reading)

    response = channel.post(client, coordinator, channel.valid)

    assert response.json is not None
    assert [
        (
            row["id"],
            row["status"],
            row["twilio_sid"],
            row["sent_by_id"],
            *(row[column] for column in channel.stored),
        )
        for row in reading.rows_seen
    ] == [(response.json[channel.key]["id"], "queued", None, 101, *channel.stored.values())]


def test_twilio_is_given_the_id_of_the_record(
    client: FlaskClient, coordinator: Staff, gateway: FakeGateway, channel: Channel
) -> None:
    response = channel.post(client, coordinator, channel.valid)

    assert response.json is not None
    assert [asked.record_id for asked in channel.asked(gateway)] == [
        response.json[channel.key]["id"]
    ]


# --- Twilio failures -----------------------------------------------------------------------------

# What a test reads of the record's row after Twilio failed.
OUTCOME_COLUMNS = ("status", "twilio_sid", "error_code", "error_message", "sent_by_id")


def the_row(container: Container, channel: Channel) -> dict[str, Any]:
    record = only_row(container, channel.table)
    return {column: record[column] for column in OUTCOME_COLUMNS}


def test_a_request_twilio_rejects_is_refused_with_twilios_message_and_kept_as_failed(
    client: FlaskClient,
    coordinator: Staff,
    container: Container,
    gateway: FakeGateway,
    channel: Channel,
) -> None:
    gateway.fail_next(GatewayError(TWILIO_REJECTION, code=21211))

    response = channel.post(client, coordinator, channel.valid)

    assert outcome(response, container, gateway) == not_sent(
        422, [f"{channel.failure_prefix}: {TWILIO_REJECTION}"], channel.recorded()
    )
    assert the_row(container, channel) == {
        "status": "failed",
        "twilio_sid": None,
        "error_code": 21211,
        "error_message": TWILIO_REJECTION,
        "sent_by_id": 101,
    }


def test_a_request_twilio_stayed_unavailable_for_answers_502_and_is_kept_as_failed(
    client: FlaskClient,
    coordinator: Staff,
    container: Container,
    gateway: FakeGateway,
    channel: Channel,
) -> None:
    # What the adapter raises once its retries of 429/503 answers are spent: Twilio did nothing.
    gateway.fail_next(GatewayError("Service Unavailable", unavailable=True, retry_safe=True))

    response = channel.post(client, coordinator, channel.valid)

    assert outcome(response, container, gateway) == not_sent(
        502, [f"{channel.failure_prefix}: Service Unavailable"], channel.recorded()
    )
    assert the_row(container, channel) == {
        "status": "failed",
        "twilio_sid": None,
        "error_code": None,
        "error_message": "Service Unavailable",
        "sent_by_id": 101,
    }


@pytest.mark.parametrize(
    ("channel", "error"),
    [
        # A timeout, or a 500 answer: Twilio may have acted, and its status callback will say so.
        pytest.param(SMS, "Twilio did not answer in time", id="sms"),
        pytest.param(CALL, "Internal error", id="call"),
    ],
)
def test_a_request_whose_fate_at_twilio_is_unknown_answers_502_and_stays_queued(
    client: FlaskClient,
    coordinator: Staff,
    container: Container,
    gateway: FakeGateway,
    channel: Channel,
    error: str,
) -> None:
    gateway.fail_next(GatewayError(error, unavailable=True))

    response = channel.post(client, coordinator, channel.valid)

    assert outcome(response, container, gateway) == not_sent(
        502, [f"{channel.failure_prefix}: {error}"], channel.recorded()
    )
    assert the_row(container, channel) == {
        "status": "queued",
        "twilio_sid": None,
        "error_code": None,
        "error_message": None,
        "sent_by_id": 101,
    }


def test_a_request_after_a_twilio_failure_gets_its_own_record_and_activity(
    client: FlaskClient,
    coordinator: Staff,
    container: Container,
    gateway: FakeGateway,
    channel: Channel,
) -> None:
    gateway.fail_next(GatewayError("Service Unavailable", unavailable=True, retry_safe=True))
    channel.post(client, coordinator, channel.valid)

    response = channel.post(client, coordinator, channel.valid)

    assert response.status_code == 201
    assert response.json is not None
    assert len(channel.asked(gateway)) == 1
    assert count_rows(container) == channel.recorded(2, activities=1)
    assert [(row["status"], row["twilio_sid"]) for row in rows(container, channel.table)] == [
        ("failed", None),
        ("queued", channel.asked(gateway)[0].sid),
    ]
    assert (
        only_row(container, tables.activities)[channel.activity_column]
        == (response.json[channel.key]["id"])
    )
