"""GET and POST …/consent: a patient number's SMS consent with the user's clinic, read and recorded
over the API, and what a STOP texted to a clinic's own number adds to it."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from ecm_comms.adapters.memory import FakeGateway, FixedClock
from ecm_comms.adapters.sql import tables
from ecm_comms.container import Container
from ecm_comms.domain.commands import AddClinicNumber, UpsertClinic, UpsertPatient
from ecm_comms.domain.people import Patient
from ecm_comms.domain.phone_numbers import PhoneNumber
from tests.conftest import Staff
from tests.support.webhooks import (
    API,
    WEBHOOK_SETTINGS,
    SignedWebhooks,
    rows,
    send_sms,
    webhook_container,
)

CONSENT_URL = f"{API}/consent"
PATIENT_PHONE = "+18051234567"
CLINIC_ONE_NUMBER = "+18055550111"
CLINIC_TWO_NUMBER = "+18055550122"
NOTE = "Asked by phone not to be texted"
OPT_OUT = {"consent": {"phone_number": PATIENT_PHONE, "action": "opt_out", "note": NOTE}}
OPTED_OUT = ["Failed to send SMS: The recipient has opted out of SMS (replied STOP)"]
STAFF_OPT_IN_REFUSED = ["Only the patient can opt back in, by texting START"]
NEVER_SEEN = {"consent": {"phone_number": PATIENT_PHONE, "sms_opted_out": False, "history": []}}
NOW = "2024-11-27T10:00:00.000Z"  # the FixedClock's
KEY_HEADER = "Idempotency-Key"


@pytest.fixture
def container(database_url: str, gateway: FakeGateway, clock: FixedClock) -> Iterator[Container]:
    """The real container, validating webhooks as in production."""
    with webhook_container(database_url, gateway, clock, WEBHOOK_SETTINGS) as built:
        yield built


@pytest.fixture
def own_numbers(container: Container) -> None:
    """Clinics 1 and 2 text from Twilio numbers of their own: each keeps its own consent."""
    for clinic_id, number in ((1, CLINIC_ONE_NUMBER), (2, CLINIC_TWO_NUMBER)):
        container.upsert_clinic()(UpsertClinic(clinic_id, f"Clinic {clinic_id}"))
        container.add_clinic_number()(AddClinicNumber(clinic_id, number))


@pytest.fixture
def clinic_two_patient(container: Container, other_clinic_coordinator: Staff) -> Patient:
    """Patient 223 of clinic 2, at the same number as clinic 1's patient 123."""
    return container.upsert_patient()(UpsertPatient(223, 2, (PATIENT_PHONE,), coordinator_id=201))


@pytest.fixture
def twilio(client: FlaskClient) -> SignedWebhooks:
    return SignedWebhooks(client)


def get_consent(client: FlaskClient, staff: Staff, phone_number: str = PATIENT_PHONE) -> Any:
    """The ``consent`` of a read that must succeed."""
    response = client.get(
        CONSENT_URL, query_string={"phone_number": phone_number}, headers=staff.headers
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()["consent"]


def post_consent(
    client: FlaskClient, staff: Staff, payload: Any = OPT_OUT, *, key: str | None = None
) -> TestResponse:
    """POST ``payload`` (an object, or text sent as is), with an ``Idempotency-Key`` if given."""
    headers = dict(staff.headers)
    if key is not None:
        headers[KEY_HEADER] = key
    data = payload if isinstance(payload, str) else json.dumps(payload)
    return client.post(CONSENT_URL, data=data, content_type="application/json", headers=headers)


def ledger(container: Container) -> list[tuple[str, int | None, str, str]]:
    """Every consent entry as (phone, clinic, action, source), oldest first."""
    return [
        (row["phone"], row["clinic_id"], row["action"], row["source"])
        for row in rows(container, tables.consent_entries)
    ]


def staff_entry(user_id: int = 101, note: str | None = NOTE, at: str = NOW) -> dict[str, Any]:
    return {
        "action": "opt_out",
        "source": "staff",
        "sms_id": None,
        "user_id": user_id,
        "note": note,
        "at": at,
    }


def inbound_sms_id(container: Container) -> int:
    [inbound] = [m for m in rows(container, tables.text_messages) if m["direction"] == "inbound"]
    return int(inbound["id"])


# --- reading -------------------------------------------------------------------------------------


def test_a_number_never_seen_is_not_opted_out_and_has_no_history(
    client: FlaskClient, coordinator: Staff
) -> None:
    response = client.get(
        CONSENT_URL, query_string={"phone_number": PATIENT_PHONE}, headers=coordinator.headers
    )

    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.get_json() == NEVER_SEEN


def test_the_number_is_read_in_any_format_and_answered_in_e164(
    client: FlaskClient, coordinator: Staff
) -> None:
    assert get_consent(client, coordinator, "(805) 123-4567")["phone_number"] == PATIENT_PHONE


@pytest.mark.parametrize("query", [{}, {"phone_number": ""}, {"phone_number": "  "}])
def test_reading_without_a_phone_number_is_refused(
    client: FlaskClient, coordinator: Staff, query: dict[str, str]
) -> None:
    response = client.get(CONSENT_URL, query_string=query, headers=coordinator.headers)

    assert response.status_code == 422
    assert response.get_json() == {"errors": ["Phone number is required"]}


@pytest.mark.parametrize("phone_number", ["12", "not a number", "+1805123456789012"])
def test_reading_an_invalid_phone_number_is_refused(
    client: FlaskClient, coordinator: Staff, phone_number: str
) -> None:
    response = client.get(
        CONSENT_URL, query_string={"phone_number": phone_number}, headers=coordinator.headers
    )

    assert response.status_code == 422
    assert response.get_json() == {"errors": ["Invalid phone number"]}


# --- recording a staff opt-out -------------------------------------------------------------------


def test_a_staff_opt_out_answers_201_with_the_consent_and_its_entry(
    client: FlaskClient, coordinator: Staff
) -> None:
    payload = {"consent": {"phone_number": "805-123-4567", "action": "opt_out", "note": NOTE}}

    response = post_consent(client, coordinator, payload)

    assert response.status_code == 201, response.get_json()
    assert response.mimetype == "application/json"
    assert response.get_json() == {
        "consent": {
            "phone_number": PATIENT_PHONE,
            "sms_opted_out": True,
            "history": [staff_entry()],
        }
    }


def test_a_staff_opt_out_is_read_back_by_the_clinic(
    client: FlaskClient, coordinator: Staff
) -> None:
    post_consent(client, coordinator)

    assert get_consent(client, coordinator) == {
        "phone_number": PATIENT_PHONE,
        "sms_opted_out": True,
        "history": [staff_entry()],
    }


@pytest.mark.parametrize("note", [None, "", "   "])
def test_a_staff_opt_out_without_a_note_keeps_none(
    client: FlaskClient, coordinator: Staff, note: str | None
) -> None:
    payload = {"consent": {"phone_number": PATIENT_PHONE, "action": "opt_out", "note": note}}

    response = post_consent(client, coordinator, payload)

    assert response.status_code == 201, response.get_json()
    assert response.get_json()["consent"]["history"] == [staff_entry(note=None)]


@pytest.mark.usefixtures("own_numbers", "patient")
def test_after_a_staff_opt_out_the_clinic_cannot_text_the_number(
    client: FlaskClient, coordinator: Staff, gateway: FakeGateway
) -> None:
    assert post_consent(client, coordinator).status_code == 201

    response = send_sms(client, coordinator.headers)

    assert response.status_code == 422
    assert response.get_json() == {"errors": OPTED_OUT}
    assert gateway.sent == []


@pytest.mark.usefixtures("patient")
def test_staff_cannot_opt_a_number_back_in_and_nothing_is_written(
    client: FlaskClient, coordinator: Staff, container: Container, gateway: FakeGateway
) -> None:
    post_consent(client, coordinator)
    before = get_consent(client, coordinator)
    opt_in = {"consent": {"phone_number": PATIENT_PHONE, "action": "opt_in", "note": "Said yes"}}

    response = post_consent(client, coordinator, opt_in)

    assert response.status_code == 422
    assert response.get_json() == {"errors": STAFF_OPT_IN_REFUSED}
    assert get_consent(client, coordinator) == before
    assert len(ledger(container)) == 1
    assert send_sms(client, coordinator.headers).status_code == 422
    assert gateway.sent == []


# --- refusals ------------------------------------------------------------------------------------


def _consent(**fields: Any) -> dict[str, Any]:
    return {"consent": {"phone_number": PATIENT_PHONE, "action": "opt_out"} | fields}


@pytest.mark.parametrize(
    ("payload", "status", "errors"),
    [
        pytest.param("{", 400, ["Request body must be valid JSON"], id="not JSON"),
        pytest.param("", 400, ["Request body must be valid JSON"], id="empty"),
        pytest.param([], 400, ["Request body must be a JSON object"], id="an array"),
        pytest.param("null", 400, ["Request body must be a JSON object"], id="null"),
        pytest.param({}, 422, ['"consent" is required'], id="no consent"),
        pytest.param({"consent": None}, 422, ['"consent" is required'], id="consent null"),
        pytest.param({"consent": "x"}, 422, ['"consent" must be an object'], id="consent text"),
        pytest.param(
            {"consent": {}},
            422,
            ["Phone number is required", "Action must be opt_out or opt_in"],
            id="empty consent",
        ),
        pytest.param(
            {"consent": {"phone_number": 8051234567, "action": ["opt_out"], "note": 1}},
            422,
            ["Phone number must be a string", "Action must be a string", "Note must be a string"],
            id="wrong types",
        ),
        pytest.param(_consent(phone_number=" "), 422, ["Phone number is required"], id="blank"),
        pytest.param(_consent(phone_number="12"), 422, ["Invalid phone number"], id="invalid"),
        pytest.param(
            _consent(action="OPT_OUT"), 422, ["Action must be opt_out or opt_in"], id="action"
        ),
        pytest.param(
            _consent(note="x" * 501), 422, ["Note must be at most 500 characters"], id="long note"
        ),
        pytest.param(
            _consent(phone_number="12", action="stop", note="x" * 501),
            422,
            [
                "Invalid phone number",
                "Action must be opt_out or opt_in",
                "Note must be at most 500 characters",
            ],
            id="every problem",
        ),
        pytest.param(
            _consent(phone_number="12", action="opt_in"),
            422,
            ["Invalid phone number"],
            id="invalid number before opt-in",
        ),
    ],
)
def test_a_malformed_or_invalid_opt_out_is_refused_and_records_nothing(
    client: FlaskClient,
    coordinator: Staff,
    container: Container,
    payload: Any,
    status: int,
    errors: list[str],
) -> None:
    response = post_consent(client, coordinator, payload)

    assert (response.status_code, response.mimetype, response.get_json()) == (
        status,
        "application/json",
        {"errors": errors},
    )
    assert ledger(container) == []


@pytest.mark.both_databases
@pytest.mark.parametrize("note", ["a\x00b", "\ud800"], ids=["NUL", "lone surrogate"])
def test_a_note_that_cannot_be_stored_is_refused(
    client: FlaskClient, coordinator: Staff, container: Container, note: str
) -> None:
    # json.dumps writes both as escapes, as a JSON client may.
    response = post_consent(client, coordinator, _consent(note=note))

    assert response.status_code == 422
    assert response.get_json() == {"errors": ["Note contains characters that cannot be stored"]}
    assert ledger(container) == []


def test_a_note_of_500_characters_is_kept(client: FlaskClient, coordinator: Staff) -> None:
    response = post_consent(client, coordinator, _consent(note="x" * 500))

    assert response.status_code == 201, response.get_json()
    assert response.get_json()["consent"]["history"][0]["note"] == "x" * 500


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        ({}, "X-User-Token header is required"),
        ({"X-User-Token": "not-a-token"}, "Invalid user token"),
    ],
    ids=["no token", "unknown token"],
)
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_without_a_valid_token_it_is_401_and_nothing_is_recorded(
    client: FlaskClient,
    container: Container,
    coordinator: Staff,
    headers: dict[str, str],
    message: str,
    method: str,
) -> None:
    if method == "GET":
        response = client.get(
            CONSENT_URL, query_string={"phone_number": PATIENT_PHONE}, headers=headers
        )
    else:
        response = client.post(CONSENT_URL, json=OPT_OUT, headers=headers)

    assert response.status_code == 401
    assert response.get_json() == {"errors": [message]}
    assert ledger(container) == []


def test_authentication_is_checked_before_the_phone_number(client: FlaskClient) -> None:
    response = client.get(CONSENT_URL, query_string={"phone_number": "12"})

    assert response.status_code == 401


# --- Idempotency-Key -----------------------------------------------------------------------------


def test_a_repeated_opt_out_with_the_same_key_replays_the_answer_and_records_once(
    client: FlaskClient, coordinator: Staff, container: Container, clock: FixedClock
) -> None:
    first = post_consent(client, coordinator, key="consent-1")
    clock.advance(timedelta(minutes=1))

    repeat = post_consent(client, coordinator, key="consent-1")

    assert repeat.status_code == 201
    assert repeat.headers["Idempotent-Replayed"] == "true"
    assert repeat.get_json() == first.get_json()
    assert len(ledger(container)) == 1


def test_the_same_key_for_a_different_opt_out_is_refused(
    client: FlaskClient, coordinator: Staff, container: Container
) -> None:
    post_consent(client, coordinator, key="consent-1")

    response = post_consent(client, coordinator, _consent(note="Another note"), key="consent-1")

    assert response.status_code == 422
    assert response.get_json() == {
        "errors": ["Idempotency-Key was already used for a different request"]
    }
    assert len(ledger(container)) == 1


def test_a_refused_opt_in_is_replayed_for_its_key(
    client: FlaskClient, coordinator: Staff, container: Container
) -> None:
    opt_in = _consent(action="opt_in")
    post_consent(client, coordinator, opt_in, key="consent-1")

    repeat = post_consent(client, coordinator, opt_in, key="consent-1")

    assert repeat.status_code == 422
    assert repeat.headers["Idempotent-Replayed"] == "true"
    assert repeat.get_json() == {"errors": STAFF_OPT_IN_REFUSED}
    assert ledger(container) == []


def test_without_a_key_each_opt_out_is_a_new_entry(
    client: FlaskClient, coordinator: Staff, container: Container
) -> None:
    post_consent(client, coordinator)

    response = post_consent(client, coordinator)

    assert len(response.get_json()["consent"]["history"]) == 2
    assert len(ledger(container)) == 2


# --- clinics with numbers of their own -----------------------------------------------------------


@pytest.mark.usefixtures("own_numbers")
def test_another_clinic_does_not_see_a_staff_opt_out_of_clinic_one(
    client: FlaskClient, coordinator: Staff, other_clinic_coordinator: Staff
) -> None:
    post_consent(client, coordinator)

    assert get_consent(client, other_clinic_coordinator) == NEVER_SEEN["consent"]


@pytest.mark.usefixtures("own_numbers", "patient")
def test_another_clinic_can_still_text_a_number_clinic_one_opted_out(
    client: FlaskClient,
    coordinator: Staff,
    other_clinic_coordinator: Staff,
    clinic_two_patient: Patient,
    gateway: FakeGateway,
) -> None:
    post_consent(client, coordinator)

    response = send_sms(client, other_clinic_coordinator.headers, patient_id=clinic_two_patient.id)

    assert response.status_code == 201, response.get_json()
    assert [(sms.to.e164, sms.sender and sms.sender.number) for sms in gateway.sent] == [
        (PATIENT_PHONE, PhoneNumber(CLINIC_TWO_NUMBER))
    ]


@pytest.mark.usefixtures("own_numbers", "patient")
def test_a_stop_to_clinic_ones_number_shows_as_a_keyword_entry_of_clinic_one(
    client: FlaskClient, coordinator: Staff, twilio: SignedWebhooks, container: Container
) -> None:
    assert twilio.inbound_sms(PATIENT_PHONE, "STOP", to=CLINIC_ONE_NUMBER).status_code == 200

    assert get_consent(client, coordinator) == {
        "phone_number": PATIENT_PHONE,
        "sms_opted_out": True,
        "history": [
            {
                "action": "opt_out",
                "source": "keyword",
                "sms_id": inbound_sms_id(container),
                "user_id": None,
                "note": None,
                "at": NOW,
            }
        ],
    }


@pytest.mark.usefixtures("own_numbers", "patient")
def test_a_stop_to_clinic_ones_number_is_not_in_clinic_twos_consent(
    client: FlaskClient, other_clinic_coordinator: Staff, twilio: SignedWebhooks
) -> None:
    twilio.inbound_sms(PATIENT_PHONE, "STOP", to=CLINIC_ONE_NUMBER)

    assert get_consent(client, other_clinic_coordinator) == NEVER_SEEN["consent"]


@pytest.mark.usefixtures("own_numbers", "patient")
def test_the_ledger_lists_a_stop_then_a_staff_opt_out_newest_first(
    client: FlaskClient,
    coordinator: Staff,
    twilio: SignedWebhooks,
    container: Container,
    clock: FixedClock,
) -> None:
    twilio.inbound_sms(PATIENT_PHONE, "STOP", to=CLINIC_ONE_NUMBER)
    clock.advance(timedelta(hours=1, milliseconds=250))

    response = post_consent(client, coordinator)

    keyword = {
        "action": "opt_out",
        "source": "keyword",
        "sms_id": inbound_sms_id(container),
        "user_id": None,
        "note": None,
        "at": NOW,
    }
    expected = [staff_entry(at="2024-11-27T11:00:00.250Z"), keyword]
    assert response.get_json()["consent"]["history"] == expected
    assert get_consent(client, coordinator)["history"] == expected


@pytest.mark.usefixtures("own_numbers", "patient")
def test_a_start_after_a_staff_opt_out_opts_the_number_back_in(
    client: FlaskClient,
    coordinator: Staff,
    twilio: SignedWebhooks,
    clock: FixedClock,
) -> None:
    post_consent(client, coordinator)
    clock.advance(timedelta(minutes=5))

    twilio.inbound_sms(PATIENT_PHONE, "START", to=CLINIC_ONE_NUMBER)

    consent = get_consent(client, coordinator)
    assert consent["sms_opted_out"] is False
    assert [(e["action"], e["source"]) for e in consent["history"]] == [
        ("opt_in", "keyword"),
        ("opt_out", "staff"),
    ]


def test_clinics_without_numbers_of_their_own_share_the_shared_numbers_consent(
    client: FlaskClient, coordinator: Staff, other_clinic_coordinator: Staff, container: Container
) -> None:
    post_consent(client, coordinator)

    assert get_consent(client, other_clinic_coordinator)["sms_opted_out"] is True
    assert ledger(container) == [(PATIENT_PHONE, None, "opt_out", "staff")]


def test_on_the_shared_number_another_clinic_sees_the_opt_out_but_not_whose_or_why(
    client: FlaskClient, coordinator: Staff, other_clinic_coordinator: Staff
) -> None:
    post_consent(client, coordinator)

    [entry] = get_consent(client, other_clinic_coordinator)["history"]

    assert (entry["action"], entry["source"], entry["user_id"], entry["note"]) == (
        "opt_out",
        "staff",
        None,
        None,
    )


# --- logs ----------------------------------------------------------------------------------------


def test_neither_the_number_nor_the_note_is_logged(
    client: FlaskClient, coordinator: Staff, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)

    post_consent(client, coordinator)
    post_consent(client, coordinator, _consent(action="opt_in"))
    post_consent(client, coordinator, _consent(phone_number="805-12"))
    get_consent(client, coordinator)

    logged = caplog.text
    for secret in (NOTE, PATIENT_PHONE, PATIENT_PHONE[2:], "805-12"):
        assert secret not in logged
