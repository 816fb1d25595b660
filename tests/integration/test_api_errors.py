"""What both outbound endpoints share: authentication, reading JSON, routing, size limits.

Every error is ``{"errors": [...]}`` as application/json, never HTML and never a 500, and leaves
nothing on record and nothing sent to Twilio.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from flask.testing import FlaskClient

from ecm_comms.adapters.memory import FakeGateway
from ecm_comms.container import Container
from tests.conftest import Staff
from tests.integration.records import (
    call_url,
    count_rows,
    outcome,
    recorded,
    refused,
    sms_url,
)

MAX_REQUEST_BYTES = 64 * 1024
NOT_JSON = "Request body must be valid JSON"

pytestmark = pytest.mark.usefixtures("patient")


@dataclass(frozen=True)
class Endpoint:
    url: Callable[..., str]
    payload: dict[str, Any]  # a request that succeeds
    records: dict[str, int]  # what that request puts on record


SMS = Endpoint(
    sms_url,
    {"sms": {"phone_number": "+18051234567", "body": "Hello"}},
    recorded(text_messages=1, activities=1),
)
CALL = Endpoint(
    call_url,
    {"call": {"phone_number": "+18051234567"}},
    recorded(voice_calls=1, activities=1),
)

both_endpoints = pytest.mark.parametrize(
    "endpoint", [pytest.param(SMS, id="sms"), pytest.param(CALL, id="call")]
)


# --- 401 -----------------------------------------------------------------------------------------


@both_endpoints
@pytest.mark.parametrize(
    ("headers", "errors"),
    [
        pytest.param({}, ["X-User-Token header is required"], id="no-header"),
        pytest.param({"X-User-Token": ""}, ["X-User-Token header is required"], id="empty-header"),
        pytest.param({"X-User-Token": "not-a-token"}, ["Invalid user token"], id="unknown-token"),
        pytest.param(
            {"Authorization": "Bearer not-a-token"},
            ["X-User-Token header is required"],
            id="bearer-instead",
        ),
    ],
)
def test_a_request_without_a_known_token_is_unauthorized(
    client: FlaskClient,
    container: Container,
    gateway: FakeGateway,
    endpoint: Endpoint,
    headers: dict[str, str],
    errors: list[str],
) -> None:
    response = client.post(endpoint.url(123), json=endpoint.payload, headers=headers)

    assert outcome(response, container, gateway) == refused(401, errors)


@both_endpoints
def test_a_token_is_checked_before_the_body_is_read(
    client: FlaskClient, container: Container, gateway: FakeGateway, endpoint: Endpoint
) -> None:
    response = client.post(endpoint.url(123), data="{not json", content_type="application/json")

    assert outcome(response, container, gateway) == refused(
        401, ["X-User-Token header is required"]
    )


@both_endpoints
def test_a_token_is_checked_before_the_fields_are_validated(
    client: FlaskClient, container: Container, gateway: FakeGateway, endpoint: Endpoint
) -> None:
    response = client.post(
        endpoint.url(123), json={"sms": {}, "call": {}}, headers={"X-User-Token": "nope"}
    )

    assert outcome(response, container, gateway) == refused(401, ["Invalid user token"])


@both_endpoints
@pytest.mark.parametrize("patient_id", [pytest.param(999, id="unknown"), pytest.param("abc")])
def test_a_token_is_checked_before_the_patient_is_looked_up(
    client: FlaskClient,
    container: Container,
    gateway: FakeGateway,
    endpoint: Endpoint,
    patient_id: int | str,
) -> None:
    response = client.post(endpoint.url(patient_id), json=endpoint.payload)

    assert outcome(response, container, gateway) == refused(
        401, ["X-User-Token header is required"]
    )


# --- 400: not a JSON object ----------------------------------------------------------------------


@both_endpoints
@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"{", id="truncated"),
        pytest.param(b"not json", id="text"),
        pytest.param(b"", id="empty"),
        pytest.param(b"{'sms': {}}", id="single-quotes"),
        pytest.param(b'{"sms": {"phone_number": "\xff"}}', id="not-utf8"),
        pytest.param(b'{"sms": {}} trailing', id="trailing-garbage"),
    ],
)
def test_a_body_that_is_not_json_is_a_bad_request(
    client: FlaskClient,
    coordinator: Staff,
    container: Container,
    gateway: FakeGateway,
    endpoint: Endpoint,
    data: bytes,
) -> None:
    response = client.post(
        endpoint.url(123), data=data, content_type="application/json", headers=coordinator.headers
    )

    assert outcome(response, container, gateway) == refused(400, [NOT_JSON])


@both_endpoints
def test_a_form_post_is_a_bad_request(
    client: FlaskClient,
    coordinator: Staff,
    container: Container,
    gateway: FakeGateway,
    endpoint: Endpoint,
) -> None:
    response = client.post(
        endpoint.url(123), data={"phone_number": "+18051234567"}, headers=coordinator.headers
    )

    assert outcome(response, container, gateway) == refused(400, [NOT_JSON])


@both_endpoints
@pytest.mark.parametrize(
    "data",
    [
        pytest.param("[]", id="array"),
        pytest.param('"x"', id="string"),
        pytest.param("3", id="number"),
        pytest.param("true", id="boolean"),
        pytest.param("null", id="null"),
    ],
)
def test_json_that_is_not_an_object_is_a_bad_request(
    client: FlaskClient,
    coordinator: Staff,
    container: Container,
    gateway: FakeGateway,
    endpoint: Endpoint,
    data: str,
) -> None:
    response = client.post(
        endpoint.url(123), data=data, content_type="application/json", headers=coordinator.headers
    )

    assert outcome(response, container, gateway) == refused(
        400, ["Request body must be a JSON object"]
    )


@both_endpoints
def test_deeply_nested_json_is_a_bad_request_not_a_server_error(
    client: FlaskClient,
    coordinator: Staff,
    container: Container,
    gateway: FakeGateway,
    endpoint: Endpoint,
) -> None:
    # 20 KB, well under the size limit, but deeper than Python's recursion limit.
    data = "[" * 10_000 + "]" * 10_000

    response = client.post(
        endpoint.url(123), data=data, content_type="application/json", headers=coordinator.headers
    )

    assert response.status_code == 400, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    body = response.json
    assert body is not None
    assert list(body) == ["errors"]
    assert body["errors"]
    assert all(isinstance(message, str) for message in body["errors"])
    assert count_rows(container) == recorded()
    assert (gateway.sent, gateway.calls) == ([], [])


@both_endpoints
@pytest.mark.parametrize("content_type", ["text/plain", "application/octet-stream"])
def test_a_json_body_is_read_whatever_its_content_type(
    client: FlaskClient,
    coordinator: Staff,
    container: Container,
    endpoint: Endpoint,
    content_type: str,
) -> None:
    response = client.post(
        endpoint.url(123),
        data=json.dumps(endpoint.payload),
        content_type=content_type,
        headers=coordinator.headers,
    )

    assert response.status_code == 201
    assert response.mimetype == "application/json"
    assert count_rows(container) == endpoint.records


# --- 413 -----------------------------------------------------------------------------------------


def padded(payload: dict[str, Any], size: int) -> bytes:
    """``payload`` as JSON, padded with trailing whitespace (still valid JSON) to ``size`` bytes."""
    encoded = json.dumps(payload).encode()
    return encoded + b" " * (size - len(encoded))


@both_endpoints
def test_a_body_over_64_kib_is_too_large(
    client: FlaskClient,
    coordinator: Staff,
    container: Container,
    gateway: FakeGateway,
    endpoint: Endpoint,
) -> None:
    response = client.post(
        endpoint.url(123),
        data=padded(endpoint.payload, MAX_REQUEST_BYTES + 1),
        content_type="application/json",
        headers=coordinator.headers,
    )

    assert outcome(response, container, gateway) == refused(413, ["Request body is too large"])


@both_endpoints
def test_a_body_of_exactly_64_kib_is_accepted(
    client: FlaskClient, coordinator: Staff, container: Container, endpoint: Endpoint
) -> None:
    response = client.post(
        endpoint.url(123),
        data=padded(endpoint.payload, MAX_REQUEST_BYTES),
        content_type="application/json",
        headers=coordinator.headers,
    )

    assert response.status_code == 201
    assert count_rows(container) == endpoint.records


# --- routing -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        pytest.param("GET", "/nope", id="GET-unknown-path"),
        pytest.param("POST", "/nope", id="POST-unknown-path"),
        pytest.param("GET", "/", id="GET-root"),
        pytest.param("POST", "/v1/clinic/ecm/communications/patients/123", id="POST-patient"),
        pytest.param(
            "POST", "/v1/clinic/ecm/communications/patients/123/fax", id="POST-unknown-channel"
        ),
        pytest.param("POST", "/v1/clinic/ecm/communications/patients/sms", id="POST-no-patient"),
    ],
)
def test_an_unknown_route_is_a_json_404(
    client: FlaskClient,
    coordinator: Staff,
    container: Container,
    gateway: FakeGateway,
    method: str,
    path: str,
) -> None:
    response = client.open(path, method=method, json={}, headers=coordinator.headers)

    assert outcome(response, container, gateway) == refused(404, ["Not found"])


@both_endpoints
@pytest.mark.parametrize("method", ["GET", "PUT", "PATCH", "DELETE"])
def test_another_method_on_an_endpoint_is_a_json_405(
    client: FlaskClient,
    coordinator: Staff,
    container: Container,
    gateway: FakeGateway,
    endpoint: Endpoint,
    method: str,
) -> None:
    response = client.open(
        endpoint.url(123), method=method, json=endpoint.payload, headers=coordinator.headers
    )

    assert outcome(response, container, gateway) == refused(405, ["Method not allowed"])
    assert "POST" in response.headers["Allow"].split(", ")
