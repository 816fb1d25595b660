"""The worker path against the direct path, on PostgreSQL: ``make bench`` (README: Benchmark).

A fresh database (dropped at the end) with a clinic of --patients patients, and a local Twilio
stand-in. First the direct path: ``ecm-comms serve`` (--server-workers gunicorn workers) takes one
``POST …/patients/{id}/sms`` per patient, driven by wrk, each request sent once. Then the worker
path: --workers ``ecm-comms worker`` processes send one campaign to every patient, timed from
the ``POST …/campaigns`` to the last SMS handed to Twilio. For each: messages per second and the
CPU time per message of our processes and of PostgreSQL's backends; then the ratio, against the
target of 0.8. Then the records: every patient has exactly one campaign SMS, handed to Twilio once,
with its activity and event (none doubled, none lost).

    python -m benchmarks.campaign [--patients 10000] [--workers 2] [--threads 4]
        [--server-workers 2] [--connections 8] [--quick] [--require-target]

Exit status 1 on a failed request, a doubled or lost message, or an error in a log; 2 on a
missed target with --require-target.
"""

from __future__ import annotations

import argparse
import json
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine, create_engine, insert, text
from sqlalchemy.engine import make_url

from benchmarks import proc
from benchmarks.databases import own_database
from benchmarks.served import ECM_COMMS, clean_environment, free_port, run_cli, served
from benchmarks.twilio_standin import RunningStandIn, TwilioStandIn
from ecm_comms.adapters.sql import tables

LUA = Path(__file__).with_name("once.lua")
API = "/v1/clinic/ecm/communications"
TARGET = 0.8  # the worker path's rate over the direct path's
ACCOUNT_SID = "AC" + "0" * 32
CLINIC_NUMBER = "+18059876543"
FIRST_PATIENT = 1_000_001
STALL_SECONDS = 5.0
ERROR_MARKS = ("ERROR", "CRITICAL", "Traceback")


class BenchError(Exception):
    """The run could not be made."""


@dataclass(frozen=True)
class Measured:
    """One path's measurement: messages, seconds, CPU ms per message (ours, PostgreSQL)."""

    name: str
    messages: int
    seconds: float
    ours_cpu_ms: float
    postgres_cpu_ms: float

    @property
    def rate(self) -> float:
        return self.messages / self.seconds if self.seconds else 0.0

    def describe(self) -> str:
        return (
            f"{self.name}: {self.messages} messages in {self.seconds:.1f} s = {self.rate:.0f}/s; "
            f"CPU per message {self.ours_cpu_ms:.2f} ms ours + {self.postgres_cpu_ms:.2f} ms "
            "PostgreSQL"
        )


def parse_options(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=(__doc__ or "").splitlines()[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--patients", type=int, default=10_000, help="messages on each path")
    parser.add_argument("--workers", type=int, default=2, help="ecm-comms worker processes")
    parser.add_argument("--threads", type=int, default=4, help="threads of each worker")
    parser.add_argument("--server-workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--connections", type=int, default=8, help="wrk's open connections")
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds for each path")
    parser.add_argument(
        "--postgres-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
    )
    parser.add_argument("--quick", action="store_true", help="a smoke run of 300 patients")
    parser.add_argument(
        "--require-target", action="store_true", help="exit with status 2 on a missed target"
    )
    options = parser.parse_args(argv)
    if options.quick:
        options.patients = 300
    if min(options.patients, options.workers, options.threads, options.server_workers) < 1:
        parser.error("--patients, --workers, --threads and --server-workers must be at least 1")
    if options.patients > 10_000:
        parser.error("--patients is at most 10000, a campaign's largest")
    if make_url(options.postgres_url).host != "127.0.0.1":
        parser.error("--postgres-url must be on 127.0.0.1 (the bench contacts nothing else)")
    return options


def daytime_zone(now: datetime) -> str:
    """A fixed-offset zone where it is about noon now, so that the send window is open."""
    offset = (12 - now.hour + 12) % 24 - 12  # hours east of UTC, -12 … 11
    # The Etc/GMT zones count the other way: Etc/GMT-2 is two hours east.
    return "Etc/GMT" if offset == 0 else f"Etc/GMT{-offset:+d}"


@dataclass
class Bench:
    options: argparse.Namespace
    workdir: Path
    engine: Engine
    env: dict[str, str]
    twilio: TwilioStandIn
    token: str
    failures: list[str]

    def add_patients(self) -> list[int]:
        zone = daytime_zone(datetime.now(UTC))
        now = datetime.now(UTC)
        ids = list(range(FIRST_PATIENT, FIRST_PATIENT + self.options.patients))
        with self.engine.begin() as connection:
            connection.execute(
                insert(tables.patients),
                [
                    {"id": i, "clinic_id": 1, "first_name": f"P{i}", "timezone": zone,
                     "updated_at": now, "coordinator_id": 1}
                    for i in ids
                ],
            )  # fmt: skip
            connection.execute(
                insert(tables.patient_phones),
                [{"patient_id": i, "phone": phone(i), "position": 0} for i in ids],
            )
        return ids

    def direct_sends(self) -> tuple[int, float]:
        """The SMS sent so far, and the seconds from the first recorded to the last answered:
        the server's own account of the run, whatever wrk's tail."""
        with self.engine.connect() as connection:
            row = connection.execute(
                text(
                    "SELECT count(*) AS sent, min(created_at) AS first, max(updated_at) AS last"
                    " FROM text_messages WHERE twilio_sid IS NOT NULL"
                )
            ).one()
        seconds = (row.last - row.first).total_seconds() if row.sent else 0.0
        return int(row.sent), seconds

    def postgres_backends(self) -> list[int]:
        with self.engine.connect() as connection:
            return list(
                connection.execute(
                    text(
                        "SELECT pid FROM pg_stat_activity"
                        " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                    )
                ).scalars()
            )

    def direct(self, server: subprocess.Popen[str], url: str, ids: list[int]) -> Measured:
        lines = [
            "\t".join(
                (
                    f"{API}/patients/{i}/sms",
                    "application/json",
                    "X-User-Token",
                    self.token,
                    json.dumps({"sms": {"phone_number": phone(i), "body": f"Reminder for {i}."}}),
                )
            )
            for i in ids
        ]
        requests = self.workdir / "direct.requests"
        requests.write_text("\n".join(lines) + "\n")
        workers = proc.children(server.pid)
        backends = self.postgres_backends()
        before = proc.cpu_seconds(workers), proc.cpu_seconds(backends)
        wrk = subprocess.Popen(  # noqa: S603 (wrk, fixed arguments)
            [shutil.which("wrk") or "wrk", "-t", "1", "-c", str(self.options.connections),
             "-d", f"{int(self.options.timeout)}s", "--timeout", "30s", "-s", str(LUA),
             f"{url}/", "--", str(requests), "1"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        # wrk may be left holding a request a closing connection swallowed: the run is over
        # when every SMS is on record, or when none has been added for a few seconds.
        recorded, last_change = 0, time.monotonic()
        while wrk.poll() is None and recorded < len(ids):
            time.sleep(0.5)
            now_recorded = self.direct_sends()[0]
            if now_recorded != recorded:
                recorded, last_change = now_recorded, time.monotonic()
            elif time.monotonic() - last_change > STALL_SECONDS:
                break
        _stop(wrk)
        backends = sorted(set(backends) | set(self.postgres_backends()))
        recorded, seconds = self.direct_sends()
        if recorded < len(ids) - self.options.connections:
            self.failures.append(f"direct path: only {recorded} of {len(ids)} SMS on record")
        print(f"  direct path: {recorded} of {len(ids)} SMS on record", flush=True)
        per = 1000 / max(recorded, 1)
        return Measured(
            "direct (POST …/sms)",
            recorded,
            seconds,
            (proc.cpu_seconds(workers) - before[0]) * per,
            (proc.cpu_seconds(backends) - before[1]) * per,
        )

    def by_workers(self, server: subprocess.Popen[str], url: str, ids: list[int]) -> Measured:
        with self.workers() as workers:
            pids = [w.pid for w in workers] + proc.children(server.pid)
            backends = self.postgres_backends()
            before = proc.cpu_seconds(pids), proc.cpu_seconds(backends)
            started = time.monotonic()
            campaign = self.post(url, f"{API}/campaigns", {"campaign": {
                "name": "Bench", "body": "Hi {{first_name}}, your appointment is tomorrow.",
                "patient_ids": ids,
            }})["campaign"]  # fmt: skip
            created = time.monotonic() - started
            print(f"  campaign {campaign['id']} created in {created:.1f} s", flush=True)
            while self.scheduled(campaign["id"]):
                if time.monotonic() - started > self.options.timeout:
                    raise BenchError("the workers did not finish the campaign in time")
                if any(w.poll() is not None for w in workers):
                    raise BenchError("a worker exited during the campaign")
                time.sleep(0.25)
            seconds = time.monotonic() - started
            backends = sorted(set(backends) | set(self.postgres_backends()))
            per = 1000 / len(ids)
            return Measured(
                f"campaign ({self.options.workers} workers of {self.options.threads} threads)",
                len(ids),
                seconds,
                (proc.cpu_seconds(pids) - before[0]) * per,
                (proc.cpu_seconds(backends) - before[1]) * per,
            )

    @contextmanager
    def workers(self) -> Iterator[list[subprocess.Popen[str]]]:
        with ExitStack() as stack:
            started = []
            for number in range(self.options.workers):
                log = stack.enter_context(open(self.workdir / f"worker{number}.err", "w+"))
                process = subprocess.Popen(  # noqa: S603 (our own console script)
                    [ECM_COMMS, "worker", "--threads", str(self.options.threads)],
                    env=self.env, cwd=self.workdir, stdout=log, stderr=log, text=True,
                )  # fmt: skip
                stack.callback(_stop, process)
                started.append(process)
            self.wait_for_logs("ecm-comms worker:", self.options.workers)
            yield started

    def wait_for_logs(self, mark: str, count: int) -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            logs = [p.read_text() for p in self.workdir.glob("worker*.err")]
            if sum(mark in log for log in logs) >= count:
                return
            time.sleep(0.1)
        raise BenchError("the workers did not start")

    def post(self, url: str, path: str, body: object) -> dict[str, object]:
        request = urllib.request.Request(  # noqa: S310 (a loopback URL of ours)
            url + path,
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json", "X-User-Token": self.token},
        )
        with urllib.request.urlopen(request, timeout=120) as answer:  # noqa: S310
            result: dict[str, object] = json.load(answer)
            return result

    def scheduled(self, campaign_id: int) -> int:
        with self.engine.connect() as connection:
            return int(
                connection.execute(
                    text(
                        "SELECT count(*) FROM automated_sms"
                        " WHERE campaign_id = :c AND outcome = 'scheduled'"
                    ),
                    {"c": campaign_id},
                ).scalar_one()
            )

    def check_records(self, ids: list[int], twilio_before: int) -> list[str]:
        """Every patient: one campaign SMS, handed to Twilio once, with activity and event."""
        problems = []
        handed = Counter(r.field("To") for r in self.twilio.requests[twilio_before:])
        doubles = sum(1 for count in handed.values() if count > 1)
        with self.engine.connect() as connection:
            row = connection.execute(text(
                "SELECT count(*) AS records, count(m.twilio_sid) AS with_sid,"
                " count(DISTINCT a.patient_id) AS patients, count(e.id) AS events"
                " FROM automated_sms a JOIN text_messages m ON m.id = a.sms_id"
                " LEFT JOIN activities ac ON ac.text_message_id = m.id"
                " LEFT JOIN events e ON e.activity_id = ac.id"
                " WHERE a.campaign_id IS NOT NULL AND a.outcome = 'sent'"
            )).one()  # fmt: skip
        lost = len(ids) - min(row.with_sid, row.events, len(handed))
        print(
            f"  records: {row.records} campaign SMS sent for {row.patients} patients, "
            f"{row.with_sid} with Twilio's sid, {row.events} events; "
            f"Twilio saw {len(handed)} numbers: {doubles} doubled, {lost} lost",
            flush=True,
        )
        if row.records != len(ids) or row.patients != len(ids):
            problems.append(f"{row.records} campaign SMS for {row.patients} of {len(ids)}")
        if doubles:
            problems.append(f"{doubles} numbers got the campaign SMS more than once")
        if lost:
            problems.append(f"{lost} campaign SMS lost")
        return problems

    def log_errors(self) -> list[str]:
        lines = [
            line for log in self.workdir.glob("*.err") for line in log.read_text().splitlines()
        ]
        return [line for line in lines if any(mark in line for mark in ERROR_MARKS)]


def phone(patient_id: int) -> str:
    return f"+1805{patient_id % 10_000_000:07d}"


def _stop(process: subprocess.Popen[str]) -> None:
    process.terminate()
    try:
        process.wait(timeout=40)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def main(argv: Sequence[str] | None = None) -> int:
    options = parse_options(argv)
    if shutil.which("wrk") is None:
        print("wrk is missing (Debian/Ubuntu: apt-get install wrk)", file=sys.stderr)
        return 1
    with ExitStack() as stack:
        server_engine = create_engine(options.postgres_url, isolation_level="AUTOCOMMIT")
        stack.callback(server_engine.dispose)
        database_url = stack.enter_context(own_database(server_engine, "ecm_bench_campaign"))
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="ecm-campaign-")))
        twilio = stack.enter_context(RunningStandIn())
        env = clean_environment(
            ECM_DATABASE_URL=database_url, ECM_GATEWAY="twilio",
            TWILIO_ACCOUNT_SID=ACCOUNT_SID, TWILIO_AUTH_TOKEN=secrets.token_hex(16),
            TWILIO_FROM_NUMBER=CLINIC_NUMBER, TWILIO_API_BASE_URL=twilio.base_url,
        )  # fmt: skip
        print(f"setting up: database, user and {options.patients} patients", flush=True)
        run_cli("db", "upgrade", env=env)
        created = run_cli(
            "users", "create", "--id", "1", "--clinic-id", "1", "--name", "Bench", env=env
        )
        engine = create_engine(database_url)
        stack.callback(engine.dispose)
        bench = Bench(options, workdir, engine, env, twilio, created.strip().splitlines()[-1], [])
        ids = bench.add_patients()
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        server = stack.enter_context(served(
            "serve", "--host", "127.0.0.1", "--workers", str(options.server_workers),
            port=port, env=env, cwd=workdir,
        ))  # fmt: skip
        try:
            direct = bench.direct(server, url, ids)
            print(direct.describe(), flush=True)
            twilio_before = len(twilio.requests)
            by_workers = bench.by_workers(server, url, ids)
            print(by_workers.describe(), flush=True)
        except BenchError as error:
            print(f"FAILURE: {error}", file=sys.stderr)
            return 1
        problems = bench.failures + bench.check_records(ids, twilio_before)
        problems += [f"log: {line}" for line in bench.log_errors()]
    ratio = by_workers.rate / direct.rate if direct.rate else 0.0
    cpu_ratio = (by_workers.ours_cpu_ms + by_workers.postgres_cpu_ms) / (
        direct.ours_cpu_ms + direct.postgres_cpu_ms or 1
    )
    met = ratio >= TARGET
    print(f"target: the worker path at least {TARGET} of the direct path's rate: "
          f"{'met' if met else 'MISSED'}", flush=True)  # fmt: skip
    # The last line, for scripts: the ratios alone.
    print(f"campaign_vs_direct={ratio:.2f} campaign_cpu_vs_direct={cpu_ratio:.2f}", flush=True)
    for problem in problems:
        print(f"FAILURE: {problem}", file=sys.stderr)
    if problems:
        return 1
    return 2 if options.require_target and not met else 0


if __name__ == "__main__":
    sys.exit(main())
