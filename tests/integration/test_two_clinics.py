"""Issue 10, done: two clinics, each texting from a number of its own (one through a Messaging
Service), each with a patient on the same family phone, over the real Twilio adapter talking to
a Twilio stand-in. Sends go from the right number, replies land on the right clinic's patient,
neither clinic sees the other's records, and STOP to one clinic stops only that clinic.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from flask.testing import FlaskClient
from twilio.request_validator import RequestValidator
from werkzeug.test import TestResponse

from benchmarks.twilio_standin import RecordedRequest, RunningStandIn, TwilioStandIn
from ecm_comms.container import Container, create_container
from ecm_comms.domain.commands import AddClinicNumber, RegisterUser, UpsertClinic, UpsertPatient
from ecm_comms.entrypoints.http import create_app
from ecm_comms.webhook_routes import INBOUND_SMS, WEBHOOK_PREFIX

pytestmark = pytest.mark.both_databases

API = "/v1/clinic/ecm/communications"
PUBLIC_BASE_URL = "https://comms.clinic.example"
AUTH_TOKEN = "5f0c2a9e8b7d4c3e1a2b3c4d5e6f7a8b"
ACCOUNT_SID = "AC" + "7" * 32

SHARED_NUMBER = "+15005550006"  # TWILIO_FROM_NUMBER: for clinics without numbers of their own
HARBOR_NUMBER = "+18059876543"  # clinic 1's, sending From
MESA_NUMBER = "+18185550123"  # clinic 2's, sending through its Messaging Service
MESA_SERVICE = "MG" + "0123456789abcdef" * 2
FAMILY_PHONE = "+18051234567"  # patient 123 of clinic 1 and patient 456 of clinic 2
HARBOR_PATIENT, MESA_PATIENT = 123, 456
VALLEY_PATIENT = 789  # of clinic 3, which has no record and so no numbers


@dataclass(frozen=True)
class Staff:
    token: str
    patient_id: int

    @property
    def headers(self) -> dict[str, str]:
        return {"X-User-Token": self.token}


@dataclass(frozen=True)
class TwoClinics:
    client: FlaskClient
    harbor: Staff  # Dana, coordinator of clinic 1's patient 123
    mesa: Staff  # Sam, coordinator of clinic 2's patient 456
    valley: Staff  # Val, of clinic 3
    twilio: TwilioStandIn

    def send_sms(self, staff: Staff, body: str = "Reminder: Tuesday at 10am.") -> TestResponse:
        return self.client.post(
            f"{API}/patients/{staff.patient_id}/sms",
            json={"sms": {"phone_number": FAMILY_PHONE, "body": body}},
            headers=staff.headers,
        )

    def sent_sms(self, staff: Staff) -> dict[str, Any]:
        response = self.send_sms(staff)
        assert response.status_code == 201, response.json
        assert response.json is not None
        return dict(response.json["sms"])

    def start_call(self, staff: Staff) -> TestResponse:
        return self.client.post(
            f"{API}/patients/{staff.patient_id}/call",
            json={"call": {"phone_number": FAMILY_PHONE}},
            headers=staff.headers,
        )

    def reply(self, to: str, body: str) -> None:
        """The family phone texts ``to``: Twilio's signed inbound SMS webhook."""
        sid = "SM" + secrets.token_hex(16)
        form = {
            "MessageSid": sid,
            "SmsSid": sid,
            "AccountSid": ACCOUNT_SID,
            "From": FAMILY_PHONE,
            "To": to,
            "Body": body,
            "SmsStatus": "received",
            "ApiVersion": "2010-04-01",
        }
        path = WEBHOOK_PREFIX + INBOUND_SMS
        signed = RequestValidator(AUTH_TOKEN).compute_signature(PUBLIC_BASE_URL + path, form)
        response = self.client.post(path, data=form, headers={"X-Twilio-Signature": signed})
        assert response.status_code == 200, response.text

    def history(self, staff: Staff, patient_id: int | None = None) -> TestResponse:
        return self.client.get(
            f"{API}/patients/{patient_id or staff.patient_id}/communications",
            headers=staff.headers,
        )

    def communications(self, staff: Staff) -> list[dict[str, Any]]:
        """The staff member's own patient's history, newest first."""
        response = self.history(staff)
        assert response.status_code == 200, response.json
        assert response.json is not None
        return list(response.json["communications"])

    def inbound(self, staff: Staff) -> list[dict[str, Any]]:
        return [c for c in self.communications(staff) if c["direction"] == "inbound"]


def build_container(database_url: str, twilio_base_url: str) -> Container:
    return create_container(
        environ={
            "ECM_DATABASE_URL": database_url,
            "ECM_PUBLIC_BASE_URL": PUBLIC_BASE_URL,
            "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
            "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
            "TWILIO_FROM_NUMBER": SHARED_NUMBER,
            "TWILIO_API_BASE_URL": twilio_base_url,
        }
    )


@pytest.fixture
def clinics(database_url: str) -> Iterator[TwoClinics]:
    with RunningStandIn() as twilio:
        container = build_container(database_url, twilio.base_url)
        assert container.settings().gateway == "twilio"
        container.upsert_clinic()(UpsertClinic(1, "Harbor Health"))
        container.add_clinic_number()(AddClinicNumber(1, HARBOR_NUMBER))
        container.upsert_clinic()(UpsertClinic(2, "Mesa Clinic"))
        container.add_clinic_number()(AddClinicNumber(2, MESA_NUMBER, MESA_SERVICE))
        dana = container.register_user()(RegisterUser(101, 1, "Dana")).token.value
        sam = container.register_user()(RegisterUser(201, 2, "Sam")).token.value
        container.upsert_patient()(UpsertPatient(HARBOR_PATIENT, 1, (FAMILY_PHONE,), None, 101))
        container.upsert_patient()(UpsertPatient(MESA_PATIENT, 2, (FAMILY_PHONE,), None, 201))
        val = container.register_user()(RegisterUser(301, 3, "Val")).token.value
        container.upsert_patient()(UpsertPatient(VALLEY_PATIENT, 3, (FAMILY_PHONE,), None, 301))
        try:
            yield TwoClinics(
                create_app(container).test_client(),
                Staff(dana, HARBOR_PATIENT),
                Staff(sam, MESA_PATIENT),
                Staff(val, VALLEY_PATIENT),
                twilio,
            )
        finally:
            container.engine().dispose()


def last_request(twilio: TwilioStandIn) -> RecordedRequest:
    assert twilio.requests, "nothing reached Twilio"
    return twilio.requests[-1]


# Sending: from each clinic's own number.


def test_clinic_ones_sms_goes_to_twilio_from_its_own_number(clinics: TwoClinics) -> None:
    sms = clinics.sent_sms(clinics.harbor)

    request = last_request(clinics.twilio)
    assert (request.field("From"), request.fields("MessagingServiceSid")) == (HARBOR_NUMBER, [])
    assert request.field("To") == FAMILY_PHONE
    assert sms["from"] == HARBOR_NUMBER


def test_clinic_twos_sms_goes_to_twilio_through_its_messaging_service_without_a_from(
    clinics: TwoClinics,
) -> None:
    sms = clinics.sent_sms(clinics.mesa)

    request = last_request(clinics.twilio)
    assert (request.fields("From"), request.field("MessagingServiceSid")) == ([], MESA_SERVICE)
    assert request.field("To") == FAMILY_PHONE
    assert sms["from"] == MESA_NUMBER


def test_a_clinic_without_numbers_texts_from_the_shared_number(clinics: TwoClinics) -> None:
    sms = clinics.sent_sms(clinics.valley)

    request = last_request(clinics.twilio)
    assert (request.field("From"), request.fields("MessagingServiceSid")) == (SHARED_NUMBER, [])
    assert sms["from"] == SHARED_NUMBER


def test_clinic_twos_call_comes_from_its_number_as_calls_have_no_messaging_service(
    clinics: TwoClinics,
) -> None:
    response = clinics.start_call(clinics.mesa)

    assert response.status_code == 201, response.json
    request = last_request(clinics.twilio)
    assert (request.field("From"), request.fields("MessagingServiceSid")) == (MESA_NUMBER, [])
    assert response.json is not None
    assert response.json["call"]["from"] == MESA_NUMBER


# Replies: the number texted decides the clinic.


def test_a_reply_to_clinic_ones_number_lands_on_clinic_ones_patient(clinics: TwoClinics) -> None:
    clinics.sent_sms(clinics.harbor)
    clinics.sent_sms(clinics.mesa)  # clinic 2 texted the family phone last

    clinics.reply(HARBOR_NUMBER, "See you Tuesday")

    [reply] = clinics.inbound(clinics.harbor)
    assert (reply["from"], reply["to"], reply["body"]) == (
        FAMILY_PHONE,
        HARBOR_NUMBER,
        "See you Tuesday",
    )
    assert reply["activity"]["patient_id"] == HARBOR_PATIENT
    assert reply["activity"]["assigned_to_id"] == 101
    assert clinics.inbound(clinics.mesa) == []


def test_a_reply_to_clinic_twos_number_lands_on_clinic_twos_patient(clinics: TwoClinics) -> None:
    clinics.sent_sms(clinics.mesa)
    clinics.sent_sms(clinics.harbor)  # clinic 1 texted the family phone last

    clinics.reply(MESA_NUMBER, "Thanks!")

    [reply] = clinics.inbound(clinics.mesa)
    assert (reply["to"], reply["body"]) == (MESA_NUMBER, "Thanks!")
    assert reply["activity"]["patient_id"] == MESA_PATIENT
    assert reply["activity"]["assigned_to_id"] == 201
    assert clinics.inbound(clinics.harbor) == []


# Neither clinic sees the other's records.


def test_neither_clinic_reads_the_others_patients_communications(clinics: TwoClinics) -> None:
    clinics.sent_sms(clinics.harbor)
    clinics.reply(MESA_NUMBER, "Thanks!")

    harbor_reads_mesa = clinics.history(clinics.harbor, MESA_PATIENT)
    mesa_reads_harbor = clinics.history(clinics.mesa, HARBOR_PATIENT)

    assert (harbor_reads_mesa.status_code, harbor_reads_mesa.json) == (
        404,
        {"errors": ["Patient not found"]},
    )
    assert (mesa_reads_harbor.status_code, mesa_reads_harbor.json) == (
        404,
        {"errors": ["Patient not found"]},
    )


def test_neither_clinic_reads_the_others_sms_by_id(clinics: TwoClinics) -> None:
    clinics.sent_sms(clinics.harbor)
    clinics.sent_sms(clinics.mesa)
    clinics.reply(HARBOR_NUMBER, "See you Tuesday")
    clinics.reply(MESA_NUMBER, "Thanks!")
    harbors = [c["id"] for c in clinics.communications(clinics.harbor)]
    mesas = [c["id"] for c in clinics.communications(clinics.mesa)]

    mesa_reading_harbors = [
        clinics.client.get(f"{API}/sms/{sms_id}", headers=clinics.mesa.headers).status_code
        for sms_id in harbors
    ]
    harbor_reading_mesas = [
        clinics.client.get(f"{API}/sms/{sms_id}", headers=clinics.harbor.headers).status_code
        for sms_id in mesas
    ]

    assert (len(harbors), len(mesas)) == (2, 2)
    assert mesa_reading_harbors == [404, 404]
    assert harbor_reading_mesas == [404, 404]


def test_each_clinic_reads_its_own_reply_by_id(clinics: TwoClinics) -> None:
    clinics.reply(HARBOR_NUMBER, "See you Tuesday")
    [reply] = clinics.inbound(clinics.harbor)

    response = clinics.client.get(f"{API}/sms/{reply['id']}", headers=clinics.harbor.headers)

    assert response.status_code == 200
    assert response.json is not None
    assert response.json["sms"]["patient_id"] == HARBOR_PATIENT


# STOP is per clinic.


def test_after_stop_to_clinic_ones_number_its_next_sms_is_refused_before_reaching_twilio(
    clinics: TwoClinics,
) -> None:
    clinics.sent_sms(clinics.harbor)
    clinics.reply(HARBOR_NUMBER, "STOP")
    reached_twilio = len(clinics.twilio.requests)

    response = clinics.send_sms(clinics.harbor)

    assert response.status_code == 422
    assert response.json == {
        "errors": ["Failed to send SMS: The recipient has opted out of SMS (replied STOP)"]
    }
    assert len(clinics.twilio.requests) == reached_twilio


def test_after_stop_to_clinic_ones_number_clinic_two_still_texts_the_phone(
    clinics: TwoClinics,
) -> None:
    clinics.reply(HARBOR_NUMBER, "STOP")

    sms = clinics.sent_sms(clinics.mesa)

    request = last_request(clinics.twilio)
    assert request.field("MessagingServiceSid") == MESA_SERVICE
    assert sms["from"] == MESA_NUMBER


def test_start_to_clinic_ones_number_lets_its_sms_through_again(clinics: TwoClinics) -> None:
    clinics.reply(HARBOR_NUMBER, "STOP")
    clinics.reply(HARBOR_NUMBER, "START")

    clinics.sent_sms(clinics.harbor)

    assert last_request(clinics.twilio).field("From") == HARBOR_NUMBER
