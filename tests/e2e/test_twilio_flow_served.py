"""The whole Twilio round trip over real sockets: ``ecm-comms serve`` with the Twilio gateway
talking to a Twilio stand-in, and Twilio's signed webhooks posted back to the served instance.

One server per database (they cost seconds); each test has a patient and a number of its own.
"""

from __future__ import annotations

import itertools
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests

from benchmarks.served import clean_environment, free_port, run_cli, served
from benchmarks.twilio_standin import RunningStandIn, TwilioStandIn
from tests.support.webhooks import (
    API,
    AUTH_TOKEN,
    OTHER_AUTH_TOKEN,
    SIGNATURE_HEADER,
    inbound_sms_form,
    post_signed,
    signature,
    sms_status_form,
    twiml,
)

FROM_NUMBER = "+18059876543"
ACCOUNT_SID = "AC" + secrets.token_hex(16)


@dataclass
class ServedService:
    base_url: str
    token: str
    user_id: int
    clinic_id: int
    twilio: TwilioStandIn
    env: dict[str, str]
    _ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    @property
    def headers(self) -> dict[str, str]:
        return {"X-User-Token": self.token}

    def new_patient(self) -> tuple[int, str]:
        """A patient of the service's clinic, coordinated by its user, at a number of its own."""
        patient_id = self.clinic_id * 1000 + next(self._ids)
        phone = f"+18056{secrets.randbelow(10**6):06d}"
        run_cli(
            "patients", "upsert", "--id", str(patient_id), "--clinic-id", str(self.clinic_id),
            "--phone", phone, "--coordinator-id", str(self.user_id), env=self.env,
        )  # fmt: skip
        return patient_id, phone

    def send_sms(self, patient_id: int, phone: str, body: str = "Hello") -> requests.Response:
        return requests.post(
            f"{self.base_url}{API}/patients/{patient_id}/sms",
            json={"sms": {"phone_number": phone, "body": body}},
            headers=self.headers,
            timeout=10,
        )

    def get(self, path: str) -> dict[str, Any]:
        response = requests.get(f"{self.base_url}{API}{path}", headers=self.headers, timeout=10)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def history(self, patient_id: int) -> list[dict[str, Any]]:
        return list(self.get(f"/patients/{patient_id}/communications")["communications"])

    def inbound_sms(self, phone: str, body: str) -> requests.Response:
        url = f"{self.base_url}/v1/clinic/webhooks/twilio/sms"
        return post_signed(url, inbound_sms_form(phone, body, to=FROM_NUMBER))


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def service(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServedService]:
    workdir: Path = tmp_path_factory.mktemp(f"served_{request.param}")
    if request.param == "sqlite":
        database_url = f"sqlite:///{workdir / 'ecm_comms.sqlite3'}"
    else:
        # Shared with the session: ids and phone numbers of our own keep the tests apart.
        database_url = request.getfixturevalue("postgres_database")
    port = free_port()
    # Ids no other test uses: the PostgreSQL database is the whole session's.
    clinic_id = 7_000_000_000 + secrets.randbelow(10**9)
    with RunningStandIn() as twilio:
        env = clean_environment(
            ECM_DATABASE_URL=database_url,
            ECM_GATEWAY="twilio",
            TWILIO_ACCOUNT_SID=ACCOUNT_SID,
            TWILIO_AUTH_TOKEN=AUTH_TOKEN,
            TWILIO_FROM_NUMBER=FROM_NUMBER,
            TWILIO_API_BASE_URL=twilio.base_url,
            ECM_PUBLIC_BASE_URL=f"http://127.0.0.1:{port}",
        )
        run_cli("db", "upgrade", env=env)
        user_id = clinic_id
        created = run_cli(
            "users", "create", "--id", str(user_id), "--clinic-id", str(clinic_id),
            "--name", "Dana Coordinator", "--phone", "+18055550101", env=env,
        )  # fmt: skip
        with served("serve", "--workers", "2", port=port, env=env, cwd=workdir):
            yield ServedService(
                base_url=f"http://127.0.0.1:{port}",
                token=created.strip().splitlines()[-1],
                user_id=user_id,
                clinic_id=clinic_id,
                twilio=twilio,
                env=env,
            )


def test_callbacks_posted_out_of_order_to_twilios_callback_url_leave_the_sms_delivered(
    service: ServedService,
) -> None:
    patient_id, phone = service.new_patient()
    asked_before = len(service.twilio.requests)

    sent = service.send_sms(patient_id, phone, "Your appointment is Tuesday at 10am")

    assert sent.status_code == 201, sent.text
    sms = sent.json()["sms"]
    [asked] = service.twilio.requests[asked_before:]
    callback_url = asked.field("StatusCallback")
    assert callback_url == f"{service.base_url}/v1/clinic/webhooks/twilio/sms_status?id={sms['id']}"
    answers = [
        post_signed(callback_url, sms_status_form(sms["twilio_sid"], status, to=phone)).status_code
        for status in ("delivered", "sent", "queued")
    ]
    assert answers == [204, 204, 204]
    assert service.get(f"/sms/{sms['id']}")["sms"]["status"] == "delivered"


def test_a_signed_reply_appears_in_the_history_with_an_activity(service: ServedService) -> None:
    patient_id, phone = service.new_patient()
    assert service.send_sms(patient_id, phone, "Can you come Tuesday?").status_code == 201

    reply = service.inbound_sms(phone, "Yes, see you Tuesday")

    assert reply.status_code == 200, reply.text
    assert reply.headers["Content-Type"].startswith("text/xml")
    assert twiml(reply) == []
    newest, oldest = service.history(patient_id)
    assert (newest["direction"], newest["from"], newest["body"]) == (
        "inbound",
        phone,
        "Yes, see you Tuesday",
    )
    assert newest["activity"] is not None
    assert newest["activity"] | {"id": 0} == {
        "id": 0,
        "activity_type": "sms",
        "status": "created",
        "patient_id": patient_id,
        "performed_by_id": None,
        "assigned_to_id": service.user_id,
    }
    assert (oldest["direction"], oldest["body"]) == ("outbound", "Can you come Tuesday?")


def test_stop_blocks_the_next_sms_before_twilio_and_start_allows_it_again(
    service: ServedService,
) -> None:
    patient_id, phone = service.new_patient()
    assert service.inbound_sms(phone, "STOP").status_code == 200
    asked_before = len(service.twilio.requests)

    blocked = service.send_sms(patient_id, phone)

    assert blocked.status_code == 422
    assert "opted out" in blocked.json()["errors"][0]
    assert len(service.twilio.requests) == asked_before
    assert service.inbound_sms(phone, "START").status_code == 200
    allowed = service.send_sms(patient_id, phone)
    assert allowed.status_code == 201, allowed.text
    assert [r.field("To") for r in service.twilio.requests[asked_before:]] == [phone]


def test_forged_webhooks_are_refused_and_the_history_is_unchanged(service: ServedService) -> None:
    patient_id, phone = service.new_patient()
    assert service.inbound_sms(phone, "Hi, it's me").status_code == 200
    before = service.history(patient_id)
    url = f"{service.base_url}/v1/clinic/webhooks/twilio/sms"
    form = inbound_sms_form(phone, "STOP", to=FROM_NUMBER)

    unsigned = requests.post(url, data=form, timeout=10)
    wrong_token = requests.post(
        url,
        data=form,
        headers={SIGNATURE_HEADER: signature(url, form, OTHER_AUTH_TOKEN)},
        timeout=10,
    )

    assert (unsigned.status_code, wrong_token.status_code) == (403, 403)
    assert wrong_token.headers["Content-Type"] == "application/json"
    assert wrong_token.json() == {"errors": ["Invalid Twilio signature"]}
    assert service.history(patient_id) == before
    assert service.send_sms(patient_id, phone).status_code == 201  # the forged STOP did nothing
