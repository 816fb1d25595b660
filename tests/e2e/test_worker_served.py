"""``ecm-comms worker`` as a real process beside ``ecm-comms serve``: scheduled SMS go out at their
time through the Twilio stand-in, and a worker killed (SIGKILL) in the middle of a campaign loses
nothing and doubles nothing once another worker runs.

The patients live in a time zone where it is midday now, so the send window is open whatever
the hour of the run.
"""

from __future__ import annotations

import re
import secrets
import signal
import subprocess
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import Engine, select

from benchmarks.databases import own_database
from benchmarks.served import ECM_COMMS, clean_environment, free_port, run_cli, served
from benchmarks.twilio_standin import RunningStandIn, TwilioStandIn
from ecm_comms.adapters.sql import tables
from ecm_comms.container import Container, create_container
from ecm_comms.domain.commands import CreateCampaign, RegisterUser, ScheduleSms, UpsertPatient
from ecm_comms.domain.people import User
from tests.support.webhooks import API

CLINIC_ID = 1
USER_ID = 101
FROM_NUMBER = "+18059876543"
ACCOUNT_SID = "AC" + secrets.token_hex(16)
# Short enough for a test; the defaults (a sweep a minute, a lease under one) meet the two
# minutes within which a killed worker's work must be taken up again.
FAST_SWEEP = ("--sweep-seconds", "1", "--lease-seconds", "3")
WAIT_SECONDS = 120.0


def midday_zone() -> str:
    """An IANA zone where it is about noon now (``Etc/GMT+5`` is five hours behind UTC)."""
    behind = (datetime.now(UTC).hour - 12 + 24) % 24
    behind = behind - 24 if behind > 12 else behind
    if behind == 0:
        return "Etc/GMT"
    return f"Etc/GMT{'+' if behind > 0 else '-'}{abs(behind)}"


def wait_until(condition: Callable[[], bool], seconds: float = WAIT_SECONDS) -> float:
    """Seconds it took ``condition`` to hold (it must, within ``seconds``)."""
    started = time.monotonic()
    while not condition():
        assert time.monotonic() - started < seconds, "not within the wait"
        time.sleep(0.1)
    return time.monotonic() - started


@contextmanager
def working(
    *args: str, env: Mapping[str, str], cwd: Path, name: str = "worker"
) -> Iterator[subprocess.Popen[str]]:
    """``ecm-comms worker <args>`` running until the block ends (stopped with SIGTERM, as a
    process manager stops it); its output goes to ``<name>.out`` and ``<name>.err``."""
    with open(cwd / f"{name}.out", "w+") as out, open(cwd / f"{name}.err", "w+") as err:
        process = subprocess.Popen(
            [ECM_COMMS, "worker", *args], env=dict(env), cwd=cwd, stdout=out, stderr=err, text=True
        )
        try:
            yield process
        finally:
            if process.poll() is None:
                process.terminate()
                process.wait(timeout=40)


@dataclass
class Deployment:
    """One database, the Twilio stand-in, and the library pointed at them (as the service and
    the workers are, through the environment)."""

    env: dict[str, str]
    twilio: TwilioStandIn
    container: Container
    user: User
    token: str
    cwd: Path

    def patient(self, patient_id: int, phone: str | None) -> None:
        self.container.upsert_patient()(
            UpsertPatient(
                patient_id=patient_id,
                clinic_id=CLINIC_ID,
                phone_numbers=(phone,) if phone else (),
                name=f"Patient {patient_id}",
                first_name="Pat",
                coordinator_id=USER_ID,
                timezone=midday_zone(),
            )
        )

    def automated(self) -> list[dict[str, Any]]:
        engine: Engine = self.container.engine()
        with engine.connect() as connection:
            found = connection.execute(
                select(
                    tables.automated_sms,
                    tables.text_messages.c.to_number,
                    tables.text_messages.c.status,
                    tables.text_messages.c.twilio_sid,
                ).outerjoin(
                    tables.text_messages,
                    tables.text_messages.c.id == tables.automated_sms.c.sms_id,
                )
            )
            return [dict(row._mapping) for row in found]

    def numbers_texted(self) -> Counter[str]:
        return Counter(request.field("To") for request in self.twilio.requests)


@contextmanager
def deployment(database_url: str, cwd: Path) -> Iterator[Deployment]:
    with RunningStandIn() as twilio:
        env = clean_environment(
            ECM_DATABASE_URL=database_url,
            ECM_GATEWAY="twilio",
            TWILIO_ACCOUNT_SID=ACCOUNT_SID,
            TWILIO_AUTH_TOKEN="worker-served-" + secrets.token_hex(8),
            TWILIO_FROM_NUMBER=FROM_NUMBER,
            TWILIO_API_BASE_URL=twilio.base_url,
        )
        run_cli("db", "upgrade", env=env)
        container = create_container(environ=env)
        registered = container.register_user()(RegisterUser(USER_ID, CLINIC_ID, "Dana Coordinator"))
        yield Deployment(env, twilio, container, registered.user, registered.token.value, cwd)
        container.engine().dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database of the test's own, empty: SQLite, or PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'ecm_comms.sqlite3'}"
        return
    with own_database(request.getfixturevalue("postgres_server"), "ecm_comms_worker") as url:
        yield url


def test_a_scheduled_sms_goes_out_at_its_time_through_the_worker_process(
    database: str, tmp_path: Path
) -> None:
    with deployment(database, tmp_path) as world:
        world.patient(123, "+18051234567")
        port = free_port()
        with (
            served("serve", "--workers", "1", port=port, env=world.env, cwd=tmp_path),
            working("--threads", "2", env=world.env, cwd=tmp_path),
        ):
            send_at = datetime.now(UTC) + timedelta(seconds=3)
            scheduled = world.container.schedule_sms()(
                ScheduleSms(
                    123,
                    "+18051234567",
                    "Your appointment is tomorrow at 10.",
                    send_at.isoformat(),
                    performed_by=world.user,
                )
            )
            url = f"http://127.0.0.1:{port}{API}/sms/{scheduled.id}"
            headers = {"X-User-Token": world.token}

            before = requests.get(url, headers=headers, timeout=10).json()
            wait_until(lambda: len(world.twilio.requests) == 1, seconds=30)
            sent_at = datetime.now(UTC)
            time.sleep(0.5)  # the worker records Twilio's answer
            after = requests.get(url, headers=headers, timeout=10).json()

    assert before["sms"]["status"] == "scheduled"
    assert before["activity"] is None
    assert sent_at >= send_at
    assert world.numbers_texted() == Counter({"+18051234567": 1})
    assert after["sms"]["status"] == "queued"
    assert after["sms"]["twilio_sid"].startswith("SM")
    assert after["activity"]["performed_by_id"] == USER_ID


def test_an_sms_scheduled_over_http_goes_out_through_the_worker_process(
    database: str, tmp_path: Path
) -> None:
    with deployment(database, tmp_path) as world:
        world.patient(123, "+18051234567")
        port = free_port()
        base = f"http://127.0.0.1:{port}{API}"
        headers = {"X-User-Token": world.token}
        with (
            served("serve", "--workers", "1", port=port, env=world.env, cwd=tmp_path),
            working("--threads", "2", env=world.env, cwd=tmp_path),
        ):
            send_at = datetime.now(UTC) + timedelta(seconds=3)
            answer = requests.post(
                f"{base}/patients/123/sms",
                json={
                    "sms": {
                        "phone_number": "(805) 123-4567",
                        "body": "Your appointment is tomorrow at 10.",
                        "send_at": send_at.isoformat().replace("+00:00", "Z"),
                    }
                },
                headers=headers,
                timeout=10,
            )
            wait_until(lambda: len(world.twilio.requests) == 1, seconds=30)
            time.sleep(0.5)
            after = requests.get(
                f"{base}/sms/{answer.json()['sms']['id']}", headers=headers, timeout=10
            ).json()

    assert answer.status_code == 202, answer.text
    assert answer.json()["message"] == "SMS scheduled"
    assert answer.json()["sms"]["status"] == "scheduled"
    assert answer.json()["activity"] is None
    assert world.numbers_texted() == Counter({"+18051234567": 1})
    assert after["sms"]["status"] == "queued"
    assert after["activity"]["performed_by_id"] == USER_ID


def log_of(path: Path) -> str:
    return path.read_text() if path.exists() else ""


def is_gone(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return True
    return state == "Z"  # ended, not yet reaped


def handles(pid: int, stop: signal.Signals) -> bool:
    """Whether the process has a handler of its own for ``stop`` (the SigCgt mask in /proc)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("SigCgt:"):
            return bool(int(line.split()[1], 16) >> (stop - 1) & 1)
    return False


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_worker_process_stops_cleanly_on_a_signal(stop: signal.Signals, tmp_path: Path) -> None:
    env = clean_environment(ECM_DATABASE_URL=f"sqlite:///{tmp_path / 'ecm_comms.sqlite3'}")
    run_cli("db", "upgrade", env=env)

    with working("--threads", "2", env=env, cwd=tmp_path) as worker:
        # huey logs that it started before it sets its signal handlers: wait for those.
        wait_until(lambda: handles(worker.pid, signal.SIGTERM), 30)
        worker.send_signal(stop)
        exit_code = worker.wait(timeout=40)

    log = log_of(tmp_path / "worker.err")
    assert exit_code == 0
    assert log.rstrip().endswith("ecm-comms worker stopped")
    assert "Traceback" not in log


def test_the_demo_runs_a_worker_beside_the_server_and_stops_it_with_the_server(
    tmp_path: Path,
) -> None:
    with served("demo", port=free_port(), env=clean_environment(), cwd=tmp_path):
        wait_until(lambda: "Huey consumer started" in log_of(tmp_path / "server.err"), 30)
        started = re.search(
            r"Huey consumer started with .*, PID (\d+)", log_of(tmp_path / "server.err")
        )
        assert started is not None

    wait_until(lambda: is_gone(int(started.group(1))), 40)
    assert "ecm-comms worker: 2 thread(s), simulated gateway" in log_of(tmp_path / "server.err")


RECIPIENTS = 300
WITHOUT_PHONE = 5  # of the recipients: skipped, with no SMS at all
THREADS = 4
KILL_AFTER_SENDS = 80


@pytest.mark.postgres
def test_a_worker_killed_mid_campaign_loses_nothing_and_doubles_nothing(
    postgres_server: Engine, tmp_path: Path
) -> None:
    with (
        own_database(postgres_server, "ecm_comms_crash") as url,
        deployment(url, tmp_path) as world,
    ):
        patient_ids = list(range(1001, 1001 + RECIPIENTS))
        for index, patient_id in enumerate(patient_ids):
            phone = None if index < WITHOUT_PHONE else f"+1805555{index:04d}"
            world.patient(patient_id, phone)
        for _ in range(RECIPIENTS):  # every send takes a little while at Twilio
            world.twilio.stall_next(0.02)
        options = ("--threads", str(THREADS), *FAST_SWEEP)

        with working(*options, env=world.env, cwd=tmp_path, name="first") as first:
            world.container.create_campaign()(
                CreateCampaign(
                    "December reminders",
                    "Hi {{first_name}}, this is your care team. Reply STOP to opt out.",
                    tuple(patient_ids),
                    performed_by=world.user,
                )
            )
            wait_until(lambda: len(world.twilio.requests) >= KILL_AFTER_SENDS, seconds=60)
            first.send_signal(signal.SIGKILL)
            first.wait(timeout=10)
            seen_at_kill = len(world.twilio.requests)
        with working(*options, env=world.env, cwd=tmp_path, name="second"):
            took = wait_until(
                lambda: all(row["outcome"] != "scheduled" for row in world.automated())
            )
        recipients = world.automated()

    assert KILL_AFTER_SENDS <= seen_at_kill < RECIPIENTS - WITHOUT_PHONE
    assert took < WAIT_SECONDS
    assert sorted(row["patient_id"] for row in recipients) == patient_ids
    outcomes = Counter(row["outcome"] for row in recipients)
    assert outcomes == {"sent": RECIPIENTS - WITHOUT_PHONE, "skipped": WITHOUT_PHONE}
    texted = world.numbers_texted()
    assert max(texted.values()) == 1, [n for n, times in texted.items() if times > 1]
    sent_to = {row["to_number"] for row in recipients if row["outcome"] == "sent"}
    # Those the killed worker had handed over but not yet sent stay queued, unsent, for a
    # status callback that will not come: never sent twice, at the price of one per thread.
    assert set(texted) <= sent_to
    assert len(sent_to - set(texted)) <= THREADS
