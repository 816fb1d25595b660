"""Clinic isolation: to another clinic's user, clinic 1's patients and records do not exist, on
every endpoint, and asking sends nothing and writes nothing."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from ecm_comms.adapters.memory import FakeGateway
from ecm_comms.container import Container
from tests.conftest import Staff
from tests.integration.records import API, call_url, count_rows, sms_url

PHONE = "+18051234567"

pytestmark = [pytest.mark.both_databases, pytest.mark.usefixtures("patient")]


@dataclass(frozen=True)
class ClinicOneRecords:
    """An SMS and a call clinic 1's coordinator sent to patient 123."""

    sms_id: int
    call_id: int


@dataclass(frozen=True)
class Endpoint:
    request: Callable[[FlaskClient, Staff, ClinicOneRecords], TestResponse]
    success: int  # what the clinic's own coordinator gets
    not_found: list[str]  # what another clinic's user gets, with a 404


def _post(url: str, payload: dict[str, Any]) -> Callable[..., TestResponse]:
    return lambda client, staff, _: client.post(url, json=payload, headers=staff.headers)


def _get(path: Callable[[ClinicOneRecords], str]) -> Callable[..., TestResponse]:
    return lambda client, staff, records: client.get(path(records), headers=staff.headers)


ENDPOINTS = [
    pytest.param(
        Endpoint(
            _post(sms_url(123), {"sms": {"phone_number": PHONE, "body": "Hello"}}),
            201,
            ["Patient not found"],
        ),
        id="POST patients/123/sms",
    ),
    pytest.param(
        Endpoint(
            _post(call_url(123), {"call": {"phone_number": PHONE}}), 201, ["Patient not found"]
        ),
        id="POST patients/123/call",
    ),
    pytest.param(
        Endpoint(_get(lambda r: f"{API}/sms/{r.sms_id}"), 200, ["Not found"]),
        id="GET sms/{id}",
    ),
    pytest.param(
        Endpoint(_get(lambda r: f"{API}/calls/{r.call_id}"), 200, ["Not found"]),
        id="GET calls/{id}",
    ),
    pytest.param(
        Endpoint(_get(lambda _: f"{API}/patients/123/communications"), 200, ["Patient not found"]),
        id="GET patients/123/communications",
    ),
]


@pytest.fixture
def clinic_one_records(client: FlaskClient, coordinator: Staff) -> ClinicOneRecords:
    sms = client.post(
        sms_url(123),
        json={"sms": {"phone_number": PHONE, "body": "Reminder"}},
        headers=coordinator.headers,
    )
    call = client.post(
        call_url(123), json={"call": {"phone_number": PHONE}}, headers=coordinator.headers
    )
    assert (sms.status_code, call.status_code) == (201, 201)
    assert sms.json is not None
    assert call.json is not None
    return ClinicOneRecords(sms.json["sms"]["id"], call.json["call"]["id"])


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_another_clinics_user_gets_404_and_nothing_is_sent_or_written(
    client: FlaskClient,
    other_clinic_coordinator: Staff,
    clinic_one_records: ClinicOneRecords,
    container: Container,
    gateway: FakeGateway,
    endpoint: Endpoint,
) -> None:
    before = (count_rows(container), len(gateway.sent), len(gateway.calls))

    response = endpoint.request(client, other_clinic_coordinator, clinic_one_records)

    assert (response.status_code, response.json) == (404, {"errors": endpoint.not_found})
    assert (count_rows(container), len(gateway.sent), len(gateway.calls)) == before


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_the_clinics_own_coordinator_is_served_by_the_same_request(
    client: FlaskClient,
    coordinator: Staff,
    clinic_one_records: ClinicOneRecords,
    endpoint: Endpoint,
) -> None:
    response = endpoint.request(client, coordinator, clinic_one_records)

    assert response.status_code == endpoint.success, response.json


def test_another_clinics_patient_answers_exactly_as_a_patient_who_does_not_exist(
    client: FlaskClient,
    other_clinic_coordinator: Staff,
    clinic_one_records: ClinicOneRecords,
) -> None:
    # The same 404 as for a patient who does not exist at all: no way to probe for patients.
    unknown = client.get(
        f"{API}/patients/999/communications", headers=other_clinic_coordinator.headers
    )
    clinic_one = client.get(
        f"{API}/patients/123/communications", headers=other_clinic_coordinator.headers
    )

    assert (clinic_one.status_code, clinic_one.json) == (unknown.status_code, unknown.json)
