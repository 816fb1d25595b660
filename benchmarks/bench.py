"""Throughput of ecm-comms against a baseline app, with wrk: ``make bench`` (README: Benchmark).

A fresh PostgreSQL database (dropped at the end); ``ecm-comms serve`` on it (simulated gateway,
signed webhooks) and ``benchmarks/baseline_app.py`` under the same gunicorn settings. Each path
(``sms``: POST …/sms; ``status``: signed status callbacks, sent then delivered, for messages ours
really sent; ``inbound``: signed inbound SMS, each its own MessageSid) is driven by wrk, ours and
the baseline taking turns for --rounds rounds, on the same requests, built and signed beforehand.
Then the records: every answered request to ours must be on record with its activity and event.

    python -m benchmarks.bench [--duration 10] [--connections 8] [--threads 1] [--workers 2]
        [--rounds 3] [--memory-requests 20000] [--quick] [--require-targets]

Exit status 1 on a non-2xx answer, a socket error, a request repeated to ours, an error in a
server's log or a record missing; 2 on a missed target with --require-targets.
"""

from __future__ import annotations

import argparse
import json
import math
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from twilio.request_validator import RequestValidator

from benchmarks import proc
from benchmarks.databases import own_database
from benchmarks.served import ACCESS_LOG_MARK, clean_environment, free_port, run_cli, served
from ecm_comms.webhook_routes import INBOUND_SMS, RECORD_ID_PARAMETER, SMS_STATUS, WEBHOOK_PREFIX

LUA = Path(__file__).with_name("bench.lua")
REPO = Path(__file__).resolve().parents[1]
API = "/v1/clinic/ecm/communications"
PATHS = ("sms", "status", "inbound")
TARGETS = {"sms": 0.5, "status": 0.7, "inbound": 0.5}  # ours / baseline, requests per second
MEMORY_GROWTH_TARGET = 10.0  # percent: a worker's RSS after --memory-requests over after a tenth
PATIENTS = {900_001 + n: f"+180555501{n:02d}" for n in range(4)}
CLINIC_NUMBER = "+18059876543"  # the simulated gateway's sender, where patients text
ACCOUNT_SID = "AC" + "0" * 32
# Request files hold what ours's fastest rate so far needs this many times over, plus a few
# hundred: webhooks to ours must all be distinct (a repeat does less work).
SPARE, EXTRA = 2.0, 200
BUSY_PERCENT = 15.0
ERROR_MARKS = ("ERROR", "CRITICAL", "Traceback")


class BenchError(Exception):
    """The run could not be made."""


def parse_options(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=(__doc__ or "").splitlines()[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--connections", type=int, default=8, help="wrk's open connections")
    parser.add_argument("--threads", type=int, default=1, help="wrk's threads")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers of each server")
    parser.add_argument("--rounds", type=int, default=3, help="ours/baseline runs per path")
    parser.add_argument(
        "--memory-requests", type=int, default=20_000, help="per worker, at the last RSS reading"
    )
    parser.add_argument("--deadline", type=float, default=900.0, help="seconds for everything")
    parser.add_argument(
        "--postgres-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
    )
    parser.add_argument("--quick", action="store_true", help="a ~40 s smoke run")
    parser.add_argument(
        "--require-targets", action="store_true", help="exit with status 2 on a missed target"
    )
    options = parser.parse_args(argv)
    if options.quick:
        options.duration, options.rounds, options.memory_requests = 1, 1, 400
    if min(options.duration, options.threads, options.workers, options.rounds) < 1:
        parser.error("--duration, --threads, --workers and --rounds must be at least 1")
    if options.connections < options.threads:
        parser.error("--connections must be at least --threads (each thread keeps one open)")
    if make_url(options.postgres_url).host != "127.0.0.1":
        parser.error("--postgres-url must be on 127.0.0.1 (the bench contacts nothing else)")
    return options


@dataclass(frozen=True)
class Run:
    """One wrk run: its answers, latencies and, when measured, CPU ms per request."""

    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    non_2xx: dict[str, int]
    socket_errors: int
    repeated: int
    cpu: tuple[float, float] | None = None  # the server's workers, PostgreSQL's backends

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def answered(self) -> int:
        return self.requests - sum(self.non_2xx.values())


@dataclass(frozen=True)
class Server:
    name: str
    url: str
    process: subprocess.Popen[str]
    logs: tuple[Path, ...]

    def log_errors(self) -> list[str]:
        """Error lines of its output, the access log aside."""
        lines = [line for log in self.logs for line in log.read_text().splitlines()]
        return [line for line in lines if ACCESS_LOG_MARK not in line and any(
            mark in line for mark in ERROR_MARKS
        )]  # fmt: skip


def request_line(target: str, content_type: str, header: tuple[str, str], body: str) -> str:
    """One request as bench.lua reads it: tab-separated fields."""
    return "\t".join((target, content_type, *header, body))


@dataclass
class Requests:
    """The request files: sends, status callbacks for messages ours sent, inbound SMS."""

    workdir: Path
    engine: Engine
    user_token: str
    public_url: str
    validator: RequestValidator
    made: int = 0
    last_message: int = 0

    def file(self, lines: list[str]) -> Path:
        self.made += 1
        path = self.workdir / f"{self.made:03d}.requests"
        path.write_text("\n".join(lines) + "\n")
        return path

    def sms(self, count: int) -> Path:
        sends = []
        for number in range(count):
            patient, phone = list(PATIENTS.items())[number % len(PATIENTS)]
            body = {"sms": {"phone_number": phone, "body": f"Reminder {self.made}.{number}"}}
            sends.append(request_line(
                f"{API}/patients/{patient}/sms", "application/json",
                ("X-User-Token", self.user_token), json.dumps(body),
            ))  # fmt: skip
        return self.file(sends)

    def signed(self, target: str, form: dict[str, str]) -> str:
        signature = self.validator.compute_signature(self.public_url + target, form)
        return request_line(
            target, "application/x-www-form-urlencoded",
            ("X-Twilio-Signature", signature), urlencode(form),
        )  # fmt: skip

    def unused_messages(self, limit: int) -> list[Any]:
        query = text(
            "SELECT id, twilio_sid, to_number, from_number FROM text_messages WHERE id > :last"
            " AND direction = 'outbound' AND twilio_sid IS NOT NULL ORDER BY id LIMIT :limit"
        )
        with self.engine.connect() as connection:
            return list(connection.execute(query, {"last": self.last_message, "limit": limit}))

    def status(self, messages: list[Any]) -> Path:
        """``sent`` then ``delivered`` for each message, in batches so both are in flight."""
        self.last_message = messages[-1].id
        callbacks = []
        for start in range(0, len(messages), 64):
            for status in ("sent", "delivered"):
                for message in messages[start : start + 64]:
                    target = f"{WEBHOOK_PREFIX}{SMS_STATUS}?{RECORD_ID_PARAMETER}={message.id}"
                    callbacks.append(self.signed(target, {
                        "MessageSid": message.twilio_sid, "SmsSid": message.twilio_sid,
                        "MessageStatus": status, "SmsStatus": status, "AccountSid": ACCOUNT_SID,
                        "From": message.from_number, "To": message.to_number,
                        "ApiVersion": "2010-04-01",
                    }))  # fmt: skip
        return self.file(callbacks)

    def inbound(self, count: int) -> Path:
        forms = []
        for number in range(count):
            sid = "SM" + secrets.token_hex(16)
            forms.append(self.signed(WEBHOOK_PREFIX + INBOUND_SMS, {
                "MessageSid": sid, "SmsSid": sid, "SmsMessageSid": sid,
                "AccountSid": ACCOUNT_SID, "From": list(PATIENTS.values())[number % len(PATIENTS)],
                "To": CLINIC_NUMBER, "Body": f"Thanks, see you then ({sid[-6:]})",
                "NumMedia": "0", "SmsStatus": "received", "ApiVersion": "2010-04-01",
            }))  # fmt: skip
        return self.file(forms)


@dataclass
class Bench:
    options: argparse.Namespace
    deadline: float  # time.monotonic()
    ours: Server
    baseline: Server
    unmetered: Server  # ours with ECM_METRICS=off: what the metrics cost, measured alongside
    requests: Requests
    rates: dict[str, float] = field(default_factory=lambda: dict.fromkeys(PATHS, 500.0))
    rounds: dict[str, list[tuple[Run, Run]]] = field(default_factory=lambda: {p: [] for p in PATHS})
    unmetered_rounds: dict[str, list[tuple[Run, Run]]] = field(
        default_factory=lambda: {p: [] for p in PATHS}
    )
    answered: dict[str, int] = field(default_factory=lambda: dict.fromkeys(PATHS, 0))
    memory: list[tuple[int, dict[int, int]]] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    def wrk(self, server: Server, path: str, requests: Path, seconds: int) -> Run:
        if time.monotonic() + seconds + 10 > self.deadline:
            raise BenchError("the --deadline is too close for another wrk run")
        o, wrk = self.options, shutil.which("wrk") or "wrk"
        done = subprocess.run(  # noqa: S603 (wrk, fixed arguments)
            [wrk, "-t", str(o.threads), "-c", str(o.connections), "-d", f"{seconds}s",
             "--timeout", "30s", "-s", str(LUA), f"{server.url}/", "--", str(requests),
             str(o.threads)],
            capture_output=True, text=True, timeout=seconds + 60, check=False,
        )  # fmt: skip
        marked = [line for line in done.stdout.splitlines() if line.startswith("BENCH-RESULT ")]
        if not marked:
            raise BenchError(f"wrk printed no result: {done.stdout[-1000:]}{done.stderr[-1000:]}")
        run = Run(**json.loads(marked[0].removeprefix("BENCH-RESULT ")))
        problems = [f"non-2xx answers {run.non_2xx}"] if run.non_2xx else []
        problems += [f"{run.socket_errors} socket errors"] if run.socket_errors else []
        problems += ["no answers"] if not run.requests else []
        for problem in problems:
            self.failures.append(f"{server.name} {path}: {problem}")
            print(f"  FAILURE {server.name} {path}: {problem}", flush=True)
        if server is self.ours:
            self.answered[path] += run.answered
            self.rates[path] = max(self.rates[path], run.rate)
        return run

    def file(self, path: str, seconds: float) -> Path:
        """New requests for ``path``, enough for ours at its fastest rate for ``seconds``."""
        count = math.ceil(self.rates[path] * seconds * SPARE) + EXTRA
        if path == "sms":
            return self.requests.sms(count)
        if path == "inbound":
            return self.requests.inbound(count)
        messages = self.requests.unused_messages(math.ceil(count / 2))
        while len(messages) < math.ceil(count / 2):  # more sends first, for their callbacks
            missing = math.ceil(count / 2) - len(messages)
            print(f"  sending {missing} more SMS for their status callbacks", flush=True)
            seconds_needed = math.ceil(1.2 * missing / self.rates["sms"])
            self.wrk(self.ours, "sms", self.file("sms", seconds_needed), seconds_needed)
            messages = self.requests.unused_messages(math.ceil(count / 2))
        return self.requests.status(messages)

    def timed(self, server: Server, path: str, requests: Path) -> Run:
        """A measured run, with the CPU time per request of the server and of PostgreSQL."""
        workers = proc.children(server.process.pid)
        with self.requests.engine.connect() as connection:
            backends = list(connection.execute(text(
                "SELECT pid FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )).scalars())  # fmt: skip
        before = proc.cpu_seconds(workers), proc.cpu_seconds(backends)
        run = self.wrk(server, path, requests, self.options.duration)
        per_request = 1000 / max(run.requests, 1)
        return replace(run, cpu=(
            (proc.cpu_seconds(workers) - before[0]) * per_request,
            (proc.cpu_seconds(backends) - before[1]) * per_request,
        ))  # fmt: skip

    def drive_ours(self, requests_per_worker: int) -> None:
        """Every path, to ours (and in the warm-up the baseline too), until ours's workers have
        answered about ``requests_per_worker`` each; then an RSS reading of each worker."""
        goal = requests_per_worker * self.options.workers
        for path in PATHS:
            while (missing := goal / len(PATHS) - self.answered[path]) > 0:
                seconds = max(1, min(10, math.ceil(missing / self.rates[path])))
                requests = self.file(path, seconds)
                ours = self.wrk(self.ours, path, requests, seconds)
                line = f"  {path}: ours {ours.rate:.0f}/s"
                if not self.memory:
                    unmetered = self.wrk(
                        self.unmetered, path, self.own_requests(path, requests, seconds), seconds
                    )
                    line += (
                        f", without metrics {unmetered.rate:.0f}/s"
                        f", baseline {self.wrk(self.baseline, path, requests, seconds).rate:.0f}/s"
                    )
                print(line, flush=True)
        pids = proc.children(self.ours.process.pid)
        self.memory.append((sum(self.answered.values()), {p: proc.resident_kib(p) for p in pids}))
        sizes = ", ".join(f"{kib / 1024:.1f}" for kib in self.memory[-1][1].values())
        print(f"  our workers' RSS after {self.memory[-1][0]} requests: {sizes} MiB", flush=True)

    def own_requests(self, path: str, requests: Path, seconds: float) -> Path:
        """``requests`` for the second of our servers on the database: a webhook it saw before
        would find its work done, so webhooks are new ones."""
        return requests if path == "sms" else self.file(path, seconds)

    def measure(self, path: str, number: int) -> None:
        """One round: every server on the same requests (ours without metrics on webhooks of its
        own), who goes first rotating. When one of ours outran the file (and got repeats), the
        round is run again with as many as it needs."""
        servers = [self.ours, self.unmetered, self.baseline]
        order = servers[number % 3 :] + servers[: number % 3]
        for last_try in (False, True):
            requests = self.file(path, self.options.duration)
            own = self.own_requests(path, requests, self.options.duration)
            runs = {
                server.name: self.timed(server, path, own if server is self.unmetered else requests)
                for server in order
            }
            ours, unmetered, baseline = runs["ours"], runs["unmetered"], runs["baseline"]
            repeated = {"ours": ours.repeated, "unmetered": unmetered.repeated}
            if not (path != "sms" and any(repeated.values())) or last_try:
                break
            print(f"  ours needed more than {requests.name}'s requests: the round again")
        for name, count in repeated.items():
            if path != "sms" and count:
                self.failures.append(f"{name} {path}: {count} request(s) sent more than once")
        self.rounds[path].append((ours, baseline))
        self.unmetered_rounds[path].append((unmetered, baseline))
        print(
            f"{path} round {number + 1}/{self.options.rounds}: ours {describe(ours)};"
            f" without metrics {describe(unmetered)}; baseline {describe(baseline)};"
            f" ratio {ratio(ours, baseline):.2f}"
            f" (without metrics {ratio(unmetered, baseline):.2f})",
            flush=True,
        )

    def check_records(self) -> None:
        """Every request ours answered is on record, with its activity and its event."""
        with self.requests.engine.connect() as connection:
            found = connection.execute(text(
                "SELECT (SELECT count(*) FROM text_messages WHERE direction = 'outbound') AS sms,"
                " (SELECT count(*) FROM status_callbacks) AS status,"
                " (SELECT count(*) FROM text_messages WHERE direction = 'inbound') AS inbound,"
                " (SELECT count(*) FROM text_messages m LEFT JOIN activities a"
                "   ON a.text_message_id = m.id LEFT JOIN events e ON e.activity_id = a.id"
                "   WHERE e.id IS NULL OR (m.direction = 'outbound' AND m.twilio_sid IS NULL))"
                " AS incomplete"
            )).mappings().one()  # fmt: skip
        lost = [f"{path}: {found[path]} on record for {self.answered[path]} answered"
                for path in PATHS if found[path] < self.answered[path]]  # fmt: skip
        if found["incomplete"]:
            lost.append(f"{found['incomplete']} message(s) without a sid, activity or event")
        self.failures += [f"records: {problem}" for problem in lost]
        print("records: " + ("; ".join(lost) or "every answered request on record, complete"))

    def run(self) -> None:
        print("warm-up: every path to each server", flush=True)
        self.drive_ours(self.options.memory_requests // 10)
        # Fresh planner statistics, as autovacuum keeps them on a server up for a minute: the
        # warm-up grew empty tables, and plans made for empty tables measure a new database.
        with self.requests.engine.connect() as connection:
            connection.execute(text("ANALYZE"))
            connection.commit()
        for path in PATHS:
            for number in range(self.options.rounds):
                self.measure(path, number)
        print("memory: more requests to ours", flush=True)
        self.drive_ours(self.options.memory_requests)
        self.check_records()
        for server in (self.ours, self.unmetered, self.baseline):
            if server.process.poll() is not None:
                self.failures.append(f"{server.name} exited ({server.process.returncode})")
            if errors := server.log_errors():
                self.failures.append(f"{len(errors)} error line(s) in {server.name}'s log")
                print(f"{server.name}'s log errors (first 10):", *errors[:10], sep="\n  ")


def describe(run: Run) -> str:
    return f"{run.rate:.1f}/s (p50 {run.p50_ms:.1f} ms, p99 {run.p99_ms:.1f} ms)"


def ratio(ours: Run, baseline: Run) -> float:
    return ours.rate / baseline.rate if baseline.rate else 0.0


def metrics_cost(bench: Bench, path: str) -> float:
    """What metrics take off the ratio: the median, over the rounds, of the ratio without them
    minus the ratio with them (a round's two runs share its baseline and its moment)."""
    return statistics.median(
        ratio(*without) - ratio(*with_them)
        for with_them, without in zip(bench.rounds[path], bench.unmetered_rounds[path], strict=True)
    )


def metrics_cpu_ms(bench: Bench, path: str) -> tuple[float, float]:
    """Our workers' CPU ms per request with metrics and without (medians of the rounds)."""
    median = statistics.median
    with_them = median(ours.cpu[0] for ours, _ in bench.rounds[path] if ours.cpu)
    without = median(ours.cpu[0] for ours, _ in bench.unmetered_rounds[path] if ours.cpu)
    return with_them, without


def setting_up(stack: ExitStack, options: argparse.Namespace, deadline: float) -> Bench:
    """A fresh database with a coordinator and patients, both servers on it."""
    admin = create_engine(options.postgres_url, isolation_level="AUTOCOMMIT")
    stack.callback(admin.dispose)
    database_url = stack.enter_context(own_database(admin, "ecm_bench"))
    workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="ecm-bench-")))
    ours_port, baseline_port, unmetered_port = free_port(), free_port(), free_port()
    ours_url, auth_token = f"http://127.0.0.1:{ours_port}", secrets.token_hex(16)
    env = clean_environment(
        ECM_DATABASE_URL=database_url, ECM_GATEWAY="simulated", ECM_PUBLIC_BASE_URL=ours_url,
        TWILIO_AUTH_TOKEN=auth_token, TWILIO_FROM_NUMBER=CLINIC_NUMBER,
    )  # fmt: skip
    print("setting up: database, user and patients", flush=True)
    run_cli("db", "upgrade", env=env)
    created = run_cli(
        "users", "create", "--id", "1", "--clinic-id", "1", "--name", "Bench", env=env
    )
    for patient, phone in PATIENTS.items():
        run_cli("patients", "upsert", "--id", str(patient), "--clinic-id", "1", "--phone", phone,
                "--coordinator-id", "1", env=env)  # fmt: skip
    workers = ("--host", "127.0.0.1", "--workers", str(options.workers))
    ours = stack.enter_context(served("serve", *workers, port=ours_port, env=env, cwd=workdir))
    unmetered = stack.enter_context(served(
        "serve", *workers, port=unmetered_port, env=env | {"ECM_METRICS": "off"},
        cwd=workdir, name="unmetered",
    ))  # fmt: skip
    baseline = stack.enter_context(served(
        "--database-url", database_url, *workers, port=baseline_port,
        env=clean_environment(PYTHONPATH=str(REPO)),
        cwd=workdir, program=(sys.executable, "-m", "benchmarks.baseline_app"), name="baseline",
    ))  # fmt: skip
    engine = create_engine(database_url)
    stack.callback(engine.dispose)
    user_token = created.strip().splitlines()[-1]
    requests = Requests(workdir, engine, user_token, ours_url, RequestValidator(auth_token))
    return Bench(
        options, deadline,
        Server("ours", ours_url, ours, (workdir / "server.out", workdir / "server.err")),
        Server("baseline", f"http://127.0.0.1:{baseline_port}", baseline,
               (workdir / "baseline.out", workdir / "baseline.err")),
        Server("unmetered", f"http://127.0.0.1:{unmetered_port}", unmetered,
               (workdir / "unmetered.out", workdir / "unmetered.err")),
        requests,
    )  # fmt: skip


def report(bench: Bench) -> tuple[list[str], bool]:
    """The table, CPU and memory lines, the targets; and whether every target was met."""
    rounds, median = bench.rounds, statistics.median
    lines = [
        f"results: medians of {bench.options.rounds} round(s); ratio: the median of the rounds'"
        " ours/baseline",
        f"{'path':<8} {'ours rps':>9} {'p50 ms':>7} {'p99 ms':>7}   {'baseline rps':>12}"
        f" {'p50 ms':>7} {'p99 ms':>7}   {'ratio':>5}",
    ]
    for path in PATHS:
        sides = [[runs[side] for runs in rounds[path]] for side in (0, 1)]
        figures = [median(getattr(r, f) for r in side) for side in sides
                   for f in ("rate", "p50_ms", "p99_ms")]  # fmt: skip
        lines.append(f"{path:<8} {figures[0]:>9.1f} {figures[1]:>7.1f} {figures[2]:>7.1f}   "
                     f"{figures[3]:>12.1f} {figures[4]:>7.1f} {figures[5]:>7.1f}   "
                     f"{median(ratio(*runs) for runs in rounds[path]):>5.2f}")  # fmt: skip
    lines += [
        "cpu per request in ms (medians of the rounds): the server's gunicorn workers, and the "
        "PostgreSQL backends while it ran",
        f"{'path':<8} {'ours':>8} {'postgres':>8} {'baseline':>8} {'postgres':>8}",
    ]
    for path in PATHS:
        cpu = [median(run.cpu[part] for run in (r[side] for r in rounds[path]) if run.cpu)
               for side in (0, 1) for part in (0, 1)]  # fmt: skip
        lines.append(f"{path:<8}" + "".join(f" {ms:>8.2f}" for ms in cpu))
    (first, before), (last, after) = bench.memory[0], bench.memory[-1]
    lines.append(f"memory: our workers' RSS after {first} and {last} requests (all workers):")
    growth = None
    if set(before) == set(after):
        growths = [100 * (after[pid] - kib) / kib for pid, kib in before.items()]
        growth = max(growths)
        lines += [f"  worker {pid}: {kib / 1024:.1f} MiB -> {after[pid] / 1024:.1f} MiB"
                  f" ({change:+.1f}%)" for (pid, kib), change in zip(before.items(), growths,
                                                                       strict=True)]  # fmt: skip
    else:
        lines.append("  the workers changed between the readings (restarted?)")
    lines.append("targets:")
    met = []
    for path in PATHS:
        value = median(ratio(*runs) for runs in rounds[path])
        met.append(value >= TARGETS[path])
        lines.append(f"  {path:<8} ratio {value:.2f} >= {TARGETS[path]:.2f}: "
                     f"{'met' if met[-1] else 'MISSED'}")  # fmt: skip
    met.append(growth is not None and growth <= MEMORY_GROWTH_TARGET)
    shown = "unknown" if growth is None else f"{growth:+.1f}%"
    lines.append(f"  memory   largest worker growth {shown} <= {MEMORY_GROWTH_TARGET:.0f}%: "
                 f"{'met' if met[-1] else 'MISSED'}")  # fmt: skip
    lines.append(
        "metrics: what they take off the ratio (median of the rounds' ratio without them, "
        "ECM_METRICS=off, minus with them), and our workers' CPU ms per request with and without:"
    )
    for path in PATHS:
        with_them, without = metrics_cpu_ms(bench, path)
        lines.append(f"  {path:<8} {metrics_cost(bench, path):+.2f}   cpu {with_them:.2f} ms"
                     f" with, {without:.2f} ms without")  # fmt: skip
    return lines, all(met)


def main(argv: Sequence[str] | None = None) -> int:
    options = parse_options(argv)
    if shutil.which("wrk") is None:
        print("bench: wrk is not installed (Debian/Ubuntu: apt-get install -y wrk)")
        return 1
    deadline = time.monotonic() + options.deadline
    busy = proc.busy_percent()
    if busy > BUSY_PERCENT:
        print(f"bench: the machine is busy ({busy:.0f}% of its CPU in use): expect noisy numbers")
    print(
        f"bench: {options.workers} workers each, wrk {options.threads} thread(s) x "
        f"{options.connections} connections, {options.duration} s x {options.rounds} round(s) "
        f"per path and server",
        flush=True,
    )
    try:
        with ExitStack() as stack:
            bench = setting_up(stack, options, deadline)
            bench.run()
    except (
        BenchError,
        SQLAlchemyError,
        OSError,
        RuntimeError,
        subprocess.SubprocessError,
    ) as error:
        print(f"bench: FAILED, could not run: {error}")
        return 1
    lines, met_all = report(bench)
    print(*lines, sep="\n")
    if bench.failures:
        print(f"bench: FAILED ({len(bench.failures)} problem(s)):", *bench.failures, sep="\n  ")
    rounds = bench.rounds
    print(
        " ".join(f"{p}={statistics.median(ratio(*r) for r in rounds[p]):.2f}" for p in PATHS),
        " ".join(f"{p}_metrics_cost={metrics_cost(bench, p):.2f}" for p in PATHS),
    )
    if bench.failures:
        return 1
    return 2 if options.require_targets and not met_all else 0


if __name__ == "__main__":
    sys.exit(main())
