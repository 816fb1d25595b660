"""Reading the record: one SMS, one call, and a patient's history in pages, newest first."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import text

from ecm_comms.adapters.memory import FakeGateway, FixedClock
from ecm_comms.adapters.sql import tables
from ecm_comms.container import Container
from ecm_comms.domain.commands import UpsertPatient
from ecm_comms.domain.people import Patient
from tests.conftest import Staff
from tests.support.webhooks import (
    API,
    CLINIC_NUMBER,
    WEBHOOK_SETTINGS,
    SignedWebhooks,
    history,
    only_row,
    sent_sms,
    started_call,
    webhook_container,
)

PATIENT_PHONE = "+18051234567"


@pytest.fixture
def container(database_url: str, gateway: FakeGateway, clock: FixedClock) -> Iterator[Container]:
    with webhook_container(database_url, gateway, clock, WEBHOOK_SETTINGS) as built:
        yield built


@pytest.fixture
def twilio(client: FlaskClient) -> SignedWebhooks:
    return SignedWebhooks(client)


def _page(client: FlaskClient, staff: Staff, **query: Any) -> dict[str, Any]:
    response = history(client, staff.headers, **query)
    assert response.status_code == 200, response.get_json()
    body: dict[str, Any] = response.get_json()
    return body


def _keys(page: dict[str, Any]) -> list[tuple[str, int]]:
    return [(item["type"], item["id"]) for item in page["communications"]]


def _cursor(value: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


@pytest.fixture
def four_communications(
    twilio: SignedWebhooks,
    client: FlaskClient,
    clock: FixedClock,
    coordinator: Staff,
    patient: Patient,
) -> None:
    """An SMS to patient 123, then a call, then their SMS back, then their call: a minute apart."""
    sent_sms(client, coordinator.headers)
    clock.advance(timedelta(minutes=1))
    started_call(client, coordinator.headers)
    clock.advance(timedelta(minutes=1))
    assert twilio.inbound_sms(PATIENT_PHONE, "Got it").status_code == 200
    clock.advance(timedelta(minutes=1))
    assert twilio.inbound_call(PATIENT_PHONE).status_code == 200


@pytest.mark.both_databases
@pytest.mark.usefixtures("four_communications")
def test_history_lists_sms_and_calls_in_and_out_newest_first(
    client: FlaskClient, coordinator: Staff
) -> None:
    page = _page(client, coordinator)

    assert [(item["type"], item["direction"]) for item in page["communications"]] == [
        ("call", "inbound"),
        ("sms", "inbound"),
        ("call", "outbound"),
        ("sms", "outbound"),
    ]
    assert [item["created_at"] for item in page["communications"]] == [
        "2024-11-27T10:03:00.000Z",
        "2024-11-27T10:02:00.000Z",
        "2024-11-27T10:01:00.000Z",
        "2024-11-27T10:00:00.000Z",
    ]
    assert page["next_cursor"] is None


def test_a_call_in_the_history_has_its_activity_and_no_body(
    client: FlaskClient, container: Container, coordinator: Staff, patient: Patient
) -> None:
    call = started_call(client, coordinator.headers)

    page = _page(client, coordinator)

    activity = only_row(container, tables.activities)
    assert page["communications"] == [
        {
            "type": "call",
            "id": call["id"],
            "twilio_sid": call["twilio_sid"],
            "direction": "outbound",
            "status": "queued",
            "to": PATIENT_PHONE,
            "from": CLINIC_NUMBER,
            "created_at": "2024-11-27T10:00:00.000Z",
            "activity": {
                "id": activity["id"],
                "activity_type": "call",
                "status": "created",
                "patient_id": 123,
                "performed_by_id": 101,
                "assigned_to_id": 101,
            },
        }
    ]


@pytest.mark.both_databases
def test_history_holds_only_the_patients_own_communications(
    client: FlaskClient, container: Container, coordinator: Staff, patient: Patient
) -> None:
    container.upsert_patient()(UpsertPatient(124, 1, ("+18055550124",), coordinator_id=101))
    own = sent_sms(client, coordinator.headers)
    sent_sms(client, coordinator.headers, patient_id=124, phone_number="+18055550124")

    page = _page(client, coordinator)

    assert _keys(page) == [("sms", own["id"])]


@pytest.mark.both_databases
@pytest.mark.parametrize("limit", [1, 2, 3])
def test_paging_with_limit_and_cursor_covers_every_record_exactly_once(
    twilio: SignedWebhooks,
    client: FlaskClient,
    clock: FixedClock,
    coordinator: Staff,
    patient: Patient,
    limit: int,
) -> None:
    # Nine records, several at the very same instant, SMS and calls mixed: the order must still
    # be total for a cursor to resume exactly where the previous page ended.
    for _ in range(3):
        sent_sms(client, coordinator.headers)
        started_call(client, coordinator.headers)
    clock.advance(timedelta(seconds=1))
    twilio.inbound_sms(PATIENT_PHONE, "ok")
    twilio.inbound_call(PATIENT_PHONE)
    sent_sms(client, coordinator.headers)
    everything = _keys(_page(client, coordinator, limit=200))

    paged: list[tuple[str, int]] = []
    cursor = None
    for _ in range(len(everything) + 1):
        query: dict[str, Any] = {"limit": limit} | ({"cursor": cursor} if cursor else {})
        page = _page(client, coordinator, **query)
        assert len(page["communications"]) <= limit
        paged += _keys(page)
        cursor = page["next_cursor"]
        if cursor is None:
            break

    assert len(everything) == 9
    assert paged == everything


@pytest.mark.both_databases
def test_a_page_that_ends_at_the_oldest_record_has_no_next_cursor(
    client: FlaskClient, coordinator: Staff, patient: Patient
) -> None:
    for _ in range(3):
        sent_sms(client, coordinator.headers)

    first = _page(client, coordinator, limit=2)
    last = _page(client, coordinator, limit=2, cursor=first["next_cursor"])
    exact = _page(client, coordinator, limit=3)

    assert first["next_cursor"] is not None
    assert (len(last["communications"]), last["next_cursor"]) == (1, None)
    assert (len(exact["communications"]), exact["next_cursor"]) == (3, None)


@pytest.mark.parametrize(
    ("limit", "message"),
    [
        ("0", "limit must be between 1 and 200"),
        ("201", "limit must be between 1 and 200"),
        ("x", "limit must be a positive integer"),
        ("-1", "limit must be a positive integer"),
        ("2.5", "limit must be a positive integer"),
    ],
)
def test_a_limit_that_is_not_1_to_200_is_refused_with_422(
    client: FlaskClient, coordinator: Staff, patient: Patient, limit: str, message: str
) -> None:
    response = history(client, coordinator.headers, limit=limit)

    assert response.status_code == 422
    assert response.get_json() == {"errors": [message]}


@pytest.mark.parametrize("limit", ["1", "200"])
def test_limits_at_the_bounds_are_accepted(
    client: FlaskClient, coordinator: Staff, patient: Patient, limit: str
) -> None:
    assert history(client, coordinator.headers, limit=limit).status_code == 200


@pytest.mark.parametrize(
    "cursor",
    [
        "not a cursor!",
        _cursor({"created_at": "2024-11-27T10:00:00+00:00"}),
        _cursor(["2024-11-27T10:00:00+00:00", "fax", 1]),
        _cursor(["2024-11-27T10:00:00", "sms", 1]),  # no time zone
        _cursor(["yesterday", "sms", 1]),
        _cursor(["2024-11-27T10:00:00+00:00", "sms", "one"]),
    ],
    ids=["not-base64", "not-a-list", "channel", "naive-time", "time", "id"],
)
def test_a_malformed_cursor_is_refused_with_422(
    client: FlaskClient, coordinator: Staff, patient: Patient, cursor: str
) -> None:
    response = history(client, coordinator.headers, cursor=cursor)

    assert response.status_code == 422
    assert response.get_json() == {"errors": ["Invalid cursor"]}


@pytest.mark.parametrize(
    "raw",
    [
        '["2024-11-27T10:00:00+00:00", "sms", Infinity]',
        '["2024-11-27T10:00:00+00:00", "sms", 1000000000000000000000000000000]',
        '["0001-01-01T00:00:00+14:00", "sms", 1]',
        '["9999-12-31T23:59:59-14:00", "sms", 1]',
        "[" * 10_000 + "]" * 10_000,
    ],
    ids=["infinite-id", "id-beyond-64-bits", "before-year-1", "after-year-9999", "deep-nesting"],
)
def test_a_cursor_with_values_out_of_range_is_refused_with_422(
    client: FlaskClient, coordinator: Staff, patient: Patient, raw: str
) -> None:
    # A cursor is the client's to send back; a tampered one is a 422, never a 500.
    cursor = base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    response = history(client, coordinator.headers, cursor=cursor)

    assert response.status_code == 422
    assert response.get_json() == {"errors": ["Invalid cursor"]}


@pytest.mark.both_databases
def test_paging_works_once_record_ids_pass_32_bits(
    client: FlaskClient, container: Container, coordinator: Staff, patient: Patient
) -> None:
    # A busy clinic's ids outgrow a 32-bit integer; the cursor carries such an id.
    with container.engine().begin() as connection:
        if connection.dialect.name == "postgresql":
            for table in ("text_messages", "voice_calls"):
                connection.execute(
                    text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), 3000000000)")
                )
        else:  # SQLite numbers a new row one past the largest id
            connection.execute(
                tables.text_messages.insert().values(
                    id=3_000_000_000,
                    direction="inbound",
                    to_number=CLINIC_NUMBER,
                    from_number="+18055559999",
                    body="placeholder, of no patient",
                    status="received",
                    created_at=datetime(2024, 1, 1, tzinfo=UTC),
                    updated_at=datetime(2024, 1, 1, tzinfo=UTC),
                )
            )
    sent = [sent_sms(client, coordinator.headers)["id"] for _ in range(3)]
    assert min(sent) > 2**31

    first = _page(client, coordinator, limit=2)
    response = history(client, coordinator.headers, limit=2, cursor=first["next_cursor"])

    assert response.status_code == 200, response.get_json()
    assert _keys(first) + _keys(response.get_json()) == [("sms", i) for i in reversed(sent)]


@pytest.mark.parametrize("patient_id", [123, 999, "abc"])
def test_the_history_of_another_clinics_or_an_unknown_patient_is_404(
    client: FlaskClient,
    other_clinic_coordinator: Staff,
    patient: Patient,
    patient_id: int | str,
) -> None:
    response = client.get(
        f"{API}/patients/{patient_id}/communications", headers=other_clinic_coordinator.headers
    )

    assert response.status_code == 404
    assert response.get_json() == {"errors": ["Patient not found"]}


def test_history_without_a_token_is_401(client: FlaskClient, patient: Patient) -> None:
    response = history(client, {})

    assert response.status_code == 401
    assert list(response.get_json()) == ["errors"]


def test_an_sms_reads_with_its_activity(
    client: FlaskClient, container: Container, coordinator: Staff, patient: Patient
) -> None:
    sms = sent_sms(client, coordinator.headers, body="Hello")

    response = client.get(f"{API}/sms/{sms['id']}", headers=coordinator.headers)

    activity = only_row(container, tables.activities)
    assert response.status_code == 200
    assert response.get_json() == {
        "sms": sms
        | {
            "patient_id": 123,
            "error_code": None,
            "error_message": None,
            "updated_at": "2024-11-27T10:00:00.000Z",
        },
        "activity": {
            "id": activity["id"],
            "activity_type": "sms",
            "status": "created",
            "patient_id": 123,
            "performed_by_id": 101,
            "assigned_to_id": 101,
        },
    }


@pytest.mark.both_databases
@pytest.mark.parametrize("kind", ["sms", "calls"])
def test_another_clinics_sms_or_call_is_404(
    client: FlaskClient,
    coordinator: Staff,
    other_clinic_coordinator: Staff,
    patient: Patient,
    kind: str,
) -> None:
    record = (
        sent_sms(client, coordinator.headers)
        if kind == "sms"
        else started_call(client, coordinator.headers)
    )

    response = client.get(f"{API}/{kind}/{record['id']}", headers=other_clinic_coordinator.headers)

    assert response.status_code == 404
    assert response.get_json() == {"errors": ["Not found"]}


@pytest.mark.parametrize("record_id", ["999", "abc"])
@pytest.mark.parametrize("kind", ["sms", "calls"])
def test_an_unknown_sms_or_call_is_404(
    client: FlaskClient, coordinator: Staff, kind: str, record_id: str
) -> None:
    response = client.get(f"{API}/{kind}/{record_id}", headers=coordinator.headers)

    assert response.status_code == 404
    assert response.get_json() == {"errors": ["Not found"]}


@pytest.mark.both_databases
def test_an_inbound_sms_no_patient_matched_is_read_by_no_clinic(
    twilio: SignedWebhooks, client: FlaskClient, container: Container, coordinator: Staff
) -> None:
    twilio.inbound_sms("+18055559999", "wrong number?")
    unmatched = only_row(container, tables.text_messages)

    response = client.get(f"{API}/sms/{unmatched['id']}", headers=coordinator.headers)

    assert response.status_code == 404
    assert response.get_json() == {"errors": ["Not found"]}
