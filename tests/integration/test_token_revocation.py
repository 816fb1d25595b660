"""``ecm-comms users revoke-token``: a leaked token stops working at once, on the next request."""

from __future__ import annotations

import pytest
from click.testing import CliRunner, Result
from flask.testing import FlaskClient

from ecm_comms.adapters.memory import FakeGateway
from ecm_comms.container import Container
from ecm_comms.domain.commands import RegisterUser
from ecm_comms.entrypoints.cli.main import cli
from tests.conftest import Staff
from tests.integration.records import API, NOTHING_RECORDED, count_rows, recorded, sms_url

SMS = {"sms": {"phone_number": "+18051234567", "body": "Reminder: Tuesday at 10am."}}
INVALID_TOKEN = {"errors": ["Invalid user token"]}

pytestmark = pytest.mark.usefixtures("patient")


def ecm_comms(database_url: str, *args: str) -> Result:
    return CliRunner().invoke(cli, list(args), env={"ECM_DATABASE_URL": database_url})


def send(client: FlaskClient, token: str, **headers: str) -> int:
    response = client.post(sms_url(), json=SMS, headers={"X-User-Token": token, **headers})
    return response.status_code


def test_revoke_token_says_the_user_has_no_working_token(
    database_url: str, coordinator: Staff
) -> None:
    result = ecm_comms(database_url, "users", "revoke-token", "--id", "101")

    assert result.exit_code == 0, result.output
    assert "User 101 has no working API token now." in result.output


def test_a_revoked_token_answers_401_on_the_very_next_request(
    database_url: str, client: FlaskClient, coordinator: Staff, container: Container
) -> None:
    assert send(client, coordinator.token) == 201  # the token worked a moment ago

    ecm_comms(database_url, "users", "revoke-token", "--id", "101")

    response = client.post(sms_url(), json=SMS, headers=coordinator.headers)
    assert (response.status_code, response.json) == (401, INVALID_TOKEN)


def test_a_revoked_token_sends_and_records_nothing(
    database_url: str,
    client: FlaskClient,
    coordinator: Staff,
    container: Container,
    gateway: FakeGateway,
) -> None:
    ecm_comms(database_url, "users", "revoke-token", "--id", "101")

    send(client, coordinator.token)

    assert gateway.sent == []
    assert count_rows(container) == NOTHING_RECORDED


def test_a_revoked_token_cannot_read_the_record(
    database_url: str, client: FlaskClient, coordinator: Staff
) -> None:
    ecm_comms(database_url, "users", "revoke-token", "--id", "101")

    response = client.get(f"{API}/patients/123/communications", headers=coordinator.headers)

    assert (response.status_code, response.json) == (401, INVALID_TOKEN)


def test_a_revoked_token_cannot_replay_an_earlier_idempotent_answer(
    database_url: str, client: FlaskClient, coordinator: Staff
) -> None:
    key = {"Idempotency-Key": "before-the-leak"}
    assert send(client, coordinator.token, **key) == 201
    ecm_comms(database_url, "users", "revoke-token", "--id", "101")

    response = client.post(sms_url(), json=SMS, headers=coordinator.headers | key)

    assert (response.status_code, response.json) == (401, INVALID_TOKEN)


def test_users_token_after_a_revocation_issues_a_working_token(
    database_url: str,
    client: FlaskClient,
    coordinator: Staff,
    container: Container,
    gateway: FakeGateway,
) -> None:
    ecm_comms(database_url, "users", "revoke-token", "--id", "101")

    issued = ecm_comms(database_url, "users", "token", "--id", "101")

    assert issued.exit_code == 0, issued.output
    new_token = issued.output.strip().splitlines()[-1]
    assert send(client, new_token) == 201
    assert send(client, coordinator.token) == 401
    assert len(gateway.sent) == 1
    assert count_rows(container) == recorded(text_messages=1, activities=1)


def test_revoking_one_users_token_leaves_other_users_tokens_working(
    database_url: str, client: FlaskClient, coordinator: Staff, container: Container
) -> None:
    lee = container.register_user()(RegisterUser(102, 1, "Lee Coordinator"))

    ecm_comms(database_url, "users", "revoke-token", "--id", "101")

    assert send(client, lee.token.value) == 201


def test_revoke_token_for_an_unknown_user_exits_1_with_a_clear_message(
    database_url: str, coordinator: Staff, client: FlaskClient
) -> None:
    result = ecm_comms(database_url, "users", "revoke-token", "--id", "999")

    assert result.exit_code == 1
    assert "User 999 not found" in result.output
    assert "Traceback" not in result.output
    assert send(client, coordinator.token) == 201  # nobody else lost their token
