"""The compliance reports at scale, against PostgreSQL's own COPY: ``make bench`` runs it last.

A fresh PostgreSQL database (dropped at the end) holding --communications SMS and calls of one
clinic, each with its activity and event, a tenth of them in the reported month (July 2024 in
the clinic's zone); ``ecm-comms serve`` on it. Measured in the same run, medians of --rounds:

- ``COPY (SELECT the month's events joined to their activities and communications) TO STDOUT``,
  the floor: the database handing over the same rows with no application at all;
- ``POST /v1/admin/clinic/ecm/prtf_reports`` for that month (target: at most 2x COPY's time);
- ``GET /v1/admin/clinic/ecm/outreach_attempts.csv`` for that month, read to the end (target:
  at least 0.5x COPY's rows per second), with the serving worker's resident memory sampled
  while it streams (flat: it must not grow with the month).

    python -m benchmarks.reports [--communications 1000000] [--rounds 3] [--quick]

The last line is the two ratios and the memory growth, e.g. ``prtf_vs_copy=1.42
attempts_vs_copy=0.61 attempts_rss=+1.2%``. Exit status 1 when a request fails.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from pathlib import Path

import psycopg
import requests
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from benchmarks import proc
from benchmarks.databases import own_database
from benchmarks.served import clean_environment, free_port, run_cli, served

ADMIN = "/v1/admin/clinic/ecm"
MONTH = ("2024-07-01", "2024-07-31")
PATIENTS, COORDINATORS = 5_000, 10
PRTF_TARGET, ATTEMPTS_TARGET = 2.0, 0.5
# The month's events joined as the reports read them: what COPY hands over as the floor.
MONTH_ROWS = """
SELECT e.id, e.activity_id, e.patient_id, e.event_type, e.occurred_at,
       coalesce(t.direction, v.direction), coalesce(t.status, v.status), v.duration_seconds,
       a.performed_by_id, a.assigned_to_id, p.member_id
FROM events e
JOIN activities a ON a.id = e.activity_id
LEFT JOIN text_messages t ON t.id = a.text_message_id
LEFT JOIN voice_calls v ON v.id = a.voice_call_id
JOIN patients p ON p.id = e.patient_id
WHERE e.clinic_id = 1
  AND e.occurred_at >= timestamptz '2024-07-01 00:00 America/Los_Angeles'
  AND e.occurred_at < timestamptz '2024-08-01 00:00 America/Los_Angeles'
ORDER BY e.occurred_at, e.id
"""
# Every tenth block of ten communications falls in July 2024 (a quarter hour apart, so the
# month is full); the rest spread over the year before it.
AT = """CASE WHEN (g / 10) % 10 = 0
  THEN timestamptz '2024-07-01 00:05 America/Los_Angeles' + (g % 2976) * interval '15 minutes'
  ELSE timestamptz '2023-06-01 12:00 UTC' + (g % 390) * interval '1 day' END"""
IS_CALL = "g % 10 >= 7"  # three in ten are calls
DIRECTION = "CASE WHEN g % 4 = 0 THEN 'inbound' ELSE 'outbound' END"
PERFORMER = f"CASE WHEN g % 4 = 0 THEN NULL ELSE 100 + g % {COORDINATORS} END"
SEED = [
    f"""INSERT INTO users (id, clinic_id, name, created_at, role)
        SELECT 100 + g, 1, 'Coordinator ' || g, now(), 'coordinator'
        FROM generate_series(0, {COORDINATORS - 1}) g""",
    f"""INSERT INTO patients (id, clinic_id, name, coordinator_id, updated_at, member_id,
                              first_name, last_name, date_of_birth)
        SELECT g, 1, 'Patient ' || g, 100 + g % {COORDINATORS}, now(),
               '9' || lpad(g::text, 7, '0') || 'A', 'First' || g, 'Last' || g,
               date '1950-01-01' + g % 20000
        FROM generate_series(1, {PATIENTS}) g""",
    f"""INSERT INTO text_messages (id, clinic_id, patient_id, direction, to_number, from_number,
                                   body, status, twilio_sid, sent_by_id, created_at, updated_at)
        SELECT g, 1, 1 + g % {PATIENTS}, {DIRECTION}, '+18055550100', '+18059876543',
               'Reminder', CASE WHEN g % 4 = 0 THEN 'received' ELSE 'delivered' END,
               'SM' || lpad(to_hex(g), 32, '0'), {PERFORMER}, {AT}, {AT}
        FROM generate_series(1, :n) g WHERE NOT ({IS_CALL})""",
    f"""INSERT INTO voice_calls (id, clinic_id, patient_id, direction, to_number, from_number,
                                 status, twilio_sid, sent_by_id, duration_seconds, created_at,
                                 updated_at)
        SELECT g, 1, 1 + g % {PATIENTS}, {DIRECTION}, '+18055550100', '+18059876543',
               CASE WHEN g % 3 = 0 THEN 'no-answer' ELSE 'completed' END,
               'CA' || lpad(to_hex(g), 32, '0'), {PERFORMER},
               CASE WHEN g % 3 = 0 THEN NULL WHEN g % 3 = 1 THEN 300 ELSE 30 END, {AT}, {AT}
        FROM generate_series(1, :n) g WHERE {IS_CALL}""",
    f"""INSERT INTO activities (id, clinic_id, activity_type, status, patient_id, performed_by_id,
                                assigned_to_id, text_message_id, voice_call_id, created_at)
        SELECT g, 1, CASE WHEN {IS_CALL} THEN 'call' ELSE 'sms' END, 'created',
               1 + g % {PATIENTS}, {PERFORMER}, 100 + g % {COORDINATORS},
               CASE WHEN {IS_CALL} THEN NULL ELSE g END, CASE WHEN {IS_CALL} THEN g END, {AT}
        FROM generate_series(1, :n) g""",
    f"""INSERT INTO events (id, clinic_id, event_type, occurred_at, patient_id, activity_id)
        SELECT g, 1, CASE WHEN {IS_CALL} THEN 'call' ELSE 'sms' END, {AT}, 1 + g % {PATIENTS}, g
        FROM generate_series(1, :n) g""",
]
SEQUENCES = ("text_messages", "voice_calls", "activities", "events")


def parse_options(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.reports", description=__doc__)
    parser.add_argument("--communications", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--postgres-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
    )
    parser.add_argument("--quick", action="store_true", help="20,000 communications, 1 round")
    options = parser.parse_args(argv)
    if options.quick:
        options.communications, options.rounds = 20_000, 1
    return options


def seeded(database_url: str, communications: int) -> None:
    engine = create_engine(database_url)
    with engine.begin() as connection:
        for statement in SEED:
            connection.execute(text(statement), {"n": communications})
        for table in SEQUENCES:
            connection.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), max(id)) FROM {table}"
                )
            )
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("ANALYZE"))
    engine.dispose()


def copy_month(database_url: str) -> tuple[float, int]:
    """COPY's time for the month's rows, and how many rows it handed over."""
    url = make_url(database_url).set(drivername="postgresql")
    with psycopg.connect(url.render_as_string(hide_password=False)) as connection:
        started, rows = time.perf_counter(), 0
        with connection.cursor().copy(f"COPY ({MONTH_ROWS}) TO STDOUT") as copy:
            for _ in copy.rows():
                rows += 1
        return time.perf_counter() - started, rows


def timed(action: Callable[[], int]) -> tuple[float, int]:
    started = time.perf_counter()
    count = action()
    return time.perf_counter() - started, count


def main(argv: Sequence[str] | None = None) -> int:
    options = parse_options(argv)
    median = statistics.median
    with ExitStack() as stack:
        server = create_engine(options.postgres_url, isolation_level="AUTOCOMMIT")
        stack.callback(server.dispose)
        database_url = stack.enter_context(own_database(server, "ecm_reports"))
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="ecm-reports-")))
        port = free_port()
        env = clean_environment(ECM_DATABASE_URL=database_url, ECM_GATEWAY="simulated")
        print(f"reports: {options.communications:,} communications, {options.rounds} round(s)")
        run_cli("db", "upgrade", env=env)
        run_cli("clinics", "upsert", "--id", "1", "--name", "Bench Clinic", "--npi", "1234567893",
                env=env)  # fmt: skip
        created = run_cli("users", "create", "--id", "1", "--clinic-id", "1", "--name", "Admin",
                          "--role", "admin", env=env)  # fmt: skip
        token = created.strip().splitlines()[-1]
        started = time.perf_counter()
        seeded(database_url, options.communications)
        print(f"  seeded in {time.perf_counter() - started:.1f} s", flush=True)
        # One worker: the memory sampled is the one streaming.
        master = stack.enter_context(
            served("serve", "--workers", "1", port=port, env=env, cwd=workdir)
        )
        base = f"http://127.0.0.1:{port}{ADMIN}"
        headers = {"X-User-Token": token}
        month = {"start_date": MONTH[0], "end_date": MONTH[1]}

        def prtf() -> int:
            answer = requests.post(f"{base}/prtf_reports", json=month, headers=headers, timeout=600)
            answer.raise_for_status()
            return int(answer.json()["prtf_report"]["patient_count"])

        def attempts() -> int:
            with requests.get(f"{base}/outreach_attempts.csv", params=month, headers=headers,
                              stream=True, timeout=600) as answer:  # fmt: skip
                answer.raise_for_status()
                return sum(chunk.count(b"\n") for chunk in answer.iter_content(65536)) - 1

        prtf()  # warm: the worker's first request imports and connects
        copies, reports, details, rss = [], [], [], []
        for round_ in range(1, options.rounds + 1):
            copies.append(copy_month(database_url))
            reports.append(timed(prtf))
            [worker] = proc.children(master.pid)
            sampling = _Sampler(worker)
            sampling.start()
            details.append(timed(attempts))
            rss.append(sampling.stop())
            (copy_s, rows), (prtf_s, patients), (detail_s, detail_rows) = (
                copies[-1],
                reports[-1],
                details[-1],
            )
            print(f"round {round_}: COPY {rows:,} rows in {copy_s:.2f} s; PRTF {patients:,} "
                  f"patients in {prtf_s:.2f} s; outreach detail {detail_rows:,} rows in "
                  f"{detail_s:.2f} s", flush=True)  # fmt: skip
            if detail_rows != rows:
                print(f"reports: the detail has {detail_rows} rows, COPY {rows}", file=sys.stderr)
                return 1
        copy_s = median(c[0] for c in copies)
        prtf_ratio = median(r[0] for r in reports) / copy_s
        attempts_ratio = median(c[0] / d[0] for c, d in zip(copies, details, strict=True))
        growth = max(100 * (high - low) / low for low, high in rss)
        print(f"COPY median {copy_s:.2f} s for {copies[0][1]:,} rows")
        print(f"PRTF report: {prtf_ratio:.2f}x COPY's time (target <= {PRTF_TARGET:.1f}x): "
              f"{'met' if prtf_ratio <= PRTF_TARGET else 'MISSED'}")  # fmt: skip
        met = "met" if attempts_ratio >= ATTEMPTS_TARGET else "MISSED"
        print(f"outreach detail: {attempts_ratio:.2f}x COPY's rows per second (target >= "
              f"{ATTEMPTS_TARGET:.1f}x): {met}")  # fmt: skip
        print(f"worker RSS while streaming: {rss[-1][0] / 1024:.1f} -> {rss[-1][1] / 1024:.1f} MiB")
        print(f"prtf_vs_copy={prtf_ratio:.2f} attempts_vs_copy={attempts_ratio:.2f} "
              f"attempts_rss={growth:+.1f}%")  # fmt: skip
    return 0


class _Sampler:
    """The worker's resident memory when streaming starts, and its highest while it runs."""

    def __init__(self, pid: int) -> None:
        self._pid = pid
        self._first = self._high = proc.resident_kib(pid)
        self._running = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def start(self) -> None:
        self._running.set()
        self._thread.start()

    def stop(self) -> tuple[int, int]:
        self._running.clear()
        self._thread.join()
        return self._first, self._high

    def _sample(self) -> None:
        while self._running.is_set():
            self._high = max(self._high, proc.resident_kib(self._pid))
            time.sleep(0.02)


if __name__ == "__main__":
    sys.exit(main())
