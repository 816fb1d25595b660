"""The service as users meet it: ``ecm-comms serve`` and ``ecm-comms demo`` over a real socket."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
import requests

from benchmarks.served import clean_environment, free_port, run_cli, served


@pytest.mark.postgres
def test_serve_sends_an_sms_over_http_on_postgresql(postgres_database: str, tmp_path: Path) -> None:
    env = clean_environment(ECM_DATABASE_URL=postgres_database)
    run_cli("db", "upgrade", env=env)
    suffix = str(free_port())  # ids of our own in the shared session database
    user_id, patient_id = f"9{suffix}", f"8{suffix}"
    created = run_cli(
        "users", "create", "--id", user_id, "--clinic-id", "9", "--name", "Dana", env=env
    )
    token = created.strip().splitlines()[-1]
    run_cli(
        "patients", "upsert", "--id", patient_id, "--clinic-id", "9", "--phone", "8051234567",
        env=env,
    )  # fmt: skip
    port = free_port()

    with served("serve", "--workers", "2", port=port, env=env, cwd=tmp_path):
        response = requests.post(
            f"http://127.0.0.1:{port}/v1/clinic/ecm/communications/patients/{patient_id}/sms",
            json={"sms": {"phone_number": "(805) 123-4567", "body": "Reminder: Tuesday 10am"}},
            headers={"X-User-Token": token},
            timeout=10,
        )

    assert response.status_code == 201, response.text
    assert response.headers["Content-Type"] == "application/json"
    body = response.json()
    assert body["message"] == "SMS sent successfully"
    assert body["sms"]["to"] == "+18051234567"
    assert body["activity"]["performed_by_id"] == int(user_id)
    assert "gunicorn" in (tmp_path / "server.err").read_text().lower()


def test_the_demo_prints_a_curl_command_that_sends_the_documents_sms(tmp_path: Path) -> None:
    port = free_port()
    env = clean_environment()

    with served("demo", port=port, env=env, cwd=tmp_path):
        printed = (tmp_path / "server.out").read_text()
        command = re.search(r"^curl .*?(?=\n\n|\Z)", printed, re.MULTILINE | re.DOTALL)
        assert command is not None, printed
        words = shlex.split(command.group(0).replace("\\\n", " "))
        url = words[words.index("-X") + 2]
        headers = dict(words[i + 1].split(": ", 1) for i, word in enumerate(words) if word == "-H")
        response = requests.post(
            url, data=words[words.index("-d") + 1], headers=headers, timeout=10
        )

    assert response.status_code == 201, response.text
    body = response.json()
    assert list(body) == ["message", "sms", "activity"]
    assert body["message"] == "SMS sent successfully"
    assert body["sms"] | {"id": 0, "twilio_sid": "", "created_at": ""} == {
        "id": 0,
        "twilio_sid": "",
        "to": "+18051234567",
        "from": "+15005550006",
        "body": "Hello! This is a reminder about your upcoming appointment. "
        "Please reply to confirm.",
        "status": "queued",
        "direction": "outbound",
        "created_at": "",
        "segments": 1,
        "encoding": "GSM-7",
        "send_at": None,
        "skip_reason": None,
    }
    assert re.fullmatch(r"SM[0-9a-f]{32}", body["sms"]["twilio_sid"])
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", body["sms"]["created_at"])
    assert body["activity"] | {"id": 0} == {
        "id": 0,
        "activity_type": "sms",
        "status": "created",
        "patient_id": 123,
        "performed_by_id": 101,
        "assigned_to_id": 101,
    }
    assert (tmp_path / "ecm_comms.sqlite3").exists()
