"""``Idempotency-Key`` on POST …/sms and …/call, through the API on SQLite and PostgreSQL: a repeat
gets the first answer and the patient hears from us once."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from ecm_comms.adapters.memory import FakeGateway, FixedClock
from ecm_comms.adapters.sql import tables
from ecm_comms.container import Container
from ecm_comms.domain.commands import RegisterUser, UpsertPatient
from ecm_comms.domain.errors import GatewayError
from ecm_comms.entrypoints.cli.main import cli
from ecm_comms.entrypoints.http.idempotency import IdempotentRequests, request_fingerprint
from tests.conftest import Staff
from tests.integration.records import (
    NOTHING_RECORDED,
    Outcome,
    call_url,
    count_rows,
    outcome,
    recorded,
    rows,
    sms_url,
)

KEY = "8c5b1f0e-7d42-4d8e-9a51-3e2f6c0b9a17"
KEY_HEADER = "Idempotency-Key"
REPLAYED = "Idempotent-Replayed"
PHONE = "+18051234567"
SMS = {"sms": {"phone_number": PHONE, "body": "Reminder: your appointment is Tuesday at 10am."}}
CALL = {"call": {"phone_number": PHONE}}
REUSED = ["Idempotency-Key was already used for a different request"]
IN_PROGRESS = ["A request with this Idempotency-Key is still in progress; retry it shortly"]
BAD_KEY = ["Idempotency-Key must be 1 to 255 printable ASCII characters"]

pytestmark = pytest.mark.usefixtures("patient")


def post(
    client: FlaskClient, staff: Staff, url: str, payload: Any, *, key: str | None = KEY
) -> TestResponse:
    """POST ``payload`` (an object, or JSON text sent as is) with the key, if any."""
    headers = dict(staff.headers)
    if key is not None:
        headers[KEY_HEADER] = key
    data = payload if isinstance(payload, str) else json.dumps(payload)
    return client.post(url, data=data, content_type="application/json", headers=headers)


def claim_key(app: Flask, container: Container, staff: Staff, url: str, payload: Any) -> None:
    """Another request with the key and this very payload has begun and not finished."""
    with app.test_request_context(url, method="POST", json=payload):
        fingerprint = request_fingerprint()
    requests = IdempotentRequests(container.idempotency_keys(), container.clock())
    begun = requests.begin(staff.user.id, KEY, fingerprint)
    assert begun is None


def second_coordinator(container: Container) -> Staff:
    """Lee, coordinator 102 of clinic 1 (Dana's clinic)."""
    registered = container.register_user()(RegisterUser(102, 1, "Lee Coordinator"))
    return Staff(registered.user, registered.token.value)


# --- a repeat gets the first answer, and nothing is sent again ------------------------------------


def test_a_repeated_sms_replays_the_first_answer_and_sends_nothing_again(
    client: FlaskClient, coordinator: Staff, container: Container, gateway: FakeGateway
) -> None:
    first = post(client, coordinator, sms_url(), SMS)
    after_first = outcome(first, container, gateway)

    repeat = post(client, coordinator, sms_url(), SMS)

    assert after_first.status == 201
    assert after_first.records == recorded(text_messages=1, activities=1)
    assert after_first.sms_sent == 1
    assert outcome(repeat, container, gateway) == after_first


def test_a_repeated_call_replays_the_first_answer_and_calls_nobody_again(
    client: FlaskClient, coordinator: Staff, container: Container, gateway: FakeGateway
) -> None:
    first = post(client, coordinator, call_url(), CALL)
    after_first = outcome(first, container, gateway)

    repeat = post(client, coordinator, call_url(), CALL)

    assert after_first.status == 201
    assert after_first.records == recorded(voice_calls=1, activities=1)
    assert after_first.calls_started == 1
    assert outcome(repeat, container, gateway) == after_first


def test_a_replay_answers_the_first_requests_ids(
    client: FlaskClient, coordinator: Staff, container: Container
) -> None:
    first = post(client, coordinator, sms_url(), SMS).json
    repeat = post(client, coordinator, sms_url(), SMS).json
    assert first is not None
    assert repeat is not None

    message = rows(container, tables.text_messages)[0]
    activity = rows(container, tables.activities)[0]
    assert (repeat["sms"]["id"], repeat["sms"]["twilio_sid"], repeat["activity"]["id"]) == (
        message["id"],
        message["twilio_sid"],
        activity["id"],
    )
    assert repeat == first


def test_only_a_replay_carries_the_idempotent_replayed_header(
    client: FlaskClient, coordinator: Staff
) -> None:
    first = post(client, coordinator, sms_url(), SMS)
    repeat = post(client, coordinator, sms_url(), SMS)

    assert REPLAYED not in first.headers
    assert repeat.headers[REPLAYED] == "true"


def test_json_key_order_and_spacing_do_not_make_a_request_different(
    client: FlaskClient, coordinator: Staff, gateway: FakeGateway
) -> None:
    compact = '{"sms":{"phone_number":"+18051234567","body":"See you Tuesday"}}'
    reordered = '{ "sms" : {\n  "body" : "See you Tuesday",\n  "phone_number" : "+18051234567"\n} }'
    first = post(client, coordinator, sms_url(), compact)

    repeat = post(client, coordinator, sms_url(), reordered)

    assert (repeat.status_code, repeat.json) == (201, first.json)
    assert repeat.headers[REPLAYED] == "true"
    assert len(gateway.sent) == 1


def test_without_a_key_a_repeat_is_a_new_request(
    client: FlaskClient, coordinator: Staff, container: Container, gateway: FakeGateway
) -> None:
    post(client, coordinator, sms_url(), SMS, key=None)
    repeat = post(client, coordinator, sms_url(), SMS, key=None)

    assert repeat.status_code == 201
    assert REPLAYED not in repeat.headers
    assert len(gateway.sent) == 2
    assert count_rows(container) == recorded(text_messages=2, activities=2)


# --- the same key for a different request ---------------------------------------------------------


def reuse_refused(after_first: Outcome) -> Outcome:
    """422 for the reused key, with what the first request (a success) did left as it was."""
    assert after_first.status == 201, after_first
    return Outcome(
        status=422,
        content_type="application/json",
        body={"errors": REUSED},
        records=after_first.records,
        sms_sent=after_first.sms_sent,
        calls_started=after_first.calls_started,
    )


def test_the_same_key_with_a_different_body_is_refused_and_sends_nothing(
    client: FlaskClient, coordinator: Staff, container: Container, gateway: FakeGateway
) -> None:
    after_first = outcome(post(client, coordinator, sms_url(), SMS), container, gateway)
    different = {"sms": {"phone_number": PHONE, "body": "Reminder: it is Wednesday, not Tuesday."}}

    response = post(client, coordinator, sms_url(), different)

    assert outcome(response, container, gateway) == reuse_refused(after_first)


def test_the_same_key_for_a_different_patient_is_refused_and_sends_nothing(
    client: FlaskClient, coordinator: Staff, container: Container, gateway: FakeGateway
) -> None:
    container.upsert_patient()(UpsertPatient(124, 1, ("(805) 123-4568",), coordinator_id=101))
    after_first = outcome(post(client, coordinator, sms_url(123), SMS), container, gateway)

    response = post(client, coordinator, sms_url(124), SMS)

    assert outcome(response, container, gateway) == reuse_refused(after_first)


# One body for both endpoints (each reads only its own member): only the path tells them apart.
SMS_AND_CALL = SMS | CALL


def test_the_same_key_for_a_call_after_an_sms_is_refused_and_calls_nobody(
    client: FlaskClient, coordinator: Staff, container: Container, gateway: FakeGateway
) -> None:
    after_first = outcome(post(client, coordinator, sms_url(), SMS_AND_CALL), container, gateway)

    response = post(client, coordinator, call_url(), SMS_AND_CALL)

    assert outcome(response, container, gateway) == reuse_refused(after_first)


def test_the_same_key_for_an_sms_after_a_call_is_refused_and_sends_nothing(
    client: FlaskClient, coordinator: Staff, container: Container, gateway: FakeGateway
) -> None:
    after_first = outcome(post(client, coordinator, call_url(), SMS_AND_CALL), container, gateway)

    response = post(client, coordinator, sms_url(), SMS_AND_CALL)

    assert outcome(response, container, gateway) == reuse_refused(after_first)


def test_a_refused_reuse_does_not_replace_the_first_answer(
    client: FlaskClient, coordinator: Staff
) -> None:
    first = post(client, coordinator, sms_url(), SMS)
    post(client, coordinator, call_url(), CALL)

    repeat = post(client, coordinator, sms_url(), SMS)

    assert (repeat.status_code, repeat.json) == (201, first.json)


def test_two_users_with_the_same_key_have_two_independent_keys(
    client: FlaskClient, coordinator: Staff, container: Container, gateway: FakeGateway
) -> None:
    lee = second_coordinator(container)
    dana_answer = post(client, coordinator, sms_url(), SMS)

    lee_answer = post(client, lee, sms_url(), SMS)

    assert lee_answer.status_code == 201
    assert REPLAYED not in lee_answer.headers
    assert dana_answer.json is not None
    assert lee_answer.json is not None
    assert lee_answer.json["sms"]["id"] != dana_answer.json["sms"]["id"]
    assert lee_answer.json["activity"]["performed_by_id"] == 102
    assert len(gateway.sent) == 2
    assert count_rows(container) == recorded(text_messages=2, activities=2)


def test_another_user_may_use_a_key_for_a_different_request(
    client: FlaskClient, coordinator: Staff, container: Container, gateway: FakeGateway
) -> None:
    lee = second_coordinator(container)
    post(client, coordinator, sms_url(), SMS)

    lee_answer = post(client, lee, call_url(), CALL)

    assert lee_answer.status_code == 201
    assert (len(gateway.sent), len(gateway.calls)) == (1, 1)


# --- error answers are kept too -------------------------------------------------------------------


def test_a_validation_error_is_replayed(
    client: FlaskClient, coordinator: Staff, container: Container, gateway: FakeGateway
) -> None:
    invalid = {"sms": {"phone_number": "12", "body": ""}}
    first = post(client, coordinator, sms_url(), invalid)
    after_first = outcome(first, container, gateway)

    repeat = post(client, coordinator, sms_url(), invalid)

    assert after_first.status == 422
    assert after_first.body == {"errors": ["Invalid phone number", "Body is required"]}
    assert outcome(repeat, container, gateway) == after_first
    assert repeat.headers[REPLAYED] == "true"


def test_a_patient_not_found_is_replayed_even_once_the_patient_exists(
    client: FlaskClient, coordinator: Staff, container: Container, gateway: FakeGateway
) -> None:
    first = post(client, coordinator, sms_url(124), SMS)
    container.upsert_patient()(UpsertPatient(124, 1, ("(805) 123-4568",), coordinator_id=101))

    repeat = post(client, coordinator, sms_url(124), SMS)

    assert (first.status_code, first.json) == (404, {"errors": ["Patient not found"]})
    assert (repeat.status_code, repeat.json) == (404, {"errors": ["Patient not found"]})
    assert repeat.headers[REPLAYED] == "true"
    assert gateway.sent == []
    assert count_rows(container) == NOTHING_RECORDED


def test_a_gateway_unavailable_502_is_kept_and_a_retry_sends_nothing(
    client: FlaskClient, coordinator: Staff, container: Container, gateway: FakeGateway
) -> None:
    # Twilio did not answer in time: it may have sent the SMS, so a retry must not send it again.
    gateway.fail_next(GatewayError("Twilio did not answer in time", unavailable=True))
    first = post(client, coordinator, sms_url(), SMS)
    after_first = outcome(first, container, gateway)

    repeat = post(client, coordinator, sms_url(), SMS)  # the gateway would take this one

    assert after_first.status == 502
    assert after_first.body == {"errors": ["Failed to send SMS: Twilio did not answer in time"]}
    assert after_first.records == recorded(text_messages=1)
    assert outcome(repeat, container, gateway) == after_first
    assert repeat.headers[REPLAYED] == "true"


def test_a_gateway_unavailable_502_for_a_call_is_kept_and_a_retry_calls_nobody(
    client: FlaskClient, coordinator: Staff, container: Container, gateway: FakeGateway
) -> None:
    gateway.fail_next(GatewayError("Internal error", unavailable=True))
    after_first = outcome(post(client, coordinator, call_url(), CALL), container, gateway)

    repeat = post(client, coordinator, call_url(), CALL)

    assert after_first.status == 502
    assert outcome(repeat, container, gateway) == after_first
    assert gateway.calls == []


# --- the key itself -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "key",
    [pytest.param("k" * 256, id="256 characters"), pytest.param("clé-1", id="non-ASCII")],
)
def test_an_unacceptable_key_is_refused_with_422_and_nothing_is_sent(
    client: FlaskClient, coordinator: Staff, container: Container, gateway: FakeGateway, key: str
) -> None:
    response = post(client, coordinator, sms_url(), SMS, key=key)

    assert (response.status_code, response.json) == (422, {"errors": BAD_KEY})
    assert gateway.sent == []
    assert count_rows(container) == NOTHING_RECORDED
    assert rows(container, tables.idempotency_keys) == []


def test_a_key_of_255_characters_is_accepted_and_replayed(
    client: FlaskClient, coordinator: Staff, gateway: FakeGateway
) -> None:
    key = "k" * 255
    first = post(client, coordinator, sms_url(), SMS, key=key)

    repeat = post(client, coordinator, sms_url(), SMS, key=key)

    assert (first.status_code, repeat.status_code) == (201, 201)
    assert repeat.headers[REPLAYED] == "true"
    assert len(gateway.sent) == 1


# --- in progress, abandoned, expired --------------------------------------------------------------


def test_a_repeat_while_the_first_request_is_in_progress_answers_409_and_sends_nothing(
    app: Flask, client: FlaskClient, coordinator: Staff, container: Container, gateway: FakeGateway
) -> None:
    claim_key(app, container, coordinator, sms_url(), SMS)

    response = post(client, coordinator, sms_url(), SMS)

    assert (response.status_code, response.json) == (409, {"errors": IN_PROGRESS})
    assert gateway.sent == []
    assert count_rows(container) == NOTHING_RECORDED


def test_a_request_in_progress_for_less_than_two_minutes_still_holds_its_key(
    app: Flask,
    client: FlaskClient,
    coordinator: Staff,
    container: Container,
    gateway: FakeGateway,
    clock: FixedClock,
) -> None:
    claim_key(app, container, coordinator, sms_url(), SMS)
    clock.advance(timedelta(seconds=100))

    response = post(client, coordinator, sms_url(), SMS)

    assert response.status_code == 409
    assert gateway.sent == []


def test_a_retry_of_an_abandoned_request_is_told_to_check_and_sends_nothing(
    app: Flask,
    client: FlaskClient,
    coordinator: Staff,
    container: Container,
    gateway: FakeGateway,
    clock: FixedClock,
) -> None:
    claim_key(app, container, coordinator, sms_url(), SMS)
    clock.advance(timedelta(minutes=2, seconds=1))

    retry = post(client, coordinator, sms_url(), SMS)

    assert retry.status_code == 409
    assert retry.json is not None
    assert "check the patient's communications" in retry.json["errors"][0]
    assert gateway.sent == []
    assert count_rows(container) == NOTHING_RECORDED


def test_an_abandoned_key_is_not_freed_for_a_different_request(
    app: Flask,
    client: FlaskClient,
    coordinator: Staff,
    container: Container,
    gateway: FakeGateway,
    clock: FixedClock,
) -> None:
    claim_key(app, container, coordinator, sms_url(), SMS)
    clock.advance(timedelta(minutes=5))

    response = post(client, coordinator, call_url(), CALL)

    assert (response.status_code, response.json) == (422, {"errors": REUSED})
    assert gateway.calls == []
    assert count_rows(container) == NOTHING_RECORDED


def test_a_key_older_than_24_hours_acts_as_new(
    client: FlaskClient,
    coordinator: Staff,
    container: Container,
    gateway: FakeGateway,
    clock: FixedClock,
) -> None:
    first = post(client, coordinator, sms_url(), SMS)
    clock.advance(timedelta(hours=24, seconds=1))

    again = post(client, coordinator, sms_url(), SMS)

    assert again.status_code == 201
    assert REPLAYED not in again.headers
    assert first.json is not None
    assert again.json is not None
    assert again.json["sms"]["id"] != first.json["sms"]["id"]
    assert len(gateway.sent) == 2
    assert count_rows(container) == recorded(text_messages=2, activities=2)


def test_a_key_older_than_24_hours_may_be_used_for_a_different_request(
    client: FlaskClient, coordinator: Staff, gateway: FakeGateway, clock: FixedClock
) -> None:
    post(client, coordinator, sms_url(), SMS)
    clock.advance(timedelta(hours=25))

    call = post(client, coordinator, call_url(), CALL)

    assert call.status_code == 201
    assert (len(gateway.sent), len(gateway.calls)) == (1, 1)


def test_a_key_younger_than_24_hours_is_still_replayed(
    client: FlaskClient, coordinator: Staff, gateway: FakeGateway, clock: FixedClock
) -> None:
    first = post(client, coordinator, sms_url(), SMS)
    clock.advance(timedelta(hours=23, minutes=59))

    repeat = post(client, coordinator, sms_url(), SMS)

    assert (repeat.status_code, repeat.json) == (201, first.json)
    assert len(gateway.sent) == 1


# --- ecm-comms idempotency prune ------------------------------------------------------------------


def stored_keys(container: Container) -> list[str]:
    with container.engine().connect() as connection:
        found = connection.execute(
            select(tables.idempotency_keys.c.key).order_by(tables.idempotency_keys.c.key)
        )
        return list(found.scalars())


def test_idempotency_prune_forgets_keys_older_than_24_hours_and_keeps_the_others(
    database_url: str,
    client: FlaskClient,
    coordinator: Staff,
    container: Container,
    clock: FixedClock,
) -> None:
    # The command runs on the system clock: the keys are dated around the real time.
    now = datetime.now(UTC)
    clock.at = now - timedelta(hours=25)
    post(client, coordinator, sms_url(), SMS, key="yesterday")
    clock.at = now - timedelta(hours=23)
    post(client, coordinator, sms_url(), SMS, key="this-morning")

    result = CliRunner().invoke(
        cli, ["idempotency", "prune"], env={"ECM_DATABASE_URL": database_url}
    )

    assert result.exit_code == 0, result.output
    assert "Forgot 1 idempotency key(s) older than 24 hours." in result.output
    assert stored_keys(container) == ["this-morning"]
