from flask.testing import FlaskClient

from ecm_comms.domain.people import Patient
from tests.conftest import Staff


def test_sms_is_sent_and_recorded(client: FlaskClient, coordinator: Staff, patient: Patient) -> None:
    response = client.post(
        "/v1/clinic/ecm/communications/patients/123/sms",
        json={"sms": {"phone_number": "+18051234567", "body": "Hello"}},
        headers=coordinator.headers,
    )
    assert response.status_code == 201, response.json
    assert response.json["activity"]["performed_by_id"] == 101
