"""The served process's logs carry no PHI and no secret.

``ecm-comms serve`` runs on SQLite with the Twilio gateway against the Twilio stand-in, and a whole
flow goes through it over HTTP: an SMS and a call, their status callbacks (an undelivered one with
Twilio's error), a reply, an inbound call, a forged webhook, refusals of every kind. Then its
standard output and error (the access log, the application's log, gunicorn's) are searched for
every body, every phone number in every format, the API tokens and Twilio's credentials.
Users and patients are created with ``run_cli``, whose output is not the served log.

The whole flow runs twice: with the default text log, and with ECM_LOG_FORMAT=json.
"""

from __future__ import annotations

import json
import re
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests

from benchmarks.served import clean_environment, free_port, run_cli, served
from benchmarks.twilio_standin import RunningStandIn, TwilioStandIn
from tests.support.webhooks import (
    API,
    SIGNATURE_HEADER,
    call_status_form,
    inbound_call_form,
    inbound_sms_form,
    new_sid,
    post_signed,
    signature,
    sms_status_form,
)

WEBHOOKS = "/v1/clinic/webhooks/twilio"
TIMEOUT = 10.0

# Twilio's credentials, as distinctive as they are secret.
ACCOUNT_SID = "AC" + secrets.token_hex(16)
AUTH_TOKEN = "logsecret" + secrets.token_hex(12)

CLINIC_NUMBER = "+18059876543"  # TWILIO_FROM_NUMBER
COORDINATOR_PHONE = "+18055550101"  # where the patient's calls are connected
PATIENT_PHONE = "+18055550173"
REFUSED_PHONE = "+18055550199"  # Twilio's 21211 names it in its message
STRANGER_PHONE = "+18055550142"  # the forged webhook's sender
PHONES = {
    "clinic": CLINIC_NUMBER,
    "coordinator": COORDINATOR_PHONE,
    "patient": PATIENT_PHONE,
    "refused": REFUSED_PHONE,
    "stranger": STRANGER_PHONE,
}

BODIES = {
    "sent SMS": "Colonoscopy prep starts tonight zq7x",
    "reply": "Still bleeding after the biopsy kw3v",
    "forged webhook": "Forged message about HIV results pj8m",
    "refused SMS": "Insulin refill is ready for pickup rr2d",
    "too long": "Oversharing diagnosis details hx5t",
}
TOO_LONG_BODY = " ".join([BODIES["too long"]] * 60)  # over 1600 characters: a 422
BOGUS_TOKEN = "bogus-token-" + secrets.token_hex(16)
UNDELIVERED_ERROR = "Unreachable destination handset"


def national_forms(e164: str) -> dict[str, str]:
    """A US number as it may be written: ``+18051234567``, ``8051234567``, ``(805) 123-4567``…"""
    assert re.fullmatch(r"\+1\d{10}", e164), e164
    digits = e164[2:]
    area, exchange, line = digits[:3], digits[3:6], digits[6:]
    return {
        "E.164": e164,
        "digits": digits,
        "parenthesised": f"({area}) {exchange}-{line}",
        "dashed": f"{area}-{exchange}-{line}",
        "dotted": f"{area}.{exchange}.{line}",
        "spaced": f"{area} {exchange} {line}",
    }


PATIENT_FORMS = national_forms(PATIENT_PHONE)
PHONE_FORMS = {
    f"{whose} {form}": written
    for whose, e164 in PHONES.items()
    for form, written in national_forms(e164).items()
}


# A request the flow made: method, path, the status it got, and the id it was answered with.
Made = tuple[str, str, int, str]


@dataclass
class ServedLog:
    """What the served process wrote, in ``log_format``, and the requests the flow made."""

    log_format: str
    text: str
    user_token: str
    requests: list[Made] = field(default_factory=list)

    def lines_with(self, needle: str) -> list[str]:
        return [line for line in self.text.splitlines() if needle in line]

    def records(self) -> list[dict[str, Any]]:
        """The JSON log's lines, parsed (every one is a JSON object)."""
        return [json.loads(line) for line in self.text.splitlines()]


@dataclass
class Flow:
    base_url: str
    token: str
    twilio: TwilioStandIn
    made: list[Made] = field(default_factory=list)

    def expect(self, response: requests.Response, status: int) -> requests.Response:
        assert response.status_code == status, (response.request.url, response.text)
        path = urlsplit(str(response.request.url)).path
        request_id = response.headers["X-Request-Id"]
        self.made.append((str(response.request.method), path, status, request_id))
        return response

    def api(
        self,
        method: str,
        path: str,
        status: int,
        *,
        json: dict[str, object] | None = None,
        token: str | None = None,
    ) -> requests.Response:
        """A clinic API request as Dana (or as whoever ``token`` is), answered with ``status``."""
        response = requests.request(
            method,
            f"{self.base_url}{API}{path}",
            json=json,
            headers={"X-User-Token": token or self.token},
            timeout=TIMEOUT,
        )
        return self.expect(response, status)

    def webhook_url(self, route: str) -> str:
        return f"{self.base_url}{WEBHOOKS}{route}"

    def webhook(self, url: str, form: dict[str, str], status: int) -> requests.Response:
        """Twilio posting ``form`` to ``url``, signed, answered with ``status``."""
        return self.expect(post_signed(url, form, auth_token=AUTH_TOKEN), status)


def run_the_flow(flow: Flow, patient_id: int) -> None:
    """Everything a clinic and Twilio do with the service, each answered as it should be."""
    sms = flow.api(
        "POST",
        f"/patients/{patient_id}/sms",
        201,
        json={"sms": {"phone_number": PATIENT_FORMS["parenthesised"], "body": BODIES["sent SMS"]}},
    ).json()["sms"]
    call = flow.api(
        "POST", f"/patients/{patient_id}/call", 201, json={"call": {"phone_number": PATIENT_PHONE}}
    ).json()["call"]

    sms_callback = flow.twilio.status_callback_for(sms["twilio_sid"])
    call_callback = flow.twilio.status_callback_for(call["twilio_sid"])
    assert sms_callback is not None
    assert call_callback is not None
    flow.webhook(sms_callback, sms_status_form(sms["twilio_sid"], "sent", to=PATIENT_PHONE), 204)
    undelivered = sms_status_form(
        sms["twilio_sid"],
        "undelivered",
        to=PATIENT_PHONE,
        error_code=30003,
        error_message=UNDELIVERED_ERROR,
    )
    flow.webhook(sms_callback, undelivered, 204)
    for status, duration in (("ringing", None), ("in-progress", None), ("completed", 42)):
        form = call_status_form(call["twilio_sid"], status, to=PATIENT_PHONE, duration=duration)
        flow.webhook(call_callback, form, 204)

    reply = inbound_sms_form(PATIENT_PHONE, BODIES["reply"], to=CLINIC_NUMBER)
    flow.webhook(flow.webhook_url("/sms"), reply, 200)
    inbound_call = inbound_call_form(PATIENT_PHONE, to=CLINIC_NUMBER)
    dialled = flow.webhook(flow.webhook_url("/voice"), inbound_call, 200)
    assert COORDINATOR_PHONE in dialled.text  # the patient is put through to Dana

    forged_url = flow.webhook_url("/sms")
    forged = inbound_sms_form(STRANGER_PHONE, BODIES["forged webhook"], to=CLINIC_NUMBER)
    flow.expect(
        requests.post(
            forged_url,
            data=forged,
            headers={SIGNATURE_HEADER: signature(forged_url, forged, "not-" + AUTH_TOKEN)},
            timeout=TIMEOUT,
        ),
        403,
    )

    flow.api(
        "POST",
        f"/patients/{patient_id}/sms",
        422,
        json={"sms": {"phone_number": PATIENT_FORMS["dotted"], "body": TOO_LONG_BODY}},
    )
    flow.twilio.fail_next(
        400, 21211, f"The 'To' number {REFUSED_PHONE} is not a valid phone number."
    )
    refused = flow.api(
        "POST",
        f"/patients/{patient_id}/sms",
        422,
        json={"sms": {"phone_number": REFUSED_PHONE, "body": BODIES["refused SMS"]}},
    )
    assert REFUSED_PHONE in refused.json()["errors"][0]  # the caller is told; the log is not

    unknown = sms_status_form(new_sid("SM"), "delivered", to=PATIENT_PHONE)
    flow.webhook(flow.webhook_url("/sms_status"), unknown, 204)
    flow.api("GET", "/sms/999999", 404)
    flow.api("GET", f"/patients/{patient_id}/communications", 200)
    flow.api("GET", f"/patients/{patient_id}/sms", 405)
    flow.api("GET", "/patients", 404)
    flow.api("GET", f"/sms/{sms['id']}", 401, token=BOGUS_TOKEN)


@pytest.fixture(scope="module", params=["text", "json"])
def served_log(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> ServedLog:
    log_format: str = request.param
    workdir: Path = tmp_path_factory.mktemp(f"served_logs_{log_format}")
    port = free_port()
    patient_id = 123
    with RunningStandIn() as twilio:
        env = clean_environment(
            ECM_DATABASE_URL=f"sqlite:///{workdir / 'ecm_comms.sqlite3'}",
            ECM_GATEWAY="twilio",
            TWILIO_ACCOUNT_SID=ACCOUNT_SID,
            TWILIO_AUTH_TOKEN=AUTH_TOKEN,
            TWILIO_FROM_NUMBER=CLINIC_NUMBER,
            TWILIO_API_BASE_URL=twilio.base_url,
            ECM_PUBLIC_BASE_URL=f"http://127.0.0.1:{port}",
            # Text is the default: it is left unset.
            **({"ECM_LOG_FORMAT": "json"} if log_format == "json" else {}),
        )
        run_cli("db", "upgrade", env=env)
        created = run_cli(
            "users", "create", "--id", "101", "--clinic-id", "1", "--name", "Dana Coordinator",
            "--phone", COORDINATOR_PHONE, env=env,
        )  # fmt: skip
        token = created.strip().splitlines()[-1]
        run_cli(
            "patients", "upsert", "--id", str(patient_id), "--clinic-id", "1",
            "--phone", PATIENT_FORMS["dashed"], "--coordinator-id", "101", env=env,
        )  # fmt: skip
        flow = Flow(f"http://127.0.0.1:{port}", token, twilio)
        with served("serve", "--workers", "2", port=port, env=env, cwd=workdir):
            run_the_flow(flow, patient_id)
        # The server has stopped: everything it wrote is in the files.
        text = (workdir / "server.out").read_text() + (workdir / "server.err").read_text()
    return ServedLog(log_format, text=text, user_token=token, requests=flow.made)


def test_the_access_log_shows_every_request_of_the_flow(served_log: ServedLog) -> None:
    if served_log.log_format == "json":
        access = {
            record["request_id"]: (record["method"], record["status"])
            for record in served_log.records()
            if record["logger"] == "gunicorn.access"
        }
        missing = [
            (method, path, status)
            for method, path, status, request_id in served_log.requests
            if access.get(request_id) != (method, status)
        ]
    else:
        missing = [
            (method, path, status)
            for method, path, status, _ in served_log.requests
            if not served_log.lines_with(f'"{method} {path}" {status} ')
        ]

    assert len(served_log.requests) >= 15
    assert missing == []


@pytest.mark.parametrize("what", list(BODIES))
def test_no_message_body_is_logged(served_log: ServedLog, what: str) -> None:
    assert served_log.lines_with(BODIES[what]) == []


@pytest.mark.parametrize("written", list(PHONE_FORMS))
def test_no_phone_number_is_logged_in_any_format(served_log: ServedLog, written: str) -> None:
    assert served_log.lines_with(PHONE_FORMS[written]) == []


def test_no_api_token_is_logged(served_log: ServedLog) -> None:
    assert served_log.lines_with(served_log.user_token) == []
    assert served_log.lines_with(BOGUS_TOKEN) == []


def test_no_twilio_credential_is_logged(served_log: ServedLog) -> None:
    assert served_log.lines_with(AUTH_TOKEN) == []
    assert served_log.lines_with(ACCOUNT_SID) == []
