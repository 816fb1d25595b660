"""GET /v1/clinic/ecm/patients/{id}/activities and …/events through HTTP: a patient's ECM record,
newest first, filtered, in numbered pages, with each event's PRTF category derived as it is read
and dates as calendar days in the clinic's time zone."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import update

from ecm_comms.adapters.memory import FakeGateway, FixedClock
from ecm_comms.adapters.sql import tables
from ecm_comms.container import Container
from ecm_comms.domain.commands import RegisterUser, UpsertClinic, UpsertPatient
from ecm_comms.domain.people import Patient
from tests.conftest import Staff
from tests.integration.test_openapi import assert_conforms
from tests.support.statements import counting_statements
from tests.support.webhooks import (
    WEBHOOK_SETTINGS,
    SignedWebhooks,
    sent_sms,
    started_call,
    webhook_container,
)

PATIENT_PHONE = "+18051234567"
ACTIVITIES = "/v1/clinic/ecm/patients/{patient_id}/activities"
EVENTS = "/v1/clinic/ecm/patients/{patient_id}/events"
ACTIVITY_KEYS = [
    "id",
    "activity_type",
    "status",
    "direction",
    "body",
    "occurred_at",
    "patient_id",
    "performed_by_id",
    "assigned_to_id",
    "text_message_id",
    "voice_call_id",
    "created_at",
]
EVENT_KEYS = ["id", "event_type", "occurred_at", "patient_id", "activity_id", "prtf_category"]
# Midnight starting July 1, 2024 in Los Angeles (PDT, UTC-7) and in New York (EDT, UTC-4).
JULY_1_LOS_ANGELES = datetime(2024, 7, 1, 7, 0, tzinfo=UTC)
JULY_1_NEW_YORK = datetime(2024, 7, 1, 4, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)


@pytest.fixture
def container(database_url: str, gateway: FakeGateway, clock: FixedClock) -> Iterator[Container]:
    """The real container, taking signed webhooks as in production."""
    with webhook_container(database_url, gateway, clock, WEBHOOK_SETTINGS) as built:
        yield built


@pytest.fixture
def twilio(client: FlaskClient) -> SignedWebhooks:
    return SignedWebhooks(client)


def get(
    client: FlaskClient, path: str, staff: Staff | None, patient_id: int | str = 123, **query: Any
) -> Any:
    headers = staff.headers if staff is not None else {}
    return client.get(path.format(patient_id=patient_id), query_string=query, headers=headers)


def listed(client: FlaskClient, path: str, staff: Staff, **query: Any) -> dict[str, Any]:
    response = get(client, path, staff, **query)
    assert response.status_code == 200, response.get_json()
    body: dict[str, Any] = response.get_json()
    return body


def activity_ids(page: dict[str, Any]) -> list[int]:
    return [item["id"] for item in page["activities"]]


def pagination(current: int, pages: int, count: int, per_page: int) -> dict[str, int]:
    return {
        "current_page": current,
        "total_pages": pages,
        "total_count": count,
        "per_page": per_page,
    }


def call_ending(
    client: FlaskClient,
    twilio: SignedWebhooks,
    staff: Staff,
    status: str,
    duration: int | None = None,
) -> dict[str, Any]:
    """A call placed, then its final status as Twilio reports it."""
    call = started_call(client, staff.headers)
    reported = twilio.call_status(
        call["twilio_sid"], status, record_id=call["id"], duration=duration
    )
    assert reported.status_code == 204
    return call


# --- activities ---------------------------------------------------------------------------------


@pytest.mark.both_databases
def test_activities_list_a_patients_sms_and_calls_newest_first(
    client: FlaskClient,
    twilio: SignedWebhooks,
    clock: FixedClock,
    coordinator: Staff,
    patient: Patient,
) -> None:
    sms = sent_sms(client, coordinator.headers, body="See you Tuesday")
    clock.advance(MINUTE)
    call = started_call(client, coordinator.headers)
    clock.advance(MINUTE)
    assert twilio.inbound_sms(PATIENT_PHONE, "Yes, thank you").status_code == 200

    page = listed(client, ACTIVITIES, coordinator)

    reply, called, texted = page["activities"]
    assert list(reply) == ACTIVITY_KEYS
    assert reply | {"id": 0, "text_message_id": 0} == {
        "id": 0,
        "activity_type": "sms",
        "status": "created",
        "direction": "inbound",
        "body": "Yes, thank you",
        "occurred_at": "2024-11-27T10:02:00.000Z",
        "patient_id": 123,
        "performed_by_id": None,
        "assigned_to_id": 101,
        "text_message_id": 0,
        "voice_call_id": None,
        "created_at": "2024-11-27T10:02:00.000Z",
    }
    assert (called["activity_type"], called["direction"], called["body"]) == (
        "call",
        "outbound",
        None,
    )
    assert (called["voice_call_id"], called["text_message_id"]) == (call["id"], None)
    assert called["occurred_at"] == "2024-11-27T10:01:00.000Z"
    assert (texted["body"], texted["text_message_id"], texted["performed_by_id"]) == (
        "See you Tuesday",
        sms["id"],
        101,
    )
    assert page["pagination"] == pagination(1, 1, 3, 25)


@pytest.mark.both_databases
def test_activities_filter_by_type_assignee_and_status(
    client: FlaskClient, container: Container, coordinator: Staff, patient: Patient
) -> None:
    lee = container.register_user()(RegisterUser(102, 1, "Lee Coordinator"))
    lee_headers = {"X-User-Token": lee.token.value}
    sent_sms(client, coordinator.headers)
    started_call(client, coordinator.headers)
    by_lee = sent_sms(client, lee_headers)
    with container.engine().begin() as connection:  # nothing here completes or cancels one yet
        connection.execute(
            update(tables.activities)
            .where(tables.activities.c.text_message_id == by_lee["id"])
            .values(status="cancelled")
        )
    everything = activity_ids(listed(client, ACTIVITIES, coordinator))
    lees, call, dana_sms = everything

    assert activity_ids(listed(client, ACTIVITIES, coordinator, activity_type="call")) == [call]
    assert activity_ids(listed(client, ACTIVITIES, coordinator, activity_type="sms")) == [
        lees,
        dana_sms,
    ]
    assert activity_ids(listed(client, ACTIVITIES, coordinator, assigned_to_id=102)) == [lees]
    assert activity_ids(listed(client, ACTIVITIES, coordinator, status="cancelled")) == [lees]
    assert activity_ids(listed(client, ACTIVITIES, coordinator, status="created")) == [
        call,
        dana_sms,
    ]
    assert listed(client, ACTIVITIES, coordinator, status="complete")["activities"] == []
    both = listed(
        client, ACTIVITIES, coordinator, activity_type="sms", assigned_to_id=101, status="created"
    )
    assert activity_ids(both) == [dana_sms]
    assert both["pagination"] == pagination(1, 1, 1, 25)


@pytest.mark.both_databases
def test_activities_come_in_numbered_pages(
    client: FlaskClient, clock: FixedClock, coordinator: Staff, patient: Patient
) -> None:
    for _ in range(5):
        sent_sms(client, coordinator.headers)
        clock.advance(MINUTE)
    newest_first = activity_ids(listed(client, ACTIVITIES, coordinator))

    second = listed(client, ACTIVITIES, coordinator, page=2, page_size=2)
    last = listed(client, ACTIVITIES, coordinator, page=3, page_size=2)
    past_the_end = listed(client, ACTIVITIES, coordinator, page=4, page_size=2)

    assert activity_ids(second) == newest_first[2:4]
    assert second["pagination"] == pagination(2, 3, 5, 2)
    assert activity_ids(last) == newest_first[4:]
    assert past_the_end == {"activities": [], "pagination": pagination(4, 3, 5, 2)}


@pytest.mark.both_databases
def test_a_patient_with_nothing_on_record_has_an_empty_first_page(
    client: FlaskClient, coordinator: Staff, patient: Patient
) -> None:
    assert listed(client, ACTIVITIES, coordinator) == {
        "activities": [],
        "pagination": pagination(1, 0, 0, 25),
    }
    assert listed(client, EVENTS, coordinator, per_page=100) == {
        "events": [],
        "pagination": pagination(1, 0, 0, 100),
    }


@pytest.mark.both_databases
def test_only_the_patients_own_record_is_listed(
    client: FlaskClient, container: Container, coordinator: Staff, patient: Patient
) -> None:
    container.upsert_patient()(UpsertPatient(124, 1, ("+18055550124",), name="Kim"))
    sent_sms(client, coordinator.headers, patient_id=124, phone_number="+18055550124")
    mine = sent_sms(client, coordinator.headers)

    activities = listed(client, ACTIVITIES, coordinator)["activities"]
    events = listed(client, EVENTS, coordinator)["events"]

    assert [item["text_message_id"] for item in activities] == [mine["id"]]
    assert [item["activity_id"] for item in events] == [activities[0]["id"]]


# --- events -------------------------------------------------------------------------------------


@pytest.mark.both_databases
def test_events_come_newest_first_with_their_prtf_category(
    client: FlaskClient,
    twilio: SignedWebhooks,
    clock: FixedClock,
    coordinator: Staff,
    patient: Patient,
) -> None:
    sent_sms(client, coordinator.headers)
    clock.advance(MINUTE)
    assert twilio.inbound_sms(PATIENT_PHONE, "Yes, thank you").status_code == 200
    clock.advance(MINUTE)
    call_ending(client, twilio, coordinator, "completed", duration=75)
    clock.advance(MINUTE)
    call_ending(client, twilio, coordinator, "completed", duration=20)
    clock.advance(MINUTE)
    call_ending(client, twilio, coordinator, "no-answer")

    page = listed(client, EVENTS, coordinator)

    assert [(e["event_type"], e["prtf_category"]) for e in page["events"]] == [
        ("call", "Telehealth Outreach"),  # no answer
        ("call", "Telehealth Outreach"),  # too short for an encounter
        ("call", "Telehealth Encounter"),  # completed after 75 seconds
        ("sms", "Member Response"),
        ("sms", "Telehealth Outreach"),
    ]
    newest = page["events"][0]
    assert list(newest) == EVENT_KEYS
    assert (newest["patient_id"], newest["occurred_at"]) == (123, "2024-11-27T10:04:00.000Z")
    activities = listed(client, ACTIVITIES, coordinator)["activities"]
    assert [e["activity_id"] for e in page["events"]] == [a["id"] for a in activities]
    assert page["pagination"] == pagination(1, 1, 5, 25)


@pytest.mark.both_databases
def test_a_call_is_an_encounter_once_its_outcome_arrives(
    client: FlaskClient, twilio: SignedWebhooks, coordinator: Staff, patient: Patient
) -> None:
    call = started_call(client, coordinator.headers)
    before = listed(client, EVENTS, coordinator)["events"][0]["prtf_category"]

    twilio.call_status(call["twilio_sid"], "completed", record_id=call["id"], duration=600)
    after = listed(client, EVENTS, coordinator)["events"][0]["prtf_category"]

    assert (before, after) == ("Telehealth Outreach", "Telehealth Encounter")


@pytest.mark.both_databases
def test_events_filter_by_type_and_come_in_numbered_pages(
    client: FlaskClient, clock: FixedClock, coordinator: Staff, patient: Patient
) -> None:
    for _ in range(3):
        sent_sms(client, coordinator.headers)
        clock.advance(MINUTE)
        started_call(client, coordinator.headers)
        clock.advance(MINUTE)
    calls = listed(client, EVENTS, coordinator, event_type="call")["events"]

    second = listed(client, EVENTS, coordinator, event_type="call", page=2, per_page=2)
    beyond = listed(client, EVENTS, coordinator, event_type="call", page=3, per_page=2)

    assert [e["event_type"] for e in calls] == ["call"] * 3
    assert second["events"] == calls[2:]
    assert second["pagination"] == pagination(2, 2, 3, 2)
    assert beyond == {"events": [], "pagination": pagination(3, 2, 3, 2)}


def _events_around(
    client: FlaskClient, clock: FixedClock, staff: Staff, midnight: datetime
) -> None:
    """SMS at the last minute of June 30, the first of July 1, the last of July 2 and the first of
    July 3, in the zone whose midnight starting July 1 is ``midnight``."""
    for moment in (
        midnight - MINUTE,
        midnight,
        midnight + timedelta(days=2) - MINUTE,
        midnight + timedelta(days=2),
    ):
        clock.at = moment
        sent_sms(client, staff.headers)


def _occurred(page: dict[str, Any]) -> list[str]:
    return [event["occurred_at"] for event in page["events"]]


@pytest.mark.both_databases
def test_event_dates_are_days_in_los_angeles_for_a_clinic_without_a_zone(
    client: FlaskClient, clock: FixedClock, coordinator: Staff, patient: Patient
) -> None:
    _events_around(client, clock, coordinator, JULY_1_LOS_ANGELES)

    page = listed(client, EVENTS, coordinator, start_date="2024-07-01", end_date="2024-07-02")

    assert _occurred(page) == ["2024-07-03T06:59:00.000Z", "2024-07-01T07:00:00.000Z"]
    assert page["pagination"]["total_count"] == 2


@pytest.mark.both_databases
def test_event_dates_are_days_in_the_clinics_time_zone(
    client: FlaskClient,
    container: Container,
    clock: FixedClock,
    coordinator: Staff,
    patient: Patient,
) -> None:
    container.upsert_clinic()(UpsertClinic(1, "Harbor Health", timezone="America/New_York"))
    _events_around(client, clock, coordinator, JULY_1_NEW_YORK)

    both = listed(client, EVENTS, coordinator, start_date="2024-07-01", end_date="2024-07-02")
    from_july_3 = listed(client, EVENTS, coordinator, start_date="2024-07-03")
    to_june_30 = listed(client, EVENTS, coordinator, end_date="2024-06-30")
    one_day = listed(client, EVENTS, coordinator, start_date="2024-07-01", end_date="2024-07-01")

    assert _occurred(both) == ["2024-07-03T03:59:00.000Z", "2024-07-01T04:00:00.000Z"]
    assert _occurred(from_july_3) == ["2024-07-03T04:00:00.000Z"]
    assert _occurred(to_june_30) == ["2024-07-01T03:59:00.000Z"]
    assert _occurred(one_day) == ["2024-07-01T04:00:00.000Z"]


@pytest.mark.both_databases
def test_dates_at_the_ends_of_the_calendar_are_accepted(
    client: FlaskClient, container: Container, coordinator: Staff, patient: Patient
) -> None:
    container.upsert_clinic()(UpsertClinic(1, "Harbor Health", timezone="Asia/Tokyo"))
    sent_sms(client, coordinator.headers)

    page = listed(client, EVENTS, coordinator, start_date="0001-01-01", end_date="9999-12-31")

    assert page["pagination"]["total_count"] == 1


# --- refusals -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "query", "message"),
    [
        (ACTIVITIES, {"page": "abc"}, "page must be a positive integer"),
        (ACTIVITIES, {"page": "-1"}, "page must be a positive integer"),
        (ACTIVITIES, {"page": "0"}, "page must be 1 or more"),
        (ACTIVITIES, {"page_size": "0"}, "page_size must be between 1 and 100"),
        (ACTIVITIES, {"page_size": "101"}, "page_size must be between 1 and 100"),
        (ACTIVITIES, {"page_size": "2.5"}, "page_size must be a positive integer"),
        (ACTIVITIES, {"activity_type": "email"}, "activity_type must be sms or call"),
        (ACTIVITIES, {"status": "done"}, "status must be created, complete or cancelled"),
        (ACTIVITIES, {"assigned_to_id": "dana"}, "assigned_to_id must be a positive integer"),
        (EVENTS, {"page": "0"}, "page must be 1 or more"),
        (EVENTS, {"per_page": "0"}, "per_page must be between 1 and 100"),
        (EVENTS, {"per_page": "101"}, "per_page must be between 1 and 100"),
        (EVENTS, {"per_page": "x"}, "per_page must be a positive integer"),
        (EVENTS, {"event_type": "visit"}, "event_type must be sms or call"),
        (EVENTS, {"start_date": "2024-7-1"}, "start_date must be a date as YYYY-MM-DD"),
        (EVENTS, {"end_date": "2024-02-30"}, "end_date must be a date as YYYY-MM-DD"),
        (
            EVENTS,
            {"start_date": "2024-07-02", "end_date": "2024-07-01"},
            "start_date must not be after end_date",
        ),
    ],
)
def test_a_bad_parameter_is_422_naming_it(
    client: FlaskClient,
    coordinator: Staff,
    patient: Patient,
    path: str,
    query: dict[str, str],
    message: str,
) -> None:
    response = get(client, path, coordinator, **query)

    assert response.status_code == 422
    assert response.get_json() == {"errors": [message]}


def test_every_bad_parameter_is_named_at_once(
    client: FlaskClient, coordinator: Staff, patient: Patient
) -> None:
    response = get(client, EVENTS, coordinator, page=0, per_page=500, event_type="fax")

    assert response.status_code == 422
    assert response.get_json() == {
        "errors": [
            "page must be 1 or more",
            "per_page must be between 1 and 100",
            "event_type must be sms or call",
        ]
    }


@pytest.mark.parametrize("path", [ACTIVITIES, EVENTS])
def test_limits_at_the_bounds_and_empty_values_are_accepted(
    client: FlaskClient, coordinator: Staff, patient: Patient, path: str
) -> None:
    size = "page_size" if path == ACTIVITIES else "per_page"

    for value, expected in (("1", 1), ("100", 100), ("", 25)):
        response = get(client, path, coordinator, **{"page": "", size: value})
        assert response.status_code == 200, response.get_json()
        assert response.get_json()["pagination"]["per_page"] == expected


@pytest.mark.parametrize("path", [ACTIVITIES, EVENTS])
@pytest.mark.parametrize("patient_id", [123, 999, "abc", "1" * 19])
def test_another_clinics_or_an_unknown_patient_is_404(
    client: FlaskClient,
    coordinator: Staff,
    other_clinic_coordinator: Staff,
    patient: Patient,
    path: str,
    patient_id: int | str,
) -> None:
    sent_sms(client, coordinator.headers)

    response = get(client, path, other_clinic_coordinator, patient_id=patient_id)

    assert response.status_code == 404
    assert response.get_json() == {"errors": ["Patient not found"]}


@pytest.mark.parametrize("path", [ACTIVITIES, EVENTS])
def test_a_missing_or_unknown_token_is_401(
    client: FlaskClient, patient: Patient, path: str
) -> None:
    missing = get(client, path, None)
    unknown = client.get(path.format(patient_id=123), headers={"X-User-Token": "nope"})

    assert (missing.status_code, unknown.status_code) == (401, 401)
    assert missing.get_json() == {"errors": ["X-User-Token header is required"]}


@pytest.mark.parametrize("path", [ACTIVITIES, EVENTS])
def test_an_admin_reads_them_too(
    client: FlaskClient, container: Container, coordinator: Staff, patient: Patient, path: str
) -> None:
    admin = container.register_user()(RegisterUser(103, 1, "Ari Admin", role="admin"))
    sent_sms(client, coordinator.headers)

    response = client.get(path.format(patient_id=123), headers={"X-User-Token": admin.token.value})

    assert response.status_code == 200
    assert response.get_json()["pagination"]["total_count"] == 1


def test_answers_conform_to_the_openapi_document(
    client: FlaskClient,
    twilio: SignedWebhooks,
    coordinator: Staff,
    other_clinic_coordinator: Staff,
    patient: Patient,
) -> None:
    sent_sms(client, coordinator.headers)
    call_ending(client, twilio, coordinator, "completed", duration=90)
    assert twilio.inbound_sms(PATIENT_PHONE, "Thanks").status_code == 200
    answers = [
        (ACTIVITIES, get(client, ACTIVITIES, coordinator), 200),
        (ACTIVITIES, get(client, ACTIVITIES, coordinator, page=9), 200),
        (ACTIVITIES, get(client, ACTIVITIES, coordinator, status="x"), 422),
        (ACTIVITIES, get(client, ACTIVITIES, other_clinic_coordinator), 404),
        (ACTIVITIES, get(client, ACTIVITIES, None), 401),
        (EVENTS, get(client, EVENTS, coordinator), 200),
        (EVENTS, get(client, EVENTS, coordinator, start_date="2024-11-27"), 200),
        (EVENTS, get(client, EVENTS, coordinator, end_date="soon"), 422),
        (EVENTS, get(client, EVENTS, other_clinic_coordinator), 404),
        (EVENTS, get(client, EVENTS, None), 401),
    ]
    for path, response, status in answers:
        assert response.status_code == status, (path, response.get_json())
        assert_conforms("GET", path, response)


# --- cost ---------------------------------------------------------------------------------------

# Authentication, the patient, the count, the page; the clinic's time zone when dates are given.
PAGE_BUDGET = 4


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
@pytest.mark.parametrize(
    ("path", "query", "budget"),
    [
        (ACTIVITIES, {"page_size": 100}, PAGE_BUDGET),
        (EVENTS, {"per_page": 100}, PAGE_BUDGET),
        (EVENTS, {"start_date": "2024-11-01", "end_date": "2024-11-30"}, PAGE_BUDGET + 1),
        (ACTIVITIES, {"page": 9}, PAGE_BUDGET - 1),  # past the end: no page to read
    ],
)
def test_a_page_costs_a_fixed_number_of_statements_whatever_its_size(
    client: FlaskClient,
    container: Container,
    clock: FixedClock,
    coordinator: Staff,
    patient: Patient,
    path: str,
    query: dict[str, Any],
    budget: int,
) -> None:
    for _ in range(30):
        sent_sms(client, coordinator.headers)
        clock.advance(MINUTE)

    with counting_statements(container.engine()) as statements:
        response = get(client, path, coordinator, **query)

    assert response.status_code == 200
    assert len(statements) == budget, str(statements)
