"""Two ``ecm-comms serve`` processes on one PostgreSQL database, as two hosts behind a load
balancer: the load split across both, Twilio's duplicates sent to both at once, and every
invariant of a single server still holds.

Both servers validate Twilio's signatures against one public URL (the balancer's), so each
webhook is signed for that URL and may be posted to either server. Every wait is bounded.
"""

from __future__ import annotations

import random
import secrets
import subprocess
import threading
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import pytest
import requests
from sqlalchemy import Engine, func, select, text
from sqlalchemy.engine import make_url

from benchmarks.databases import own_database
from benchmarks.served import ACCESS_LOG_MARK, ECM_COMMS, clean_environment, free_port, served
from ecm_comms.adapters.sql import tables
from ecm_comms.adapters.sql.engine import make_engine
from ecm_comms.webhook_routes import CALL_STATUS, INBOUND_SMS, SMS_STATUS
from tests.support.webhooks import (
    API,
    AUTH_TOKEN,
    PUBLIC_BASE_URL,
    SIGNATURE_HEADER,
    call_status_form,
    inbound_sms_form,
    new_sid,
    signature,
    sms_status_form,
    webhook_path,
)

pytestmark = pytest.mark.postgres

T = TypeVar("T")

LOOPBACK = "127.0.0.1"
WORKERS = 2  # per server
SERVE = ("serve", "--host", LOOPBACK, "--workers", str(WORKERS))
CLINIC_ID = 1
USER_ID = 101
PATIENT_ID, PATIENT_PHONE = 123, "+18051234567"  # the sends and the inbound SMS
OPTED_OUT_ID, OPTED_OUT_PHONE = 124, "+18051234568"  # replies STOP, then is texted
SMS_SENDS = 40
CALL_SENDS = 10
KEYED_SENDS = 6  # of the SMS: each posted to both servers at once with one Idempotency-Key
INBOUND_ROUNDS = 3  # the same inbound SMS, posted to both servers at once, this many times
SMS_STATUSES = ("sending", "sent", "delivered")  # lowest rank first
CALL_STATUSES = ("initiated", "ringing", "in-progress", "completed")
CALL_DURATION = 42
CONCURRENT_SENDS = 8  # client threads sending at once
CONCURRENT_RECORDS = 4  # records whose callbacks race at once

REQUEST_TIMEOUT = 15.0  # seconds, for every HTTP request
CLI_TIMEOUT = 60.0
RACE_TIMEOUT = 60.0  # for a barrier, a thread or a batch of requests to finish
IN_PROGRESS = ["A request with this Idempotency-Key is still in progress; retry it shortly"]
OPTED_OUT = ["Failed to send SMS: The recipient has opted out of SMS (replied STOP)"]
# In the app's log lines ("... ERROR name: ...") and gunicorn's ("[ERROR]", "[CRITICAL]").
ERROR_MARKS = ("ERROR", "CRITICAL", "Traceback")


# --- the deployment: one database, two servers -------------------------------------------------


def _cli(*args: str, env: dict[str, str]) -> str:
    """``ecm-comms <args>``'s output, bounded in time."""
    done = subprocess.run(
        [ECM_COMMS, *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=CLI_TIMEOUT,
        check=False,
    )
    assert done.returncode == 0, f"ecm-comms {' '.join(args[:2])}: {done.stderr}"
    return done.stdout


@dataclass(frozen=True)
class Server:
    name: str
    base_url: str
    workdir: Path  # server.out (access log) and server.err (the rest) land here


@dataclass(frozen=True)
class Deployment:
    database_url: str
    servers: tuple[Server, Server]
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"X-User-Token": self.token}


@pytest.fixture
def database_url(postgres_server: Engine) -> Iterator[str]:
    """A new, empty database of this test's own, dropped at the end."""
    with own_database(postgres_server, "ecm_comms_two_servers") as url:
        yield url


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    built = make_engine(database_url)
    yield built
    built.dispose()


@pytest.fixture
def deployment(database_url: str, tmp_path: Path) -> Iterator[Deployment]:
    """The database migrated and populated by the CLI, served by two ``ecm-comms serve``
    processes with the same settings, each on a port of its own."""
    env = clean_environment(
        ECM_DATABASE_URL=database_url,
        ECM_GATEWAY="simulated",
        TWILIO_AUTH_TOKEN=AUTH_TOKEN,
        # Behind a load balancer: the one URL Twilio calls, whichever host answers.
        ECM_PUBLIC_BASE_URL=PUBLIC_BASE_URL,
    )
    _cli("db", "upgrade", env=env)
    created = _cli(
        "users", "create", "--id", str(USER_ID), "--clinic-id", str(CLINIC_ID),
        "--name", "Dana Coordinator", env=env,
    )  # fmt: skip
    for patient_id, phone in ((PATIENT_ID, PATIENT_PHONE), (OPTED_OUT_ID, OPTED_OUT_PHONE)):
        _cli(
            "patients", "upsert", "--id", str(patient_id), "--clinic-id", str(CLINIC_ID),
            "--phone", phone, "--coordinator-id", str(USER_ID), env=env,
        )  # fmt: skip
    with ExitStack() as stack:
        servers = []
        for name in ("a", "b"):
            workdir = tmp_path / name
            workdir.mkdir()
            port = free_port()
            stack.enter_context(served(*SERVE, port=port, env=env, cwd=workdir))
            servers.append(Server(name, f"http://{LOOPBACK}:{port}", workdir))
        yield Deployment(database_url, (servers[0], servers[1]), created.strip().splitlines()[-1])


# --- requests, and races between them ----------------------------------------------------------


class Answers:
    """Every answer any server gave, by kind of request; safe from several threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.seen: list[tuple[str, str, int]] = []  # (kind, server, status)

    def note(self, kind: str, server: Server, response: requests.Response) -> requests.Response:
        with self._lock:
            self.seen.append((kind, server.name, response.status_code))
        return response

    def server_errors(self) -> list[tuple[str, str, int]]:
        return [answer for answer in self.seen if answer[2] >= 500]


def all_at_once(tasks: Sequence[Callable[[], T]]) -> list[T]:
    """Each task in a thread of its own, released together by a barrier; their results."""
    barrier = threading.Barrier(len(tasks))
    results: list[Any] = [None] * len(tasks)
    errors: list[BaseException] = []

    def run(index: int, task: Callable[[], T]) -> None:
        try:
            barrier.wait(timeout=RACE_TIMEOUT)
            results[index] = task()
        except BaseException as error:  # reported below, in the caller's thread
            errors.append(error)

    threads = [
        threading.Thread(target=run, args=(index, task), daemon=True)
        for index, task in enumerate(tasks)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=RACE_TIMEOUT)
    assert not any(thread.is_alive() for thread in threads), "a request never finished"
    assert errors == [], errors
    return results


def in_parallel(tasks: Sequence[Callable[[], T]], threads: int) -> list[T]:
    """The tasks on a pool of ``threads``; their results in order."""
    with ThreadPoolExecutor(max_workers=threads) as pool:
        futures = [pool.submit(task) for task in tasks]
        return [future.result(timeout=RACE_TIMEOUT) for future in futures]


@dataclass(frozen=True)
class Sent:
    """A 201: the record, its sid and its activity."""

    channel: str  # "sms" or "call"
    record_id: int
    sid: str
    to: str
    activity_id: int
    body: str | None

    @property
    def statuses(self) -> tuple[str, ...]:
        return SMS_STATUSES if self.channel == "sms" else CALL_STATUSES

    def callback(self, status: str) -> tuple[str, dict[str, str]]:
        """The route and form of this record's status callback reporting ``status``."""
        if self.channel == "sms":
            return SMS_STATUS, sms_status_form(self.sid, status, to=self.to)
        duration = CALL_DURATION if status == "completed" else None
        sequence = CALL_STATUSES.index(status)
        form = call_status_form(self.sid, status, to=self.to, duration=duration)
        return CALL_STATUS, form | {"SequenceNumber": str(sequence)}


def sent_from(channel: str, body: dict[str, Any]) -> Sent:
    record = body[channel]
    return Sent(
        channel=channel,
        record_id=int(record["id"]),
        sid=str(record["twilio_sid"]),
        to=str(record["to"]),
        activity_id=int(body["activity"]["id"]),
        body=record.get("body"),
    )


class Clients:
    """The clinic's front end and Twilio, each request to the server it is given."""

    def __init__(self, deployment: Deployment, answers: Answers) -> None:
        self._deployment = deployment
        self._answers = answers

    def send(
        self, server: Server, channel: str, *, body: str | None = None, key: str | None = None
    ) -> requests.Response:
        headers = self._deployment.headers | ({"Idempotency-Key": key} if key else {})
        if channel == "sms":
            payload: dict[str, Any] = {"sms": {"phone_number": PATIENT_PHONE, "body": body}}
        else:
            payload = {"call": {"phone_number": PATIENT_PHONE}}
        response = requests.post(
            f"{server.base_url}{API}/patients/{PATIENT_ID}/{channel}",
            json=payload,
            headers=headers,
            timeout=REQUEST_TIMEOUT,
        )
        return self._answers.note("send", server, response)

    def send_sms_to(self, server: Server, patient_id: int, phone: str) -> requests.Response:
        response = requests.post(
            f"{server.base_url}{API}/patients/{patient_id}/sms",
            json={"sms": {"phone_number": phone, "body": "Reminder: Tuesday at 10am."}},
            headers=self._deployment.headers,
            timeout=REQUEST_TIMEOUT,
        )
        return self._answers.note("send", server, response)

    def webhook(
        self, server: Server, route: str, form: dict[str, str], record_id: int | None = None
    ) -> requests.Response:
        """Twilio posting ``form``, signed for the public URL, to ``server`` behind it."""
        path = webhook_path(route, record_id)
        signed = signature(PUBLIC_BASE_URL + path, form)
        response = requests.post(
            server.base_url + path,
            data=form,
            headers={SIGNATURE_HEADER: signed},
            timeout=REQUEST_TIMEOUT,
        )
        return self._answers.note(f"webhook {route}", server, response)


# --- the database, read directly ----------------------------------------------------------------


def all_rows(engine: Engine, table: Any) -> list[Any]:
    with engine.connect() as connection:
        return list(connection.execute(select(table).order_by(table.c.id)).mappings())


def consent_ledger(engine: Engine) -> list[tuple[str, int | None, str, str, int | None]]:
    """Every consent entry, oldest first: (phone, clinic, action, source, SMS)."""
    c = tables.consent_entries
    query = select(c.c.phone, c.c.clinic_id, c.c.action, c.c.source, c.c.sms_id).order_by(c.c.id)
    with engine.connect() as connection:
        return [tuple(row) for row in connection.execute(query)]


def activity_ids_by_record(activities: list[Any]) -> dict[tuple[str, int], int]:
    """Each activity's id by the record it is for: ("sms" | "call", record id)."""
    found = {}
    for activity in activities:
        if activity["text_message_id"] is not None:
            found[("sms", activity["text_message_id"])] = activity["id"]
        else:
            found[("call", activity["voice_call_id"])] = activity["id"]
    return found


def connections_to(engine: Engine, database_url: str) -> int:
    """Connections the servers hold to the database (this engine's own not counted)."""
    database = make_url(database_url).database
    with engine.connect() as connection:
        counted = connection.execute(
            select(func.count())
            .select_from(text("pg_stat_activity"))
            .where(text("datname = :name AND pid <> pg_backend_pid()"))
            .params(name=database)
        ).scalar_one()
    return int(counted)


def log_errors(server: Server) -> list[str]:
    """Error lines in a server's output, its access log aside."""
    found = []
    for name in ("server.out", "server.err"):
        for line in (server.workdir / name).read_text(errors="replace").splitlines():
            if ACCESS_LOG_MARK not in line and any(mark in line for mark in ERROR_MARKS):
                found.append(f"{server.name}: {line}")
    return found


def access_log_lines(server: Server) -> list[str]:
    return [
        line
        for line in (server.workdir / "server.out").read_text(errors="replace").splitlines()
        if ACCESS_LOG_MARK in line and f'{LOOPBACK} "POST ' in line
    ]


# --- the test -----------------------------------------------------------------------------------


def test_two_servers_on_one_database_keep_every_invariant(
    deployment: Deployment, engine: Engine
) -> None:
    answers = Answers()
    clients = Clients(deployment, answers)
    a, b = deployment.servers
    rng = random.Random(secrets.randbits(32))
    run_id = secrets.token_hex(4)

    # (1) Sends split across both servers; keyed ones posted to both at once.
    def plain_send(index: int, channel: str) -> list[Sent]:
        server = deployment.servers[index % 2]
        body = f"Two servers, reminder {index}" if channel == "sms" else None
        response = clients.send(server, channel, body=body)
        assert response.status_code == 201, response.text
        return [sent_from(channel, response.json())]

    def keyed_send(index: int) -> list[Sent]:
        key, body = f"two-servers-{run_id}-{index}", f"Two servers, keyed reminder {index}"
        raced = all_at_once([partial(clients.send, s, "sms", body=body, key=key) for s in (a, b)])
        originals = [
            r for r in raced if r.status_code == 201 and "Idempotent-Replayed" not in r.headers
        ]
        assert len(originals) == 1, [(r.status_code, r.text) for r in raced]
        original = originals[0].json()
        for other in raced:
            if other is not originals[0]:
                replayed = other.status_code == 201 and other.json() == original
                in_progress = other.status_code == 409 and other.json()["errors"] == IN_PROGRESS
                assert replayed or in_progress, (other.status_code, other.text)
        # A retry on either server, once the race is over, replays the one answer.
        for server in (a, b):
            retry = clients.send(server, "sms", body=body, key=key)
            assert retry.status_code == 201, retry.text
            assert retry.headers["Idempotent-Replayed"] == "true"
            assert retry.json() == original
        return [sent_from("sms", original)]

    jobs: list[Callable[[], list[Sent]]] = [
        partial(keyed_send, i) if i < KEYED_SENDS else partial(plain_send, i, "sms")
        for i in range(SMS_SENDS)
    ]
    jobs += [partial(plain_send, i, "call") for i in range(CALL_SENDS)]
    rng.shuffle(jobs)
    sends = [sent for batch in in_parallel(jobs, CONCURRENT_SENDS) for sent in batch]
    assert len(sends) == SMS_SENDS + CALL_SENDS
    assert len({sent.record_id for sent in sends if sent.channel == "sms"}) == SMS_SENDS
    assert len({sent.sid for sent in sends}) == len(sends)

    # (2) Every status callback of each record posted to both servers at once, shuffled.
    def callbacks_of(sent: Sent, seed: int) -> list[int]:
        def post(server: Server, status: str) -> int:
            route, form = sent.callback(status)
            return clients.webhook(server, route, form, record_id=sent.record_id).status_code

        posts = [partial(post, server, status) for status in sent.statuses for server in (a, b)]
        random.Random(seed).shuffle(posts)
        return all_at_once(posts)

    seeds = [rng.randrange(2**32) for _ in sends]
    callback_answers = in_parallel(
        [partial(callbacks_of, s, seed) for s, seed in zip(sends, seeds, strict=True)],
        CONCURRENT_RECORDS,
    )
    assert {status for batch in callback_answers for status in batch} == {204}

    # (3) One inbound SMS (one MessageSid) posted to both servers at once, several times.
    inbound_sid = new_sid("SM")
    inbound = inbound_sms_form(PATIENT_PHONE, "Yes, see you Tuesday", sid=inbound_sid)
    for _ in range(INBOUND_ROUNDS):
        raced = all_at_once(
            [partial(clients.webhook, s, INBOUND_SMS, inbound) for s in (a, b, b, a)]
        )
        assert [response.status_code for response in raced] == [200] * 4

    # (4) STOP to server A; an SMS through server B is refused: the opt-out is shared.
    stop = inbound_sms_form(OPTED_OUT_PHONE, "STOP", sid=new_sid("SM"))
    assert clients.webhook(a, INBOUND_SMS, stop).status_code == 200
    refused = clients.send_sms_to(b, OPTED_OUT_ID, OPTED_OUT_PHONE)
    assert (refused.status_code, refused.json()) == (422, {"errors": OPTED_OUT})

    # The pools: far below the ceiling of servers x workers x (pool_size 5 + max_overflow 10).
    assert 0 < connections_to(engine, deployment.database_url) <= 2 * WORKERS * 15

    # --- what the database holds ---
    messages = all_rows(engine, tables.text_messages)
    calls = all_rows(engine, tables.voice_calls)
    activities = all_rows(engine, tables.activities)
    events = all_rows(engine, tables.events)
    logged = all_rows(engine, tables.status_callbacks)
    sms_sent = {sent.record_id: sent for sent in sends if sent.channel == "sms"}
    calls_sent = {sent.record_id: sent for sent in sends if sent.channel == "call"}

    # Every 201 has exactly one record, at the highest status reported, and nothing else went out.
    outbound = {m["id"]: m for m in messages if m["direction"] == "outbound"}
    assert outbound.keys() == sms_sent.keys()
    assert {i: (m["twilio_sid"], m["status"]) for i, m in outbound.items()} == {
        i: (sent.sid, "delivered") for i, sent in sms_sent.items()
    }
    assert {c["id"]: (c["twilio_sid"], c["status"], c["duration_seconds"]) for c in calls} == {
        i: (sent.sid, "completed", CALL_DURATION) for i, sent in calls_sent.items()
    }
    # One send per Idempotency-Key: each keyed body was sent once.
    bodies = Counter(m["body"] for m in outbound.values())
    assert [count for body, count in bodies.items() if "keyed" in body] == [1] * KEYED_SENDS

    # The inbound SMS once, the STOP once, the refused SMS not at all.
    inbound_rows = [m for m in messages if m["direction"] == "inbound"]
    assert sorted((m["twilio_sid"], m["patient_id"]) for m in inbound_rows) == sorted(
        [(inbound_sid, PATIENT_ID), (stop["MessageSid"], OPTED_OUT_ID)]
    )
    assert [m for m in outbound.values() if m["patient_id"] == OPTED_OUT_ID] == []
    [stop_row] = [m for m in inbound_rows if m["twilio_sid"] == stop["MessageSid"]]
    assert consent_ledger(engine) == [(OPTED_OUT_PHONE, None, "opt_out", "keyword", stop_row["id"])]

    # Exactly one activity per record (the one the 201 named), exactly one event per activity.
    activity_of_sms = Counter(x["text_message_id"] for x in activities if x["text_message_id"])
    activity_of_call = Counter(x["voice_call_id"] for x in activities if x["voice_call_id"])
    assert set(activity_of_sms.values()) == set(activity_of_call.values()) == {1}
    assert activity_of_sms.keys() == sms_sent.keys() | {m["id"] for m in inbound_rows}
    assert activity_of_call.keys() == calls_sent.keys()
    named = {(sent.channel, sent.record_id): sent.activity_id for sent in sends}
    found = activity_ids_by_record(activities)
    assert {key: found.get(key) for key in named} == named
    assert sorted(e["activity_id"] for e in events) == sorted(x["id"] for x in activities)

    # The status log: one row per (sid, status) posted, however many servers got it.
    assert Counter((row["twilio_sid"], row["status"]) for row in logged) == Counter(
        (sent.sid, status) for sent in sends for status in sent.statuses
    )

    # No 5xx anywhere, no error in either server's output, and both servers took their share.
    assert answers.server_errors() == []
    assert log_errors(a) + log_errors(b) == []
    assert min(len(access_log_lines(a)), len(access_log_lines(b))) > len(sends)
