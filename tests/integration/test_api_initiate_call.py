"""POST …/patients/{patient_id}/call: what only calls do (shared rules: test_api_send_or_call)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from ecm_comms.adapters.memory import FakeGateway
from ecm_comms.container import Container
from ecm_comms.domain.commands import RegisterUser
from ecm_comms.domain.consent import ConsentAction, ConsentEntry, ConsentSource
from ecm_comms.domain.errors import GatewayError
from ecm_comms.domain.phone_numbers import PhoneNumber
from tests.conftest import Staff
from tests.integration.records import (
    call_url,
    count_rows,
    recorded,
)

PHONE = "+18051234567"

pytestmark = pytest.mark.usefixtures("patient")


def post_call(
    client: FlaskClient, staff: Staff, call: Any, *, patient_id: int | str = 123
) -> TestResponse:
    return client.post(call_url(patient_id), json={"call": call}, headers=staff.headers)


# --- the call object -------------------------------------------------------------------------


def test_a_body_field_in_the_call_object_is_ignored(
    client: FlaskClient, coordinator: Staff, container: Container
) -> None:
    response = post_call(client, coordinator, {"phone_number": PHONE, "body": 42})

    assert response.status_code == 201
    assert count_rows(container) == recorded(voice_calls=1, activities=1)


# --- whom the patient is connected to -----------------------------------------------------------


def test_a_call_by_a_user_with_a_phone_connects_the_patient_to_that_phone(
    client: FlaskClient, coordinator: Staff, gateway: FakeGateway
) -> None:
    post_call(client, coordinator, {"phone_number": PHONE})

    assert [started.connect_to for started in gateway.calls] == [PhoneNumber("+18055550101")]


@pytest.fixture
def phoneless_coordinator(container: Container) -> Staff:
    """Lee, coordinator 102 of clinic 1, with no phone of their own."""
    registered = container.register_user()(RegisterUser(102, 1, "Lee Nophone"))
    return Staff(registered.user, registered.token.value)


def test_a_call_by_a_user_without_a_phone_connects_the_patient_to_the_clinics_number(
    client: FlaskClient, phoneless_coordinator: Staff, container: Container, gateway: FakeGateway
) -> None:
    container.clinic_number.override(PhoneNumber("+18059870000"))

    response = post_call(client, phoneless_coordinator, {"phone_number": PHONE})

    assert response.status_code == 201
    assert [started.connect_to for started in gateway.calls] == [PhoneNumber("+18059870000")]


def test_a_call_with_no_one_to_connect_to_is_still_placed_without_a_number_to_dial(
    client: FlaskClient, phoneless_coordinator: Staff, gateway: FakeGateway
) -> None:
    response = post_call(client, phoneless_coordinator, {"phone_number": PHONE})

    assert response.status_code == 201
    assert [(started.to, started.connect_to) for started in gateway.calls] == [
        (PhoneNumber(PHONE), None)
    ]


# --- opt-outs are for SMS only -------------------------------------------------------------------


def test_a_number_opted_out_of_sms_is_still_called(
    client: FlaskClient, coordinator: Staff, container: Container, gateway: FakeGateway
) -> None:
    with container.uow() as uow:
        uow.consent.append(
            ConsentEntry(
                PhoneNumber(PHONE),
                None,
                ConsentAction.OPT_OUT,
                ConsentSource.KEYWORD,
                datetime(2024, 11, 1, tzinfo=UTC),
            )
        )
        uow.commit()

    response = post_call(client, coordinator, {"phone_number": PHONE})

    assert response.status_code == 201
    assert [started.to for started in gateway.calls] == [PhoneNumber(PHONE)]


def test_twilios_opted_out_error_on_a_call_does_not_opt_the_number_out_of_sms(
    client: FlaskClient, coordinator: Staff, container: Container, gateway: FakeGateway
) -> None:
    gateway.fail_next(GatewayError("Attempt to send to unsubscribed recipient", code=21610))

    response = post_call(client, coordinator, {"phone_number": PHONE})

    assert response.status_code == 422
    assert count_rows(container) == recorded(voice_calls=1, consent_entries=0)
