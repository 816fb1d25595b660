"""Every request has an id: the caller's X-Request-Id when it is a plain token, else a new one;
returned on every answer, errors included, and written on the log lines of the request."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable

import pytest
from dependency_injector import providers
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from ecm_comms.container import Container
from ecm_comms.entrypoints.http.app import create_health_app
from ecm_comms.entrypoints.logs import RequestIdFilter, current_request_id
from ecm_comms.ports.readiness import Readiness
from tests.conftest import Staff

HEADER = "X-Request-Id"
NEW_ID = re.compile(r"[0-9a-f]{32}")
SMS = "/v1/clinic/ecm/communications/patients/123/sms"
A_BODY = {"sms": {"phone_number": "+18051234567", "body": "See you Tuesday"}}


class BrokenReadiness:
    """A probe with a bug in it: the request answers 500."""

    def check(self) -> Readiness:
        raise RuntimeError("a bug")


@pytest.fixture
def broken(container: Container) -> Container:
    """The container whose readiness probe raises: GET /readyz is a 500."""
    container.readiness.override(providers.Object(BrokenReadiness()))
    return container


def test_the_callers_id_is_returned(client: FlaskClient) -> None:
    response = client.get("/healthz", headers={HEADER: "lb-7f3a.42"})

    assert response.headers[HEADER] == "lb-7f3a.42"


@pytest.mark.parametrize(
    "given",
    ["a" * 128, "req_1.2:3@edge/gw+x=y-z", "0"],
    ids=["128 characters", "every accepted punctuation", "one character"],
)
def test_a_plain_token_is_kept(client: FlaskClient, given: str) -> None:
    response = client.get("/healthz", headers={HEADER: given})

    assert response.headers[HEADER] == given


def test_without_an_id_the_request_gets_a_new_one(client: FlaskClient) -> None:
    response = client.get("/healthz")

    assert NEW_ID.fullmatch(response.headers[HEADER])


def test_each_request_gets_an_id_of_its_own(client: FlaskClient) -> None:
    first, second = client.get("/healthz"), client.get("/healthz")

    assert first.headers[HEADER] != second.headers[HEADER]


@pytest.mark.parametrize(
    "given",
    ["a" * 129, "two words", 'quoted"id', "id\nforged log line", "id\r\nSet-Cookie: x=1", ""],
    ids=["too long", "a space", "a quote", "a newline", "a header injection", "empty"],
)
def test_an_id_that_is_not_a_plain_token_is_replaced(client: FlaskClient, given: str) -> None:
    # Set in the environ: the test client refuses to build a header with a newline itself.
    response = client.get("/healthz", environ_overrides={"HTTP_X_REQUEST_ID": given})

    assert NEW_ID.fullmatch(response.headers[HEADER])


ERRORS: dict[str, tuple[int, Callable[[FlaskClient, Staff], TestResponse]]] = {
    "not found": (404, lambda client, _: client.get("/v1/nothing/here")),
    "method not allowed": (405, lambda client, _: client.delete(SMS)),
    "too large": (
        413,
        lambda client, staff: client.post(
            SMS,
            data="x" * (65 * 1024),
            content_type="application/json",
            headers=staff.headers,
        ),
    ),
    "no user token": (401, lambda client, _: client.post(SMS, json=A_BODY)),
    "a bug": (500, lambda client, _: client.get("/readyz")),
}


@pytest.mark.parametrize("error", list(ERRORS))
def test_an_error_answer_carries_the_id_too(
    broken: Container, client: FlaskClient, coordinator: Staff, error: str
) -> None:
    status, make_request = ERRORS[error]

    response = make_request(client, coordinator)
    again = make_request(_with_id(client, "trace-1234"), coordinator)

    assert (response.status_code, again.status_code) == (status, status)
    assert NEW_ID.fullmatch(response.headers[HEADER])
    assert again.headers[HEADER] == "trace-1234"


def _with_id(client: FlaskClient, request_id: str) -> FlaskClient:
    """A client of the same app that sends ``request_id`` on every request."""
    with_id = client.application.test_client()
    with_id.environ_base["HTTP_X_REQUEST_ID"] = request_id
    return with_id


def test_a_line_logged_during_the_request_carries_its_id(
    broken: Container, client: FlaskClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.handler.addFilter(RequestIdFilter())  # what the service's handlers have

    with caplog.at_level(logging.ERROR):
        response = client.get("/readyz", headers={HEADER: "trace-5678"})

    [line] = [r for r in caplog.records if r.getMessage().startswith("unexpected RuntimeError")]
    assert response.status_code == 500
    assert getattr(line, "request_id", None) == "trace-5678"


def test_after_the_request_no_id_is_current(client: FlaskClient) -> None:
    client.get("/healthz", headers={HEADER: "trace-9"})

    assert current_request_id.get() is None


def test_the_workers_health_app_returns_the_id_too(container: Container) -> None:
    client = create_health_app(container).test_client()

    response = client.get("/readyz", headers={HEADER: "probe-1"})

    assert response.headers[HEADER] == "probe-1"
