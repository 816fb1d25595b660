"""``ecm-comms demo``: the service on the embedded default, with someone to text, and a worker
beside it for the scheduled SMS."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys

import click

from ecm_comms.adapters.sql.schema import upgrade
from ecm_comms.domain.commands import (
    AddClinicNumber,
    IssueToken,
    RegisterUser,
    UpsertClinic,
    UpsertPatient,
)
from ecm_comms.domain.errors import UserAlreadyExists
from ecm_comms.entrypoints.cli.server import serve
from ecm_comms.entrypoints.cli.support import app_factory, container_of, refusals_as_exit
from ecm_comms.settings import GatewayKind

# The worker's own graceful stop, and a little more.
WORKER_STOP_SECONDS = 35

DEMO_CLINIC_ID = 1
DEMO_USER_ID = 101
DEMO_PATIENT_ID = 123
DEMO_PATIENT_PHONE = "+18051234567"
# A well-formed NPI (its check digit holds), so the demo clinic can produce its PRTF report.
DEMO_CLINIC_NPI = "1234567893"
# Twilio's test sender number: the demo clinic's own, so replies to it route to the clinic.
DEMO_CLINIC_NUMBER = "+15005550006"


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=2, show_default=True, type=int)
@click.pass_context
def demo(ctx: click.Context, host: str, port: int, workers: int) -> None:
    """Migrate, add a demo coordinator and patient, print curl commands, and serve, with a
    worker (``ecm-comms worker``, in a child process) sending the scheduled SMS.

    Always on the simulated gateway, whatever the environment says: a demo texts no one.
    """
    container = container_of(
        ctx, gateway=GatewayKind.SIMULATED, gateway_reason="the demo never sends"
    )
    with refusals_as_exit():
        upgrade(container.engine())
        container.upsert_clinic()(UpsertClinic(DEMO_CLINIC_ID, "Demo Clinic", npi=DEMO_CLINIC_NPI))
        demo_clinic = container.clinic_directory().get(DEMO_CLINIC_ID)
        if demo_clinic is not None and not demo_clinic.numbers:
            container.add_clinic_number()(AddClinicNumber(DEMO_CLINIC_ID, DEMO_CLINIC_NUMBER))
        container.upsert_patient()(
            UpsertPatient(
                patient_id=DEMO_PATIENT_ID,
                clinic_id=DEMO_CLINIC_ID,
                phone_numbers=(DEMO_PATIENT_PHONE,),
                name="Demo Patient",
                coordinator_id=DEMO_USER_ID,
            )
        )
        try:
            token = container.register_user()(
                RegisterUser(DEMO_USER_ID, DEMO_CLINIC_ID, "Dana Coordinator", role="admin")
            ).token
        except UserAlreadyExists:
            token = container.issue_token()(IssueToken(DEMO_USER_ID))
    container.engine().dispose()  # each server worker opens its own connections

    base = f"http://{host}:{port}/v1/clinic/ecm/communications"
    header = shlex.quote("X-User-Token: " + token.value)
    body = json.dumps(
        {
            "sms": {
                "phone_number": DEMO_PATIENT_PHONE,
                "body": "Hello! This is a reminder about your upcoming appointment. "
                "Please reply to confirm.",
            }
        }
    )
    scheduled = json.dumps(
        {
            "sms": {
                "phone_number": DEMO_PATIENT_PHONE,
                "body": "Your appointment is tomorrow at 10am. Reply STOP to opt out.",
                "send_at": "SEND_AT",
            }
        }
    )
    # The shell fills in the time: the JSON is closed around "$SEND_AT" and opened again.
    scheduled_argument = shlex.quote(scheduled).replace("SEND_AT", "'\"$SEND_AT\"'")
    click.echo(
        "\nDemo Clinic 1 (texting from +15005550006), coordinator 101 (an admin: reports too)"
        " and patient 123 are ready; nothing leaves this machine."
        "\nSend an SMS with:\n\n"
        f"curl -sS -X POST {base}/patients/{DEMO_PATIENT_ID}/sms \\\n"
        '  -H "Content-Type: application/json" \\\n'
        f"  -H {header} \\\n"
        f"  -d {shlex.quote(body)}\n"
        "\nSchedule one for a minute from now; the worker running beside the server sends it"
        " then (automated SMS go out 08:00-21:00 in the patient's time zone, America/Los_Angeles"
        " here, and at most one a day per patient):\n\n"
        "SEND_AT=$(date -u -d '+1 minute' +%Y-%m-%dT%H:%M:%SZ 2>/dev/null"
        " || date -u -v+1M +%Y-%m-%dT%H:%M:%SZ)\n"
        f"curl -sS -X POST {base}/patients/{DEMO_PATIENT_ID}/sms \\\n"
        '  -H "Content-Type: application/json" \\\n'
        f"  -H {header} \\\n"
        f"  -d {scheduled_argument}\n"
        f"\nthen see it go out: curl -sS {base}/sms/<its id> -H {header}\n"
    )
    worker = _start_worker()
    try:
        settings = container.settings()
        serve(app_factory(settings), settings, host=host, port=port, workers=workers)
    finally:
        _stop(worker)


def _start_worker() -> subprocess.Popen[bytes]:
    """``ecm-comms worker`` on the same database (the queue is in it), simulated as well."""
    return subprocess.Popen(
        [sys.executable, "-m", "ecm_comms", "worker", "--threads", "2"],
        env=os.environ | {"ECM_GATEWAY": GatewayKind.SIMULATED.value},
    )


def _stop(worker: subprocess.Popen[bytes]) -> None:
    worker.terminate()  # lets the sends in hand finish
    try:
        worker.wait(timeout=WORKER_STOP_SECONDS)
    except subprocess.TimeoutExpired:
        worker.kill()
        worker.wait()
