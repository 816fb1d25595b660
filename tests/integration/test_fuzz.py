"""Property-based fuzzing of every documented operation, driven by the OpenAPI document.

Schemathesis generates requests from the OpenAPI document (valid ones and, in its negative mode,
invalid ones) and sends them to the WSGI app, authenticated as a seeded coordinator whose clinic
has the document's example patient and a few SMS and calls. Whatever it sends, the service must
never answer 5xx, every error must be ``{"errors": [...]}``, and every answer must be one the
document describes (status, content type, body schema).

Unsigned webhooks are refused (403) before their forms are read, so the webhooks run a second
time with signature checks off (ECM_INSECURE_SKIP_TWILIO_SIGNATURES=1) to reach their bodies.
SQLite only, to stay fast: the SQL adapters are covered on PostgreSQL elsewhere.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, settings
from schemathesis import Case
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from ecm_comms.adapters.memory import FakeGateway, FixedClock
from ecm_comms.container import Container
from ecm_comms.domain.commands import (
    CreateCampaign,
    InitiateCall,
    RecordInboundCall,
    RecordInboundSms,
    ScheduleSms,
    SendSms,
    UpsertPatient,
)
from ecm_comms.domain.people import Patient
from ecm_comms.entrypoints.http.openapi import document
from tests.conftest import Staff
from tests.support.webhooks import CLINIC_NUMBER, WEBHOOK_SETTINGS, new_sid, webhook_container

# Through JSON, as a client reads it.
DOCUMENT: dict[str, Any] = json.loads(json.dumps(document()))
schema = schemathesis.openapi.from_dict(DOCUMENT)
webhooks_schema = schema.include(tag="Twilio webhooks")

# Bounded and reproducible: the same requests on every run.
FUZZ_SETTINGS = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
INSECURE = {"ECM_INSECURE_SKIP_TWILIO_SIGNATURES": "1"}
PATIENT_PHONE = "+18051234567"  # the conftest patient's number, also the document's example
# Path ids are steered to 1..7: SMS 1-6, calls 1-4 and campaign 1 are seeded below, the rest not.
RECORD_IDS = 7
SEND_AT = "2024-11-28T17:00:00Z"  # the day after FixedClock's instant

# Every test here runs on SQLite only.
# PostgreSQL too: it refuses what SQLite lets by (over-long values, NUL characters).
pytestmark = pytest.mark.parametrize(
    "database_url", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)


@pytest.fixture
def service_settings() -> dict[str, str]:
    """The service's environment: webhooks checked as in production, unless a test says not."""
    return dict(WEBHOOK_SETTINGS)


@pytest.fixture
def container(
    database_url: str, gateway: FakeGateway, clock: FixedClock, service_settings: dict[str, str]
) -> Iterator[Container]:
    with webhook_container(database_url, gateway, clock, service_settings) as built:
        yield built


@pytest.fixture
def fuzzed_app(app: Flask, container: Container, coordinator: Staff, patient: Patient) -> Flask:
    """The app with patient 123, its coordinator, and SMS and calls 1-4 of every kind: outbound,
    inbound from the patient, and inbound from a number no patient has (unreadable: 404); SMS 5,
    scheduled; and campaign 1 for patients 123 (skipped: no first name) and 125 (SMS 6), the
    document's example ids."""
    user = coordinator.user
    for body in ("See you Tuesday", "Reminder: bring your medication list"):
        container.send_sms()(SendSms(patient.id, PATIENT_PHONE, body, performed_by=user))
        container.initiate_call()(InitiateCall(patient.id, PATIENT_PHONE, performed_by=user))
    for sender in (PATIENT_PHONE, "+18055550199"):
        container.record_inbound_sms()(
            RecordInboundSms(new_sid("SM"), sender, CLINIC_NUMBER, "Yes, thank you")
        )
        container.record_inbound_call()(
            RecordInboundCall(new_sid("CA"), sender, CLINIC_NUMBER, "ringing")
        )
    container.schedule_sms()(ScheduleSms(patient.id, PATIENT_PHONE, "Tomorrow", SEND_AT, user))
    container.upsert_patient()(
        UpsertPatient(125, patient.clinic_id, ("+18051234568",), first_name="Ben")
    )
    container.create_campaign()(
        CreateCampaign("December reminders", "Hi {{first_name}}", (patient.id, 125), user)
    )
    return app


def aim_at_seeded_data(case: Case, patient_id: int) -> None:
    """Random integer ids almost never name the seeded patient or a stored record, so most of
    them (two in three, chosen by the generated value) are steered to ones that exist; the rest,
    and whatever a negative case puts there instead of an integer, go as generated."""
    for name, value in case.path_parameters.items():
        if isinstance(value, bool) or not isinstance(value, int) or value % 3 == 0:
            continue
        case.path_parameters[name] = (
            patient_id if name == "patient_id" else abs(value) % RECORD_IDS + 1
        )


def call_and_check(case: Case, app: Flask, coordinator: Staff, patient: Patient) -> None:
    aim_at_seeded_data(case, patient.id)
    # The coordinator's token; a negative case that drops the header still drops it.
    response = case.call(app=app, headers=coordinator.headers)
    reproduce = case.as_curl_command(headers=coordinator.headers)
    assert response.status_code < 500, f"{response.status_code}: {reproduce}\n{response.text}"
    if response.status_code >= 400:
        body = response.json()
        assert isinstance(body, dict), f"{reproduce}\n{response.text}"
        errors = body.get("errors")
        assert isinstance(errors, list), f"{reproduce}\n{response.text}"
        assert errors, f"{reproduce}\n{response.text}"
        assert all(isinstance(message, str) for message in errors), response.text
    case.validate_response(response, checks=CHECKS)


@schema.parametrize()
@FUZZ_SETTINGS
def test_every_operation_answers_as_documented(
    case: Case, fuzzed_app: Flask, coordinator: Staff, patient: Patient
) -> None:
    call_and_check(case, fuzzed_app, coordinator, patient)


@webhooks_schema.parametrize()
@FUZZ_SETTINGS
@pytest.mark.parametrize("service_settings", [INSECURE])
def test_webhook_bodies_without_signatures(
    case: Case, fuzzed_app: Flask, coordinator: Staff, patient: Patient
) -> None:
    call_and_check(case, fuzzed_app, coordinator, patient)
