"""Host services embed the library: use cases without HTTP, blueprints on their own Flask app."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask

from ecm_comms.adapters.memory import FakeGateway, InMemoryPatientDirectory
from ecm_comms.container import Container, create_container
from ecm_comms.domain.channels import Channel
from ecm_comms.domain.commands import InitiateCall, SendSms
from ecm_comms.domain.errors import CommunicationFailed, PatientNotFound
from ecm_comms.domain.people import Patient, User
from ecm_comms.domain.phone_numbers import PhoneNumber
from ecm_comms.domain.statuses import SmsStatus
from ecm_comms.entrypoints.http import init_app
from tests.conftest import Staff

DANA = User(id=101, clinic_id=1, name="Dana Coordinator")


@pytest.fixture
def host_container(database_url: str) -> Iterator[Container]:
    """A host's container: its own settings and its own patient directory."""
    container = create_container(environ={"ECM_DATABASE_URL": database_url})
    container.patient_directory.override(
        InMemoryPatientDirectory(
            (Patient(id=555, clinic_id=1, phones=(PhoneNumber("+18051234567"),)),)
        )
    )
    yield container
    container.engine().dispose()


def test_a_host_sends_an_sms_by_calling_the_use_case(host_container: Container) -> None:
    sent = host_container.send_sms()(SendSms(555, "805-123-4567", "Hello from the host", DANA))

    assert sent.message.to == PhoneNumber("+18051234567")
    assert sent.message.twilio_sid is not None
    with host_container.uow() as uow:
        assert sent.activity.id is not None
        assert sent.message.id is not None
        stored = uow.activities.for_record(Channel.SMS, sent.message.id)
        assert stored is not None
        assert stored.id == sent.activity.id
        assert uow.events.for_activity(sent.activity.id) is not None


def test_a_hosts_sms_is_on_record_as_sent_by_the_hosts_user(host_container: Container) -> None:
    sent = host_container.send_sms()(SendSms(555, "+18051234567", "Hello", DANA))

    assert sent.message.id is not None
    with host_container.uow() as uow:
        stored = uow.messages.get(sent.message.id)
    assert stored is not None
    assert (stored.sent_by_id, stored.patient_id, stored.clinic_id) == (101, 555, 1)


def test_a_host_catches_a_refused_sms_and_finds_it_on_record_as_failed(
    host_container: Container,
) -> None:
    refused_number = "+15005550001"  # the simulated gateway refuses it as Twilio's test API does

    with pytest.raises(CommunicationFailed) as failed:
        host_container.send_sms()(SendSms(555, refused_number, "Hello", DANA))

    assert failed.value.messages == [
        f"Failed to send SMS: The 'To' number {refused_number} is not a valid phone number."
    ]
    [item] = host_container.views().history(555, 10, None)
    assert (item.record.status, item.record.error_code, item.activity) == (
        SmsStatus.FAILED,
        21211,
        None,
    )


def test_a_host_initiates_a_call_by_calling_the_use_case(host_container: Container) -> None:
    initiated = host_container.initiate_call()(InitiateCall(555, "+18051234567", DANA))

    assert initiated.activity.voice_call_id == initiated.call.id


def test_the_hosts_directory_decides_who_the_patients_are(host_container: Container) -> None:
    with pytest.raises(PatientNotFound):
        host_container.send_sms()(SendSms(123, "+18051234567", "Hello", DANA))


def test_a_host_mounts_the_api_on_its_own_flask_app(
    container: Container, coordinator: Staff, patient: Patient, gateway: FakeGateway
) -> None:
    host = Flask("clinic_platform")

    @host.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    init_app(host, container, url_prefix="/comms")
    client = host.test_client()

    response = client.post(
        "/comms/v1/clinic/ecm/communications/patients/123/call",
        json={"call": {"phone_number": "+18051234567"}},
        headers=coordinator.headers,
    )

    assert response.status_code == 201, response.json
    assert response.json is not None
    assert response.json["message"] == "Call initiated successfully"
    assert len(gateway.calls) == 1
    assert client.get("/health").json == {"status": "ok"}


def test_the_mounted_api_answers_its_errors_in_json(
    container: Container, coordinator: Staff
) -> None:
    host = Flask("clinic_platform")
    init_app(host, container)

    response = host.test_client().post(
        "/v1/clinic/ecm/communications/patients/999/sms",
        json={"sms": {"phone_number": "+18051234567", "body": "Hi"}},
        headers=coordinator.headers,
    )

    assert response.status_code == 404
    assert response.json == {"errors": ["Patient not found"]}
