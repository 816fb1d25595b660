"""Load ecm-comms: N concurrent clients x M sends and their status callbacks, then check the record.

Each client, a thread with its own requests.Session, sends M SMS and calls (every 5th is a call)
to ``ecm-comms serve`` and, after each 201, posts its status callbacks in a shuffled order, signed
as Twilio signs them (SMS: sent, delivered; calls: ringing, in-progress, completed with a
CallDuration). Then the database must hold, for every 201, exactly one record with its id and sid
at the highest status reported, exactly one activity pointing at it (the one the 201 named),
exactly one event for that activity and one status-log row per callback accepted, and nothing else
for the load's patients. It prints the answers, errors by status, throughput and latencies, and a
last line ``load: ok`` or ``load: FAILED <reasons>``; any violation or 5xx exits with status 1.

A service of its own, on a fresh PostgreSQL database (dropped at the end) and the simulated gateway:

    .venv/bin/python scripts/load.py --start --clients 16 --sends 50 --workers 4

A running service (on the simulated gateway or the Twilio stand-in, never real Twilio: every send
is sent); its database is read for the check, its TWILIO_AUTH_TOKEN signs the callbacks, and
--public-base-url is its ECM_PUBLIC_BASE_URL when that is set:

    .venv/bin/python scripts/load.py --base-url http://127.0.0.1:8000 --token <X-User-Token> \\
        --patient-id 123 --database-url postgresql+psycopg://postgres@127.0.0.1:5432/comms \\
        --twilio-auth-token dev-token

Everything is bounded: the whole run by --deadline (seconds, default 300), each request's timeout
by what is left of it. Only 127.0.0.1 is ever contacted.
"""

from __future__ import annotations

import argparse
import os
import random
import secrets
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from contextlib import AbstractContextManager, ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests
from sqlalchemy import Engine, RowMapping, Table, create_engine, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from twilio.request_validator import RequestValidator

from ecm_comms.adapters.sql import tables
from ecm_comms.webhook_routes import CALL_STATUS, RECORD_ID_PARAMETER, SMS_STATUS, WEBHOOK_PREFIX

API = "/v1/clinic/ecm/communications"
LOOPBACK = "127.0.0.1"
ECM_COMMS = Path(sys.executable).with_name("ecm-comms")
DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
ACCOUNT_SID = "AC" + "0" * 32
REQUEST_TIMEOUT = 30.0  # seconds; gunicorn gives up on a request after 30 s
STARTUP_TIMEOUT = 60.0
CLI_TIMEOUT = 60.0
MAX_PATIENTS = 4  # patients of a service of our own; the clients share them round robin
USER_ID = 1
CLINIC_ID = 1
FIRST_PATIENT_ID = 900_001
EXAMPLES = 3  # examples shown per kind of problem
BASE_URL_NEEDS = ("token", "patient_id", "database_url", "twilio_auth_token")


# --- the run's bounds ------------------------------------------------------------------------


@dataclass(frozen=True)
class Deadline:
    at: float  # time.monotonic()

    @classmethod
    def after(cls, seconds: float) -> Deadline:
        return cls(time.monotonic() + seconds)

    def remaining(self) -> float:
        return max(0.0, self.at - time.monotonic())

    def expired(self) -> bool:
        return self.remaining() <= 0

    def timeout(self, longest: float = REQUEST_TIMEOUT) -> float:
        """A timeout for one step: at most ``longest``, never past the deadline."""
        return max(0.1, min(longest, self.remaining()))


class SetupError(Exception):
    """The service or its database could not be prepared."""


# --- channels and what was sent ----------------------------------------------------------------


@dataclass(frozen=True)
class Channel:
    name: str  # the path segment, the 201's key, the activity type and the status-log channel
    table: Table
    activity_column: str
    status_route: str
    statuses: tuple[str, ...]  # the callbacks posted, lowest rank first
    sid_fields: tuple[str, ...]
    status_fields: tuple[str, ...]
    extra_fields: tuple[tuple[str, str], ...] = ()

    def payload(self, phone: str, number: int) -> dict[str, dict[str, str]]:
        if self is SMS:
            return {"sms": {"phone_number": phone, "body": f"Load test reminder {number}"}}
        return {"call": {"phone_number": phone}}


SMS = Channel(
    name="sms",
    table=tables.text_messages,
    activity_column="text_message_id",
    status_route=SMS_STATUS,
    statuses=("sent", "delivered"),
    sid_fields=("MessageSid", "SmsSid"),
    status_fields=("MessageStatus", "SmsStatus"),
)
CALL = Channel(
    name="call",
    table=tables.voice_calls,
    activity_column="voice_call_id",
    status_route=CALL_STATUS,
    statuses=("ringing", "in-progress", "completed"),
    sid_fields=("CallSid",),
    status_fields=("CallStatus",),
    extra_fields=(("Direction", "outbound-api"), ("CallbackSource", "call-progress-events")),
)
CHANNELS = (SMS, CALL)


@dataclass(frozen=True)
class LoadPatient:
    id: int
    phone: str


@dataclass
class Sent:
    """A 201: what it answered, and what became of its callbacks since."""

    channel: Channel
    patient_id: int
    record_id: int
    sid: str
    to: str
    sender: str
    activity_id: int
    initial_status: str
    duration: int
    accepted: list[str] = field(default_factory=list)  # answered 204
    unanswered: list[str] = field(default_factory=list)  # no answer came: applied or not

    def possible_statuses(self) -> set[str]:
        """The highest-ranked status reported to the service (the 201's if none was), or one
        of the unanswered callbacks' ranked above it: the service may have applied them."""
        ranked = self.channel.statuses  # lowest rank first
        floor = max((ranked.index(status) for status in self.accepted), default=-1)
        highest = ranked[floor] if floor >= 0 else self.initial_status
        return {highest} | {status for status in self.unanswered if ranked.index(status) > floor}


@dataclass(frozen=True)
class Timing:
    kind: str  # "send" or "callback"
    answer: str  # the HTTP status, or the exception's name when no answer came
    seconds: float

    @property
    def status(self) -> int | None:
        return int(self.answer) if self.answer.isdigit() else None


@dataclass
class ClientResult:
    sends: list[Sent] = field(default_factory=list)
    timings: list[Timing] = field(default_factory=list)
    malformed: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Target:
    base_url: str
    public_base_url: str
    user_token: str
    twilio_auth_token: str
    database_url: str
    patients: tuple[LoadPatient, ...]
    server: subprocess.Popen[bytes] | None = None
    server_log: Path | None = None


@dataclass(frozen=True)
class LoadResult:
    sends: list[Sent]
    timings: list[Timing]
    elapsed: float
    problems: list[str]


class Problems:
    """Violations found, grouped by kind, with a few examples of each."""

    def __init__(self) -> None:
        self._found: defaultdict[str, list[str]] = defaultdict(list)

    def add(self, kind: str, example: object) -> None:
        self._found[kind].append(str(example))

    def summary(self) -> list[str]:
        return [
            f"{kind} x{len(examples)} (e.g. {', '.join(examples[:EXAMPLES])})"
            for kind, examples in self._found.items()
        ]


# --- options -----------------------------------------------------------------------------------


def parse_options(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=(__doc__ or "").splitlines()[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--start", action="store_true", help="serve a fresh database of our own")
    mode.add_argument("--base-url", help="a running service, e.g. http://127.0.0.1:8000")
    parser.add_argument("--clients", type=int, default=8, help="concurrent clients")
    parser.add_argument("--sends", type=int, default=50, help="sends per client")
    parser.add_argument("--call-every", type=int, default=5, help="every Kth send is a call")
    parser.add_argument("--workers", type=int, default=2, help="server workers (--start)")
    parser.add_argument("--deadline", type=float, default=300.0, help="seconds for everything")
    parser.add_argument("--seed", type=int, default=1, help="for the callbacks' order")
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES_URL, help="(--start)")
    parser.add_argument("--token", help="X-User-Token (--base-url)")
    parser.add_argument("--patient-id", type=int, help="(--base-url)")
    parser.add_argument("--phone", default="+18055550100", help="number to send to (--base-url)")
    parser.add_argument("--database-url", default=os.environ.get("ECM_DATABASE_URL"))
    parser.add_argument("--twilio-auth-token", default=os.environ.get("TWILIO_AUTH_TOKEN"))
    parser.add_argument("--public-base-url", help="what the service signs against")
    options = parser.parse_args(argv)
    refusal = refusal_of(options)
    if refusal:
        parser.error(refusal)
    return options


def refusal_of(options: argparse.Namespace) -> str | None:
    """Why these options cannot run, if they cannot."""
    bounds = {
        "clients": (1, 512),
        "sends": (1, 100_000),
        "workers": (1, 64),
        "call_every": (0, 1000),
    }
    for name, (low, high) in bounds.items():
        if not low <= getattr(options, name) <= high:
            return f"--{name.replace('_', '-')} must be between {low} and {high}"
    if not 0 < options.deadline <= 3600:
        return "--deadline must be between 0 and 3600 seconds"
    if options.base_url:
        missing = [name for name in BASE_URL_NEEDS if getattr(options, name) in (None, "")]
        if missing:
            return "--base-url needs " + ", ".join("--" + n.replace("_", "-") for n in missing)
    return non_loopback(options)


def non_loopback(options: argparse.Namespace) -> str | None:
    """A refusal when a URL this script would contact is not on 127.0.0.1."""
    hosts = {"--base-url": urlsplit(options.base_url).hostname if options.base_url else LOOPBACK}
    if options.start:
        hosts["--postgres-url"] = make_url(options.postgres_url).host
    elif options.database_url and not options.database_url.startswith("sqlite"):
        hosts["--database-url"] = make_url(options.database_url).host
    for option, host in hosts.items():
        if host != LOOPBACK:
            return f"{option} must be on {LOOPBACK} (this script contacts nothing else)"
    return None


# --- a service of our own ----------------------------------------------------------------------


@contextmanager
def fresh_database(server_url: str) -> Iterator[str]:
    """A new, empty database on the server at ``server_url``, dropped when the block ends."""
    name = f"ecm_comms_load_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
        finally:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


def service_environment(database_url: str, base_url: str, auth_token: str) -> dict[str, str]:
    """This process's environment without ECM_ or TWILIO_ settings, plus the service's own."""
    inherited = {k: v for k, v in os.environ.items() if not k.startswith(("ECM_", "TWILIO_"))}
    return inherited | {
        "ECM_DATABASE_URL": database_url,
        "ECM_GATEWAY": "simulated",
        "ECM_PUBLIC_BASE_URL": base_url,
        "TWILIO_AUTH_TOKEN": auth_token,
    }


def run_cli(env: dict[str, str], deadline: Deadline, *args: str) -> str:
    """``ecm-comms <args>``'s output; a SetupError when it fails."""
    try:
        done = subprocess.run(  # noqa: S603 (our own console script, fixed arguments)
            [str(ECM_COMMS), *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=deadline.timeout(CLI_TIMEOUT),
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        raise SetupError(f"ecm-comms {' '.join(args[:2])}: {error}") from error
    if done.returncode != 0:
        raise SetupError(f"ecm-comms {' '.join(args[:2])} failed: {done.stderr.strip()[-500:]}")
    return done.stdout


def load_patients(count: int) -> tuple[LoadPatient, ...]:
    return tuple(
        LoadPatient(FIRST_PATIENT_ID + index, f"+180555501{index:02d}") for index in range(count)
    )


def prepare_database(
    env: dict[str, str], patients: tuple[LoadPatient, ...], deadline: Deadline
) -> str:
    """Migrate, register the load's coordinator and patients; the coordinator's token."""
    run_cli(env, deadline, "db", "upgrade")
    created = run_cli(
        env, deadline, "users", "create", "--id", str(USER_ID), "--clinic-id", str(CLINIC_ID),
        "--name", "Load Coordinator",
    )  # fmt: skip
    for patient in patients:
        run_cli(
            env, deadline, "patients", "upsert", "--id", str(patient.id),
            "--clinic-id", str(CLINIC_ID), "--phone", patient.phone,
            "--coordinator-id", str(USER_ID),
        )  # fmt: skip
    return created.strip().splitlines()[-1]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((LOOPBACK, 0))
        return int(probe.getsockname()[1])


def wait_until_answering(
    base_url: str, server: subprocess.Popen[bytes], deadline: Deadline
) -> None:
    """Return once the server answers HTTP (any status); a SetupError if it never does."""
    give_up = Deadline.after(min(STARTUP_TIMEOUT, deadline.remaining()))
    for _ in range(int(STARTUP_TIMEOUT / 0.1)):
        if server.poll() is not None:
            raise SetupError(f"ecm-comms serve exited with {server.returncode}")
        if give_up.expired():
            break
        try:
            requests.get(f"{base_url}/", timeout=give_up.timeout(1.0))
            return
        except requests.RequestException:
            time.sleep(0.1)
    raise SetupError(f"ecm-comms serve does not answer at {base_url}")


def stop(server: subprocess.Popen[bytes]) -> None:
    server.terminate()
    try:
        server.wait(timeout=15)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait(timeout=15)


@contextmanager
def running_server(
    env: dict[str, str], port: int, workers: int, log_path: Path, deadline: Deadline
) -> Iterator[subprocess.Popen[bytes]]:
    """``ecm-comms serve`` on 127.0.0.1:``port`` until the block ends, its output in a file."""
    command = [str(ECM_COMMS), "serve", "--host", LOOPBACK, "--port", str(port)]
    with open(log_path, "wb") as log:
        server = subprocess.Popen(  # noqa: S603 (our own console script, fixed arguments)
            [*command, "--workers", str(workers)], env=env, stdout=log, stderr=subprocess.STDOUT
        )
        try:
            wait_until_answering(f"http://{LOOPBACK}:{port}", server, deadline)
            yield server
        finally:
            stop(server)


@contextmanager
def own_service(options: argparse.Namespace, deadline: Deadline) -> Iterator[Target]:
    """A fresh database, migrated and populated by the CLI, served by ``ecm-comms serve``."""
    if not ECM_COMMS.exists():
        raise SetupError(f"{ECM_COMMS} is missing: run this with the virtualenv's python")
    with ExitStack() as stack:
        database_url = stack.enter_context(fresh_database(options.postgres_url))
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="ecm-load-")))
        port = free_port()
        base_url = f"http://{LOOPBACK}:{port}"
        auth_token = secrets.token_hex(16)
        env = service_environment(database_url, base_url, auth_token)
        patients = load_patients(min(options.clients, MAX_PATIENTS))
        user_token = prepare_database(env, patients, deadline)
        log_path = workdir / "server.log"
        server = stack.enter_context(running_server(env, port, options.workers, log_path, deadline))
        yield Target(
            base_url, base_url, user_token, auth_token, database_url, patients, server, log_path
        )


@contextmanager
def given_service(options: argparse.Namespace) -> Iterator[Target]:
    base_url = options.base_url.rstrip("/")
    yield Target(
        base_url=base_url,
        public_base_url=(options.public_base_url or base_url).rstrip("/"),
        user_token=options.token,
        twilio_auth_token=options.twilio_auth_token,
        database_url=options.database_url,
        patients=(LoadPatient(options.patient_id, options.phone),),
    )


# --- one client --------------------------------------------------------------------------------


def timed_post(
    session: requests.Session, kind: str, deadline: Deadline, url: str, **kwargs: Any
) -> tuple[Timing, requests.Response | None]:
    started = time.perf_counter()
    try:
        response = session.post(url, timeout=deadline.timeout(), **kwargs)
    except requests.RequestException as error:
        return Timing(kind, type(error).__name__, time.perf_counter() - started), None
    return Timing(kind, str(response.status_code), time.perf_counter() - started), response


def sent_from(
    channel: Channel, patient: LoadPatient, body: dict[str, Any], rng: random.Random
) -> Sent:
    """The 201's record; a KeyError, TypeError or ValueError when it is not shaped as documented."""
    record = body[channel.name]
    return Sent(
        channel=channel,
        patient_id=patient.id,
        record_id=int(record["id"]),
        sid=str(record["twilio_sid"]),
        to=str(record["to"]),
        sender=str(record["from"]),
        activity_id=int(body["activity"]["id"]),
        initial_status=str(record["status"]),
        duration=rng.randint(1, 600),
    )


def post_send(
    session: requests.Session,
    target: Target,
    channel: Channel,
    patient: LoadPatient,
    number: int,
    deadline: Deadline,
) -> tuple[Timing, dict[str, Any] | None]:
    """POST one SMS or call; its timing, and the 201's body."""
    timing, response = timed_post(
        session,
        "send",
        deadline,
        f"{target.base_url}{API}/patients/{patient.id}/{channel.name}",
        json=channel.payload(patient.phone, number),
        headers={"X-User-Token": target.user_token},
    )
    if response is None or response.status_code != 201:
        return timing, None
    try:
        body = response.json()
    except ValueError:
        return timing, {}
    return timing, body if isinstance(body, dict) else {}


def callback_form(sent: Sent, status: str, sequence: int) -> dict[str, str]:
    """A status callback as Twilio posts it."""
    channel = sent.channel
    form = dict.fromkeys(channel.sid_fields, sent.sid) | dict.fromkeys(
        channel.status_fields, status
    )
    form |= {"AccountSid": ACCOUNT_SID, "From": sent.sender, "To": sent.to}
    form |= {"ApiVersion": "2010-04-01", **dict(channel.extra_fields)}
    if channel is CALL:
        form["SequenceNumber"] = str(sequence)
        if status == "completed":
            form["CallDuration"] = str(sent.duration)
    return form


def post_callback(
    session: requests.Session,
    target: Target,
    sent: Sent,
    status: str,
    sequence: int,
    deadline: Deadline,
) -> Timing:
    """POST one signed status callback for ``sent``."""
    path = f"{WEBHOOK_PREFIX}{sent.channel.status_route}?{RECORD_ID_PARAMETER}={sent.record_id}"
    form = callback_form(sent, status, sequence)
    validator = RequestValidator(target.twilio_auth_token)
    signature = validator.compute_signature(target.public_base_url + path, form)
    timing, _ = timed_post(
        session,
        "callback",
        deadline,
        target.base_url + path,
        data=form,
        headers={"X-Twilio-Signature": signature},
    )
    return timing


def post_callbacks(
    session: requests.Session, target: Target, sent: Sent, rng: random.Random, deadline: Deadline
) -> list[Timing]:
    """Every status callback of ``sent``, in a shuffled order; notes those accepted (204) and
    those that got no answer."""
    statuses = list(sent.channel.statuses)
    rng.shuffle(statuses)
    timings: list[Timing] = []
    for sequence, status in enumerate(statuses):
        if deadline.expired():
            break
        timing = post_callback(session, target, sent, status, sequence, deadline)
        timings.append(timing)
        if timing.status == 204:
            sent.accepted.append(status)
        elif timing.status is None:
            sent.unanswered.append(status)
    return timings


def channel_of(number: int, call_every: int) -> Channel:
    return CALL if call_every and number % call_every == call_every - 1 else SMS


def run_client(
    index: int, target: Target, options: argparse.Namespace, deadline: Deadline
) -> ClientResult:
    """One client: its sends, one after the other, each followed by its callbacks."""
    rng = random.Random(options.seed * 1_000_003 + index)  # noqa: S311 (an order, not a secret)
    patient = target.patients[index % len(target.patients)]
    result = ClientResult()
    with requests.Session() as session:
        for number in range(options.sends):
            if deadline.expired():
                break
            channel = channel_of(number, options.call_every)
            timing, body = post_send(session, target, channel, patient, number, deadline)
            result.timings.append(timing)
            if body is None:
                continue
            try:
                sent = sent_from(channel, patient, body, rng)
            except (KeyError, TypeError, ValueError) as error:
                result.malformed.append(f"{channel.name} 201 without {error}")
                continue
            result.sends.append(sent)
            result.timings.extend(post_callbacks(session, target, sent, rng, deadline))
    return result


# --- the run -----------------------------------------------------------------------------------


def collect(futures: list[Future[ClientResult]], deadline: Deadline) -> LoadResult:
    """The clients' results, once they are all done (or the deadline has long passed)."""
    done, pending = wait(futures, timeout=deadline.remaining() + 2 * REQUEST_TIMEOUT)
    sends: list[Sent] = []
    timings: list[Timing] = []
    problems = [f"{len(pending)} client(s) never finished"] if pending else []
    for future in done:
        error = future.exception()
        if error is not None:
            problems.append(f"a client crashed: {error!r}")
            continue
        result = future.result()
        sends += result.sends
        timings += result.timings
        problems += result.malformed
    return LoadResult(sends, timings, 0.0, problems)


def run_load(target: Target, options: argparse.Namespace, deadline: Deadline) -> LoadResult:
    """Every client at once; their results, with the wall-clock time they took."""
    started = time.perf_counter()
    pool = ThreadPoolExecutor(max_workers=options.clients, thread_name_prefix="load-client")
    try:
        futures = [
            pool.submit(run_client, index, target, options, deadline)
            for index in range(options.clients)
        ]
        result = collect(futures, deadline)
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
    elapsed = time.perf_counter() - started
    return LoadResult(result.sends, result.timings, elapsed, result.problems)


# --- the check against the database ------------------------------------------------------------

CHECKED_TABLES = (
    tables.text_messages,
    tables.voice_calls,
    tables.activities,
    tables.events,
    tables.status_callbacks,
)


def last_ids(engine: Engine) -> dict[str, int]:
    """Each checked table's highest id before the run: rows above it are the run's."""
    with engine.connect() as connection:
        return {
            table.name: connection.execute(select(func.coalesce(func.max(table.c.id), 0)))
            .scalar_one()
            for table in CHECKED_TABLES
        }  # fmt: skip


def new_rows(
    engine: Engine, baseline: dict[str, int], patient_ids: set[int]
) -> dict[str, list[RowMapping]]:
    """Rows added since ``baseline``: the load patients' records, activities and events, and
    every status-log row."""
    found: dict[str, list[RowMapping]] = {}
    with engine.connect() as connection:
        for table in CHECKED_TABLES:
            query = select(table).where(table.c.id > baseline[table.name]).order_by(table.c.id)
            if "patient_id" in table.c:
                query = query.where(table.c.patient_id.in_(patient_ids))
            found[table.name] = list(connection.execute(query).mappings())
    return found


def check_answers(sends: list[Sent], problems: Problems) -> None:
    """No two 201s named the same record, sid or activity."""
    counts = Counter[tuple[str, object]]()
    for sent in sends:
        counts.update(
            [(sent.channel.name, sent.record_id), ("sid", sent.sid), ("activity", sent.activity_id)]
        )
    for (what, value), count in counts.items():
        if count > 1:
            problems.add("201s naming the same record, sid or activity", f"{what} {value} x{count}")


def check_record(sent: Sent, row: RowMapping | None, problems: Problems) -> None:
    table = sent.channel.table.name
    if row is None:
        problems.add(f"{table} rows missing", sent.record_id)
        return
    if row["twilio_sid"] != sent.sid:
        problems.add(f"{table} sids differing from the 201's", sent.record_id)
    if row["status"] not in sent.possible_statuses():
        example = f"{sent.record_id}: {row['status']} not {'/'.join(sent.possible_statuses())}"
        problems.add(f"{table} statuses not the highest reported", example)
    completed = sent.channel is CALL and row["status"] == "completed"
    if completed and row["duration_seconds"] != sent.duration:
        problems.add("voice_calls durations not the CallDuration sent", sent.record_id)


def check_records(
    channel: Channel, sends: list[Sent], rows: list[RowMapping], problems: Problems
) -> None:
    """Exactly one row per 201, with its id and sid at the highest status; no others."""
    by_id = {row["id"]: row for row in rows}
    expected = {sent.record_id: sent for sent in sends if sent.channel is channel}
    for record_id, sent in expected.items():
        check_record(sent, by_id.get(record_id), problems)
    for record_id in sorted(by_id.keys() - expected.keys()):
        problems.add(f"{channel.table.name} rows no 201 named", record_id)
    sids = Counter(row["twilio_sid"] for row in rows)
    for sid, count in sids.items():
        if count > 1:
            problems.add(f"{channel.table.name} sids recorded more than once", f"{sid} x{count}")


def check_activities(sends: list[Sent], rows: list[RowMapping], problems: Problems) -> None:
    """Exactly one activity per 201 (the one it named), of its type and patient; no others."""
    pointing: defaultdict[tuple[str, int], list[RowMapping]] = defaultdict(list)
    for row in rows:
        for channel in CHANNELS:
            if row[channel.activity_column] is not None:
                pointing[(channel.name, row[channel.activity_column])].append(row)
    expected = {(sent.channel.name, sent.record_id): sent for sent in sends}
    for key, sent in expected.items():
        found = pointing.get(key, [])
        if len(found) != 1:
            problems.add("records without exactly one activity", f"{key} has {len(found)}")
        elif found[0]["id"] != sent.activity_id:
            problems.add("activities differing from the 201's", key)
        elif (found[0]["activity_type"], found[0]["patient_id"]) != (key[0], sent.patient_id):
            problems.add("activities of the wrong type or patient", found[0]["id"])
    for key in sorted(pointing.keys() - expected.keys()):
        problems.add("activities for records no 201 named", key)
    for row in rows:
        if all(row[channel.activity_column] is None for channel in CHANNELS):
            problems.add("activities pointing at no record", row["id"])


def check_events(sends: list[Sent], rows: list[RowMapping], problems: Problems) -> None:
    """Exactly one event per activity of a 201, of its type and patient; no others."""
    by_activity: defaultdict[int, list[RowMapping]] = defaultdict(list)
    for row in rows:
        by_activity[row["activity_id"]].append(row)
    expected = {sent.activity_id: sent for sent in sends}
    for activity_id, sent in expected.items():
        found = by_activity.get(activity_id, [])
        if len(found) != 1:
            problems.add("activities without exactly one event", f"{activity_id} has {len(found)}")
        elif (found[0]["event_type"], found[0]["patient_id"]) != (
            sent.channel.name,
            sent.patient_id,
        ):
            problems.add("events of the wrong type or patient", found[0]["id"])
    for activity_id in sorted(by_activity.keys() - expected.keys()):
        problems.add("events for activities no 201 named", activity_id)


def check_status_log(sends: list[Sent], rows: list[RowMapping], problems: Problems) -> None:
    """One status-log row per callback accepted, none for callbacks not sent (those that got no
    answer may or may not be there)."""
    logged: defaultdict[tuple[str, str], list[str]] = defaultdict(list)
    for row in rows:
        logged[(row["channel"], row["twilio_sid"])].append(row["status"])
    for sent in sends:
        statuses = logged.get((sent.channel.name, sent.sid), [])
        allowed = {*sent.accepted, *sent.unanswered}
        duplicated = len(statuses) != len(set(statuses))
        if duplicated or not set(sent.accepted) <= set(statuses) <= allowed:
            problems.add("status logs differing from the callbacks accepted", sent.sid)


def verify(
    engine: Engine, baseline: dict[str, int], target: Target, sends: list[Sent]
) -> list[str]:
    """Every violation of "each 201 has one record, one activity, one event", summarised."""
    rows = new_rows(engine, baseline, {patient.id for patient in target.patients})
    problems = Problems()
    check_answers(sends, problems)
    for channel in CHANNELS:
        check_records(channel, sends, rows[channel.table.name], problems)
    check_activities(sends, rows[tables.activities.name], problems)
    check_events(sends, rows[tables.events.name], problems)
    check_status_log(sends, rows[tables.status_callbacks.name], problems)
    return problems.summary()


# --- the report --------------------------------------------------------------------------------

EXPECTED_ANSWER = {"send": "201", "callback": "204"}
# In the app's log lines ("... ERROR name: ...") and gunicorn's ("[ERROR]", "[CRITICAL] WORKER
# TIMEOUT").
ERROR_MARKS = ("ERROR", "CRITICAL", "Traceback")


def percentile(values: list[float], percent: float) -> float:
    """The nearest-rank percentile; 0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * percent // 100))
    return ordered[int(rank) - 1]


def answers_line(timings: list[Timing]) -> str:
    counts = Counter((timing.kind, timing.answer) for timing in timings)
    parts = [f"{kind} {answer} x{count}" for (kind, answer), count in sorted(counts.items())]
    return "answers: " + (", ".join(parts) or "none")


def errors_line(timings: list[Timing]) -> str:
    counts = Counter(
        (timing.kind, timing.answer)
        for timing in timings
        if timing.answer != EXPECTED_ANSWER[timing.kind]
    )
    parts = [f"{kind} {answer} x{count}" for (kind, answer), count in sorted(counts.items())]
    return "errors: " + (", ".join(parts) or "none")


def latency_text(timings: list[Timing], kind: str) -> str:
    seconds = [timing.seconds for timing in timings if timing.kind == kind]
    p50, p99 = (percentile(seconds, p) * 1000 for p in (50, 99))
    return f"{kind}s p50 {p50:.1f} ms, p99 {p99:.1f} ms"


def report_lines(result: LoadResult, options: argparse.Namespace) -> list[str]:
    sends = [timing for timing in result.timings if timing.kind == "send"]
    callbacks = len(result.timings) - len(sends)
    calls = sum(1 for sent in result.sends if sent.channel is CALL)
    per_second = 1 / result.elapsed if result.elapsed > 0 else 0.0
    return [
        f"requests: {len(result.timings)} ({len(sends)} sends of {options.clients} clients x "
        f"{options.sends}, {callbacks} callbacks)",
        f"201s: {len(result.sends)} ({len(result.sends) - calls} sms, {calls} calls)",
        answers_line(result.timings),
        errors_line(result.timings),
        f"elapsed: {result.elapsed:.2f} s",
        f"throughput: {len(sends) * per_second:.1f} sends/s, {callbacks * per_second:.1f} "
        f"callbacks/s, {len(result.timings) * per_second:.1f} requests/s",
        f"latency: {latency_text(result.timings, 'send')}; "
        f"{latency_text(result.timings, 'callback')}",
    ]


def answer_failures(result: LoadResult, options: argparse.Namespace) -> list[str]:
    """5xx answers, other unexpected answers, and sends never made."""
    failures: list[str] = []
    server_errors = sum(1 for t in result.timings if t.status is not None and t.status >= 500)
    if server_errors:
        failures.append(f"{server_errors} 5xx answer(s)")
    unexpected = [t for t in result.timings if t.answer != EXPECTED_ANSWER[t.kind]]
    if len(unexpected) > server_errors:
        failures.append(f"{len(unexpected) - server_errors} other unexpected answer(s)")
    made = sum(1 for t in result.timings if t.kind == "send")
    planned = options.clients * options.sends
    if made < planned:
        failures.append(f"only {made} of {planned} sends were made (the deadline?)")
    return failures


def server_log_problems(target: Target) -> list[str]:
    """Error lines in our own server's output (its access log aside)."""
    if target.server_log is None or not target.server_log.exists():
        return []
    lines = target.server_log.read_text(errors="replace").splitlines()
    return [
        line
        for line in lines
        if not line.startswith(f'{LOOPBACK} "') and any(mark in line for mark in ERROR_MARKS)
    ]


def server_failures(target: Target) -> list[str]:
    failures: list[str] = []
    if target.server is not None and target.server.poll() is not None:
        failures.append(f"the server exited with {target.server.returncode}")
    logged = server_log_problems(target)
    if logged:
        failures.append(f"{len(logged)} error line(s) in the server log")
        print("server log errors (first 20):", *logged[:20], sep="\n  ")
    return failures


# --- main --------------------------------------------------------------------------------------


def service(options: argparse.Namespace, deadline: Deadline) -> AbstractContextManager[Target]:
    """The service under load: our own (--start) or the one at --base-url."""
    return own_service(options, deadline) if options.start else given_service(options)


def load_and_check(target: Target, options: argparse.Namespace, deadline: Deadline) -> list[str]:
    """Run the load, print what it did, and return every failure found."""
    engine = create_engine(target.database_url)
    try:
        baseline = last_ids(engine)
        print(f"load: {options.clients} clients x {options.sends} sends on {target.base_url}")
        result = run_load(target, options, deadline)
        print(*report_lines(result, options), sep="\n")
        failures = answer_failures(result, options) + result.problems
        failures += verify(engine, baseline, target, result.sends)
    finally:
        engine.dispose()
    return failures + server_failures(target)


def main(argv: Sequence[str] | None = None) -> int:
    options = parse_options(argv)
    deadline = Deadline.after(options.deadline)
    try:
        with service(options, deadline) as target:
            failures = load_and_check(target, options, deadline)
    except (SetupError, SQLAlchemyError, OSError) as error:
        failures = [f"could not run: {error}"]
    print("load: ok" if not failures else "load: FAILED " + "; ".join(failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
