"""Throughput of ecm-comms against a baseline app, on one machine, with wrk: ``make bench``.

In one run: a fresh PostgreSQL database (dropped at the end, also on failure), migrated and
seeded with the CLI; ``ecm-comms serve`` (gunicorn, the simulated gateway, webhooks signed and
checked) and the baseline (``benchmarks/baseline_app.py``: the smallest Flask + SQLAlchemy app
that inserts one row per request, served by the same gunicorn settings on the same database).
Both are warmed up, then each path is driven by wrk for --duration seconds, alternating ours and
the baseline for --rounds rounds so that drift of the machine cancels out:

- ``sms``: ``POST /v1/clinic/ecm/communications/patients/{id}/sms`` (one coordinator, a few
  patients);
- ``status``: signed SMS status callbacks (``sent`` then ``delivered``) for messages ours really
  sent, every one distinct;
- ``inbound``: signed inbound SMS from the patients' numbers, each with its own MessageSid.

Every request is built here beforehand (signed with twilio's own ``RequestValidator``), written
one per line to a file that wrk's Lua ``init()`` reads and ``request()`` cycles through; the
baseline gets the very same requests. Any answer other than 2xx, any socket error, any request
repeated to ours, any error in a server's log is a failure (exit status 1).

It prints, per path, ours and the baseline's requests per second, p50 and p99 latency (medians of
the rounds) and the ratio ours/baseline (the median of the rounds' ratios), the CPU time per
request of each server's workers and of PostgreSQL (from /proc), the resident memory
of our workers after ~2,000 and ~20,000 requests per worker, the targets met or missed, and a last
line ``sms=<ratio> status=<ratio> inbound=<ratio>``.

    .venv/bin/python scripts/bench.py [--duration 10] [--connections 8] [--threads 1]
        [--workers 2] [--rounds 3] [--quick]

Bounded: each wrk run by its duration, everything by --deadline; only 127.0.0.1 is contacted.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import urlencode

from load import (  # scripts/load.py, beside this script
    DEFAULT_POSTGRES_URL,
    ECM_COMMS,
    LOOPBACK,
    Deadline,
    LoadPatient,
    SetupError,
    free_port,
    fresh_database,
    load_patients,
    prepare_database,
    service_environment,
    stop,
    wait_until_answering,
)
from sqlalchemy import ColumnElement, Engine, create_engine, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from twilio.request_validator import RequestValidator

from ecm_comms.adapters.sql import tables
from ecm_comms.webhook_routes import INBOUND_SMS, RECORD_ID_PARAMETER, SMS_STATUS, WEBHOOK_PREFIX

REPO = Path(__file__).resolve().parents[1]
API = "/v1/clinic/ecm/communications"
PATHS = ("sms", "status", "inbound")
TARGETS = {"sms": 0.5, "status": 0.7, "inbound": 0.5}  # ours / baseline, requests per second
MEMORY_GROWTH_TARGET = 10.0  # percent, a worker's RSS after 20,000 requests over after 2,000
ACCOUNT_SID = "AC" + "0" * 32
CLINIC_NUMBER = "+18059876543"  # the clinic's Twilio number: the simulated gateway's sender
PATIENTS = 4
WRK_TIMEOUT = "30s"  # gunicorn gives up on a request after 30 s
MIN_RATE = 100.0  # requests/s assumed before one is measured, to size the request files
# Request files for timed runs hold this many times what ours's fastest rate so far needs, plus
# EXTRA: more would cost status callbacks sends of their own, fewer would repeat requests.
SPARE = {"sms": 2.0, "status": 1.5, "inbound": 2.0}
EXTRA = 200
CALLBACK_BATCH = 64  # "sent" for a batch of messages, then "delivered" for the same batch
RESULT_MARK = "BENCH-RESULT "
THREAD_DONE_MARK = "BENCH-THREAD-DONE"
BUSY_PERCENT = 15.0  # CPU in use before the run above which the numbers are worth a warning
# In the servers' own log lines (the access log aside).
ERROR_MARKS = ("ERROR", "CRITICAL", "Traceback")

# wrk's script. Each thread reads every Nth line of the request file (line i goes to thread
# i mod N + 1, so threads never send the same request), builds the requests once, and cycles
# through them. ``quota`` > 0 stops a thread after that many answers (bench.py then interrupts
# wrk, which prints its summary). ``done()`` prints one parseable line.
WRK_SCRIPT = r"""
local threads = {}
local next_id = 1

function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

function init(args)
  local path, thread_count = args[1], tonumber(args[3])
  quota = tonumber(args[2])
  requests, total, index, sent, answers, stopped = {}, 0, 0, 0, 0, false
  codes, samples = {}, {}
  local line_number = 0
  for line in io.lines(path) do
    if line_number % thread_count == id - 1 then
      local target, content_type, name, value, body =
        line:match("^([^\t]*)\t([^\t]*)\t([^\t]*)\t([^\t]*)\t(.*)$")
      local headers = {}
      headers["Content-Type"] = content_type
      headers[name] = value
      total = total + 1
      requests[total] = wrk.format("POST", target, headers, body)
    end
    line_number = line_number + 1
  end
end

function request()
  index = index % total + 1
  sent = sent + 1
  return requests[index]
end

function response(status, headers, body)
  answers = answers + 1
  if status < 200 or status > 299 then
    local code = tostring(status)
    codes[code] = (codes[code] or 0) + 1
    if #samples < 3 then
      local text = string.sub(body or "", 1, 200):gsub("[^%w%p ]", " "):gsub('["\\]', "'")
      samples[#samples + 1] = code .. " " .. text
    end
  end
  if quota > 0 and answers >= quota and not stopped then
    stopped = true
    io.write("BENCH-THREAD-DONE\n")
    io.flush()
    wrk.thread:stop()
  end
end

function done(summary, latency, _)
  local all_codes, all_samples, all_sent, repeated = {}, {}, 0, 0
  for _, thread in ipairs(threads) do
    for code, count in pairs(thread:get("codes")) do
      all_codes[code] = (all_codes[code] or 0) + count
    end
    for _, sample in ipairs(thread:get("samples")) do
      if #all_samples < 5 then all_samples[#all_samples + 1] = '"' .. sample .. '"' end
    end
    local thread_sent, thread_total = thread:get("sent"), thread:get("total")
    all_sent = all_sent + thread_sent
    if thread_sent > thread_total then repeated = repeated + thread_sent - thread_total end
  end
  local code_parts = {}
  for code, count in pairs(all_codes) do
    code_parts[#code_parts + 1] = string.format('"%s": %d', code, count)
  end
  local errors = summary.errors
  io.write(string.format(
    'BENCH-RESULT {"requests": %d, "duration_us": %d, "p50_us": %.1f, "p99_us": %.1f, '
      .. '"non_2xx": {%s}, "samples": [%s], "connect": %d, "read": %d, "write": %d, '
      .. '"timeout": %d, "sent": %d, "repeated": %d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    table.concat(code_parts, ", "), table.concat(all_samples, ", "), errors.connect,
    errors.read, errors.write, errors.timeout, all_sent, repeated))
  io.flush()
end
"""


# --- options -------------------------------------------------------------------------------------


def parse_options(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=(__doc__ or "").splitlines()[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per wrk run")
    parser.add_argument("--connections", type=int, default=8, help="wrk's open connections")
    parser.add_argument("--threads", type=int, default=1, help="wrk's threads")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers of each server")
    parser.add_argument("--rounds", type=int, default=3, help="ours/baseline runs per path")
    parser.add_argument(
        "--memory-requests",
        type=int,
        default=20_000,
        help="requests per worker before the last memory reading (the first: a tenth of it)",
    )
    parser.add_argument("--deadline", type=float, default=900.0, help="seconds for everything")
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES_URL)
    parser.add_argument(
        "--quick",
        action="store_true",
        help="a smoke test: 2 s runs, 1 round, 600 requests per worker for memory",
    )
    parser.add_argument(
        "--require-targets", action="store_true", help="exit with status 2 when a target is missed"
    )
    options = parser.parse_args(argv)
    if options.quick:
        options.duration, options.rounds, options.memory_requests = 2.0, 1, 600
    refusal = refusal_of(options)
    if refusal:
        parser.error(refusal)
    return options


def refusal_of(options: argparse.Namespace) -> str | None:
    bounds = {
        "duration": (1, 600),
        "connections": (1, 1000),
        "threads": (1, 64),
        "workers": (1, 64),
        "rounds": (1, 20),
        "memory_requests": (10, 1_000_000),
        "deadline": (10, 3600),
    }
    for name, (low, high) in bounds.items():
        if not low <= getattr(options, name) <= high:
            return f"--{name.replace('_', '-')} must be between {low} and {high}"
    if options.connections < options.threads:
        return "--connections must be at least --threads (each thread keeps one open)"
    if make_url(options.postgres_url).host != LOOPBACK:
        return f"--postgres-url must be on {LOOPBACK} (this script contacts nothing else)"
    return None


# --- the servers ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Server:
    name: str
    url: str
    process: subprocess.Popen[bytes]
    log: Path


@contextmanager
def served(
    name: str, command: list[str], env: dict[str, str], port: int, log: Path, deadline: Deadline
) -> Iterator[Server]:
    """A server on 127.0.0.1:``port`` until the block ends, its output in ``log``."""
    url = f"http://{LOOPBACK}:{port}"
    with open(log, "wb") as output:
        process = subprocess.Popen(  # noqa: S603 (our own programs, fixed arguments)
            command, env=env, cwd=REPO, stdout=output, stderr=subprocess.STDOUT
        )
        try:
            try:
                wait_until_answering(url, process, deadline)
            except SetupError as error:
                tail = log.read_text(errors="replace")[-2000:]
                raise SetupError(f"{name}: {error}\n{tail}") from error
            yield Server(name, url, process, log)
        finally:
            stop(process)


def worker_pids(master: int) -> list[int]:
    """The gunicorn master's children: its workers."""
    children = Path(f"/proc/{master}/task/{master}/children")
    if children.exists():
        return sorted(int(pid) for pid in children.read_text().split())
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == master:
            found.append(int(stat.parent.name))
    return sorted(found)


def resident_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise SetupError(f"no VmRSS for process {pid}")


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time the processes have used (0 for one that has gone)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        total += (int(fields[11]) + int(fields[12])) / ticks  # utime, stime
    return total


def database_backends(engine: Engine) -> list[int]:
    """The PostgreSQL backends serving the bench's database (the server is on this machine)."""
    query = text(
        "SELECT pid FROM pg_stat_activity "
        "WHERE datname = current_database() AND pid <> pg_backend_pid()"
    )
    with engine.connect() as connection:
        return [int(pid) for pid in connection.execute(query).scalars()]


def log_problems(server: Server) -> list[str]:
    """Error lines in a server's output, its access log aside."""
    lines = server.log.read_text(errors="replace").splitlines()
    return [
        line
        for line in lines
        if not line.startswith(f'{LOOPBACK} "') and any(mark in line for mark in ERROR_MARKS)
    ]


# --- wrk -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CpuUse:
    """CPU time per answered request, in ms: the server's workers and PostgreSQL's backends."""

    workers_ms: float
    database_ms: float


@dataclass(frozen=True)
class WrkResult:
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    non_2xx: dict[str, int]
    samples: list[str]
    socket_errors: dict[str, int]
    repeated: int  # requests sent beyond the file's: some were sent twice
    cpu: CpuUse | None = None  # measured for timed runs

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds > 0 else 0.0

    def problems(self, distinct: bool) -> list[str]:
        found = []
        if self.non_2xx:
            answers = ", ".join(f"{code} x{count}" for code, count in sorted(self.non_2xx.items()))
            found.append(f"non-2xx answers: {answers} (e.g. {'; '.join(self.samples)})")
        errors = {kind: count for kind, count in self.socket_errors.items() if count}
        if errors:
            found.append("socket errors: " + ", ".join(f"{k} x{n}" for k, n in errors.items()))
        if distinct and self.repeated:
            found.append(f"{self.repeated} request(s) sent more than once (request file too small)")
        if self.requests == 0:
            found.append("no answers at all")
        return found


def parse_wrk(output: str) -> WrkResult:
    for line in output.splitlines():
        if line.startswith(RESULT_MARK):
            data = json.loads(line[len(RESULT_MARK) :])
            return WrkResult(
                requests=int(data["requests"]),
                seconds=data["duration_us"] / 1e6,
                p50_ms=data["p50_us"] / 1000,
                p99_ms=data["p99_us"] / 1000,
                non_2xx={str(code): int(n) for code, n in data["non_2xx"].items()},
                samples=[str(sample) for sample in data["samples"]],
                socket_errors={kind: int(data[kind]) for kind in ("connect", "read", "write")}
                | {"timeout": int(data["timeout"])},
                repeated=int(data["repeated"]),
            )
    raise SetupError(f"wrk printed no result line:\n{output[-2000:]}")


def run_wrk(
    script: Path,
    server: Server,
    requests_file: Path,
    options: argparse.Namespace,
    deadline: Deadline,
    *,
    duration: float,
    quota: int = 0,
) -> WrkResult:
    """wrk against ``server`` with the requests of ``requests_file``, for ``duration`` seconds,
    or until ``quota`` answers (wrk is then interrupted, which makes it print its summary)."""
    if deadline.remaining() < duration + 5:
        raise SetupError("the --deadline is too close for another wrk run")
    per_thread = math.ceil(quota / options.threads) if quota else 0
    command = [
        "wrk", "-t", str(options.threads), "-c", str(options.connections),
        "-d", f"{math.ceil(duration)}s", "--timeout", WRK_TIMEOUT, "-s", str(script),
        f"{server.url}/", "--", str(requests_file), str(per_thread), str(options.threads),
    ]  # fmt: skip
    wrk = subprocess.Popen(  # noqa: S603 (wrk, fixed arguments)
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    lines: list[str] = []
    try:
        assert wrk.stdout is not None
        finished_threads = 0
        for line in wrk.stdout:
            lines.append(line)
            if line.strip() == THREAD_DONE_MARK:
                finished_threads += 1
                if finished_threads == options.threads:
                    interrupt(wrk)
                    break
        lines += wrk.stdout.readlines()
        wrk.wait(timeout=30)
    finally:
        if wrk.poll() is None:
            wrk.kill()
            wrk.wait()
    return parse_wrk("".join(lines))


def interrupt(wrk: subprocess.Popen[str]) -> None:
    """Stop wrk's wait for the end of its duration. A SIGINT only does that when wrk's main
    thread catches it, not a worker thread still finishing, so it is sent until wrk exits."""
    for _ in range(150):
        wrk.send_signal(signal.SIGINT)
        try:
            wrk.wait(timeout=0.2)
            return
        except subprocess.TimeoutExpired:
            continue


# --- the requests --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Message:
    id: int
    sid: str
    to: str
    sender: str


def request_line(target: str, content_type: str, header: tuple[str, str], body: str) -> str:
    fields = (target, content_type, *header, body)
    assert not any(("\t" in text or "\n" in text) for text in fields), fields
    return "\t".join(fields)


@dataclass
class Requests:
    """Builds the request files: sends, callbacks for messages ours sent, inbound SMS."""

    workdir: Path
    engine: Engine
    user_token: str
    public_base_url: str
    auth_token: str
    patients: tuple[LoadPatient, ...]
    sends: int = 0
    files: int = 0
    last_message_used: int = 0
    validator: RequestValidator = field(init=False)

    def __post_init__(self) -> None:
        self.validator = RequestValidator(self.auth_token)

    def write(self, path: str, lines: list[str]) -> Path:
        self.files += 1
        written = self.workdir / f"{self.files:03d}-{path}.requests"
        written.write_text("\n".join(lines) + "\n")
        return written

    def sms(self, count: int) -> list[str]:
        lines = []
        for _ in range(count):
            patient = self.patients[self.sends % len(self.patients)]
            self.sends += 1
            body = {"sms": {"phone_number": patient.phone, "body": f"Reminder {self.sends}"}}
            lines.append(
                request_line(
                    f"{API}/patients/{patient.id}/sms",
                    "application/json",
                    ("X-User-Token", self.user_token),
                    json.dumps(body),
                )
            )
        return lines

    def signed(self, target: str, form: dict[str, str]) -> str:
        signature = self.validator.compute_signature(self.public_base_url + target, form)
        return request_line(
            target,
            "application/x-www-form-urlencoded",
            ("X-Twilio-Signature", signature),
            urlencode(form),
        )

    def unused_messages(self) -> int:
        with self.engine.connect() as connection:
            return int(connection.execute(select(func.count()).where(*self._unused())).scalar_one())

    def _unused(self) -> list[ColumnElement[bool]]:
        messages = tables.text_messages
        return [
            messages.c.id > self.last_message_used,
            messages.c.direction == "outbound",
            messages.c.twilio_sid.is_not(None),
        ]

    def take_messages(self, count: int) -> list[Message]:
        messages = tables.text_messages
        query = (
            select(
                messages.c.id, messages.c.twilio_sid, messages.c.to_number, messages.c.from_number
            )
            .where(*self._unused())
            .order_by(messages.c.id)
            .limit(count)
        )
        with self.engine.connect() as connection:
            taken = [Message(*row) for row in connection.execute(query)]
        if taken:
            self.last_message_used = taken[-1].id
        return taken

    def status_callbacks(self, messages: list[Message]) -> list[str]:
        lines = []
        for start in range(0, len(messages), CALLBACK_BATCH):
            batch = messages[start : start + CALLBACK_BATCH]
            for status in ("sent", "delivered"):
                for message in batch:
                    target = f"{WEBHOOK_PREFIX}{SMS_STATUS}?{RECORD_ID_PARAMETER}={message.id}"
                    form = {
                        "MessageSid": message.sid,
                        "SmsSid": message.sid,
                        "MessageStatus": status,
                        "SmsStatus": status,
                        "AccountSid": ACCOUNT_SID,
                        "From": message.sender,
                        "To": message.to,
                        "ApiVersion": "2010-04-01",
                    }
                    lines.append(self.signed(target, form))
        return lines

    def inbound(self, count: int) -> list[str]:
        lines = []
        for number in range(count):
            sid = "SM" + secrets.token_hex(16)
            patient = self.patients[number % len(self.patients)]
            form = {
                "MessageSid": sid,
                "SmsSid": sid,
                "SmsMessageSid": sid,
                "AccountSid": ACCOUNT_SID,
                "From": patient.phone,
                "To": CLINIC_NUMBER,
                "Body": f"Thanks, see you then ({sid[-6:]})",
                "NumMedia": "0",
                "SmsStatus": "received",
                "ApiVersion": "2010-04-01",
            }
            lines.append(self.signed(WEBHOOK_PREFIX + INBOUND_SMS, form))
        return lines


# --- the run -------------------------------------------------------------------------------------


@dataclass
class Round:
    ours: WrkResult
    baseline: WrkResult

    @property
    def ratio(self) -> float:
        return self.ours.rate / self.baseline.rate if self.baseline.rate else 0.0


@dataclass
class Memory:
    requests: int  # answered by our server (all workers) when read
    rss_kib: dict[int, int]  # worker pid: VmRSS


@dataclass
class Outcome:
    rounds: dict[str, list[Round]] = field(default_factory=lambda: {p: [] for p in PATHS})
    memory: list[Memory] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)


@dataclass
class Bench:
    options: argparse.Namespace
    deadline: Deadline
    script: Path
    ours: Server
    baseline: Server
    requests: Requests
    outcome: Outcome = field(default_factory=Outcome)
    answered_by_ours: int = 0
    rates: dict[str, float] = field(default_factory=lambda: dict.fromkeys(PATHS, MIN_RATE))

    def file(self, path: str, count: int) -> Path:
        """A file of ``count`` new requests for ``path``, status callbacks for messages ours
        sent and no callback has been built for yet (sending more first when too few are left)."""
        if path == "sms":
            return self.requests.write(path, self.requests.sms(count))
        if path == "inbound":
            return self.requests.write(path, self.requests.inbound(count))
        messages_needed = math.ceil(count / 2)
        missing = messages_needed - self.requests.unused_messages()
        if missing > 0:
            more = self.requests.write(
                "sms", self.requests.sms(missing + EXTRA + 2 * self.options.connections)
            )
            print(f"  sending {missing + EXTRA} more SMS for their status callbacks", flush=True)
            self.drive(self.ours, "sms", more, missing + EXTRA)
        messages = self.requests.take_messages(messages_needed)
        if len(messages) < messages_needed:
            raise SetupError(f"only {len(messages)} sent SMS for {messages_needed} needed")
        return self.requests.write(path, self.requests.status_callbacks(messages))

    def distinct(self, server: Server, path: str) -> bool:
        """Whether every request must be new: webhooks to ours (a repeat does less work)."""
        return server is self.ours and path != "sms"

    def check(self, server: Server, path: str, result: WrkResult, *, repeats: bool = True) -> None:
        distinct = repeats and self.distinct(server, path)
        for problem in result.problems(distinct):
            self.outcome.failures.append(f"{server.name} {path}: {problem}")
            print(f"  FAILURE {server.name} {path}: {problem}", flush=True)

    def counted(
        self, server: Server, path: str, result: WrkResult, *, repeats: bool = True
    ) -> WrkResult:
        self.check(server, path, result, repeats=repeats)
        if server is self.ours:
            self.answered_by_ours += result.requests
            self.rates[path] = max(self.rates[path], result.rate)
        return result

    def counted_file(self, path: str, count: int) -> Path:
        """A file for ``drive``: wrk sends a request on every connection still open while it
        waits for the last of ``count`` answers, so a few more than ``count`` are sent."""
        return self.file(path, count + 2 * self.options.connections)

    def drive(self, server: Server, path: str, requests_file: Path, count: int) -> WrkResult:
        """``count`` answers (and a few requests more: those in flight when wrk stops)."""
        bound = min(self.deadline.remaining() - 10, 10 + 5 * count / self.rates[path])
        result = run_wrk(
            self.script, server, requests_file, self.options, self.deadline,
            duration=max(1.0, bound), quota=count,
        )  # fmt: skip
        return self.counted(server, path, result)

    def timed(
        self, server: Server, path: str, requests_file: Path, *, repeats: bool = True
    ) -> WrkResult:
        """A measured run, with the CPU it cost; ``repeats``: a request sent twice to ours is a
        failure."""
        workers = worker_pids(server.process.pid)
        backends = database_backends(self.requests.engine)
        before = cpu_seconds(workers), cpu_seconds(backends)
        result = run_wrk(
            self.script, server, requests_file, self.options, self.deadline,
            duration=self.options.duration,
        )  # fmt: skip
        if result.requests:
            per_request = 1000 / result.requests
            cpu = CpuUse(
                (cpu_seconds(workers) - before[0]) * per_request,
                (cpu_seconds(backends) - before[1]) * per_request,
            )
            result = replace(result, cpu=cpu)
        return self.counted(server, path, result, repeats=repeats)

    def read_memory(self) -> Memory:
        pids = worker_pids(self.ours.process.pid)
        memory = Memory(self.answered_by_ours, {pid: resident_kib(pid) for pid in pids})
        sizes = ", ".join(f"{kib / 1024:.1f}" for kib in memory.rss_kib.values())
        print(f"  our workers' RSS after {memory.requests} requests: {sizes} MiB", flush=True)
        self.outcome.memory.append(memory)
        return memory

    def warm_up(self) -> None:
        """Every path on both servers, ours until its workers have answered about a tenth of
        --memory-requests each; then the first memory reading."""
        count = math.ceil(self.options.memory_requests * self.options.workers / 10 / len(PATHS))
        print(f"warm-up: {count} requests per path to each server", flush=True)
        for path in PATHS:
            requests_file = self.counted_file(path, count)
            ours = self.drive(self.ours, path, requests_file, count)
            baseline = self.drive(self.baseline, path, requests_file, count)
            print(f"  {path}: ours {ours.rate:.0f}/s, baseline {baseline.rate:.0f}/s", flush=True)
        self.read_memory()

    def analyze(self) -> None:
        """Fresh planner statistics, as autovacuum keeps them on a server up for a minute.

        The warm-up grew empty tables by thousands of rows in seconds. Until statistics catch
        up, PostgreSQL may keep a plan made for the empty tables (a sequential scan) for the
        statements psycopg prepared, which measures the first minute of a new database rather
        than a service's steady state."""
        with self.requests.engine.connect() as connection:
            connection.execute(text("ANALYZE"))
            connection.commit()

    def measure(self) -> None:
        for path in PATHS:
            for number in range(self.options.rounds):
                order = [self.ours, self.baseline]
                if number % 2:
                    order.reverse()  # alternate who goes first, so drift cancels out
                measured = self.round(path, order)
                self.outcome.rounds[path].append(measured)
                print(
                    f"{path} round {number + 1}/{self.options.rounds}: "
                    f"ours {describe(measured.ours)}; baseline {describe(measured.baseline)}; "
                    f"ratio {measured.ratio:.2f}",
                    flush=True,
                )

    def round(self, path: str, order: list[Server]) -> Round:
        """Both servers, one after the other, on the same requests. Their number comes from our
        fastest rate so far; when ours outran them (and got repeats), the round is run again
        with as many as its new rate needs."""
        for last_try in (False, True):
            size = math.ceil(self.rates[path] * self.options.duration * SPARE[path]) + EXTRA
            requests_file = self.file(path, size)
            results = {
                server.name: self.timed(server, path, requests_file, repeats=last_try)
                for server in order
            }
            if last_try or not (self.distinct(self.ours, path) and results["ours"].repeated):
                break
            print(f"  ours needed more than {size} requests: the round again, with more")
        return Round(results["ours"], results["baseline"])

    def finish_memory(self) -> None:
        """More requests to ours, every path, until its workers have answered --memory-requests
        each; then the last memory reading."""
        missing = self.options.memory_requests * self.options.workers - self.answered_by_ours
        if missing > 0:
            count = math.ceil(missing / len(PATHS))
            print(f"memory: {count} more requests per path to ours", flush=True)
            for path in PATHS:
                self.drive(self.ours, path, self.counted_file(path, count), count)
        self.read_memory()

    def run(self) -> Outcome:
        self.warm_up()
        self.analyze()
        self.measure()
        self.finish_memory()
        for server in (self.ours, self.baseline):
            if server.process.poll() is not None:
                self.outcome.failures.append(f"{server.name} exited ({server.process.returncode})")
            problems = log_problems(server)
            if problems:
                self.outcome.failures.append(
                    f"{len(problems)} error line(s) in {server.name}'s log"
                )
                print(f"{server.name}'s log errors (first 10):", *problems[:10], sep="\n  ")
        return self.outcome


def describe(result: WrkResult) -> str:
    return f"{result.rate:.1f}/s (p50 {result.p50_ms:.1f} ms, p99 {result.p99_ms:.1f} ms)"


@contextmanager
def servers(options: argparse.Namespace, deadline: Deadline) -> Iterator[Bench]:
    """A fresh database, both servers on it, and the bench ready to run."""
    if not ECM_COMMS.exists():
        raise SetupError(f"{ECM_COMMS} is missing: run this with the virtualenv's python")
    with ExitStack() as stack:
        database_url = stack.enter_context(fresh_database(options.postgres_url))
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="ecm-bench-")))
        script = workdir / "bench.lua"
        script.write_text(WRK_SCRIPT)
        ours_port, baseline_port = free_port(), free_port()
        ours_url = f"http://{LOOPBACK}:{ours_port}"
        auth_token = secrets.token_hex(16)
        env = service_environment(database_url, ours_url, auth_token)
        env["TWILIO_FROM_NUMBER"] = CLINIC_NUMBER
        patients = load_patients(PATIENTS)
        print("setting up: database, user and patients", flush=True)
        user_token = prepare_database(env, patients, deadline)
        workers = str(options.workers)
        ours = stack.enter_context(
            served(
                "ours",
                [str(ECM_COMMS), "serve", "--host", LOOPBACK, "--port", str(ours_port),
                 "--workers", workers],
                env, ours_port, workdir / "ours.log", deadline,
            )
        )  # fmt: skip
        baseline_env = {k: v for k, v in env.items() if not k.startswith(("ECM_", "TWILIO_"))}
        baseline = stack.enter_context(
            served(
                "baseline",
                [sys.executable, "-m", "benchmarks.baseline_app", "--database-url", database_url,
                 "--host", LOOPBACK, "--port", str(baseline_port), "--workers", workers],
                baseline_env, baseline_port, workdir / "baseline.log", deadline,
            )
        )  # fmt: skip
        engine = stack.enter_context(disposing(create_engine(database_url)))
        requests = Requests(workdir, engine, user_token, ours_url, auth_token, patients)
        yield Bench(options, deadline, script, ours, baseline, requests)


@contextmanager
def disposing(engine: Engine) -> Iterator[Engine]:
    try:
        yield engine
    finally:
        engine.dispose()


# --- the report ----------------------------------------------------------------------------------


def median_ratio(rounds: list[Round]) -> float:
    return statistics.median(measured.ratio for measured in rounds)


def table_lines(outcome: Outcome, rounds: int) -> list[str]:
    header = (
        f"{'path':<8} {'ours rps':>9} {'p50 ms':>7} {'p99 ms':>7}   "
        f"{'baseline rps':>12} {'p50 ms':>7} {'p99 ms':>7}   {'ratio':>5}"
    )
    lines = [
        f"results: medians of {rounds} round(s); ratio: the median of the rounds' ours/baseline",
        header,
    ]
    for path in PATHS:
        measured = outcome.rounds[path]

        def median(values: Iterator[float]) -> float:
            return statistics.median(values)

        ours = [r.ours for r in measured]
        base = [r.baseline for r in measured]
        lines.append(
            f"{path:<8} {median(r.rate for r in ours):>9.1f} {median(r.p50_ms for r in ours):>7.1f}"
            f" {median(r.p99_ms for r in ours):>7.1f}   {median(r.rate for r in base):>12.1f}"
            f" {median(r.p50_ms for r in base):>7.1f} {median(r.p99_ms for r in base):>7.1f}"
            f"   {median_ratio(measured):>5.2f}"
        )
    return lines


def cpu_lines(outcome: Outcome) -> list[str]:
    """CPU per request, medians of the rounds: where the machine's time went."""
    lines = [
        "cpu per request in ms (medians of the rounds): the server's gunicorn workers, and the "
        "PostgreSQL backends while it ran",
        f"{'path':<8} {'ours':>8} {'postgres':>8} {'baseline':>8} {'postgres':>8}",
    ]
    for path in PATHS:
        uses = {
            side: [use for r in outcome.rounds[path] if (use := getattr(r, side).cpu)]
            for side in ("ours", "baseline")
        }
        if not all(uses.values()):
            lines.append(f"{path:<8} not measured")
            continue
        figures = [
            statistics.median(getattr(use, kind) for use in uses[side])
            for side in ("ours", "baseline")
            for kind in ("workers_ms", "database_ms")
        ]
        lines.append(f"{path:<8}" + "".join(f" {figure:>8.2f}" for figure in figures))
    return lines


def memory_lines(outcome: Outcome) -> tuple[list[str], float | None]:
    """The memory report, and the largest growth of a worker in percent (None: unknown)."""
    if len(outcome.memory) < 2:
        return ["memory: not measured"], None
    first, last = outcome.memory[0], outcome.memory[-1]
    lines = [
        f"memory: our workers' RSS after {first.requests} and {last.requests} requests "
        f"(all workers), VmRSS:"
    ]
    growths = []
    for pid, before in first.rss_kib.items():
        after = last.rss_kib.get(pid)
        if after is None:
            lines.append(f"  worker {pid}: {before / 1024:.1f} MiB, then gone (restarted?)")
            continue
        growth = 100 * (after - before) / before
        growths.append(growth)
        lines.append(
            f"  worker {pid}: {before / 1024:.1f} MiB -> {after / 1024:.1f} MiB ({growth:+.1f}%)"
        )
    total_before, total_after = sum(first.rss_kib.values()), sum(last.rss_kib.values())
    lines.append(
        f"  all workers: {total_before / 1024:.1f} MiB -> {total_after / 1024:.1f} MiB "
        f"({100 * (total_after - total_before) / total_before:+.1f}%)"
    )
    if set(first.rss_kib) != set(last.rss_kib):
        return [*lines, "  the workers changed between the readings"], None
    return lines, max(growths)


def target_lines(outcome: Outcome, growth: float | None) -> tuple[list[str], bool]:
    lines = ["targets:"]
    met_all = True
    for path in PATHS:
        ratio = median_ratio(outcome.rounds[path])
        met = ratio >= TARGETS[path]
        met_all &= met
        lines.append(
            f"  {path:<8} ratio {ratio:.2f} >= {TARGETS[path]:.2f}: {'met' if met else 'MISSED'}"
        )
    if growth is None:
        lines.append("  memory   growth unknown: MISSED")
        met_all = False
    else:
        met = growth <= MEMORY_GROWTH_TARGET
        met_all &= met
        lines.append(
            f"  memory   largest worker growth {growth:+.1f}% <= {MEMORY_GROWTH_TARGET:.0f}%: "
            f"{'met' if met else 'MISSED'}"
        )
    return lines, met_all


def cpu_in_use(seconds: float = 1.0) -> float:
    """The share of the machine's CPU time spent busy over ``seconds``, in percent."""

    def times() -> list[int]:
        return [int(value) for value in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]

    before = times()
    time.sleep(seconds)
    spent = [after - earlier for after, earlier in zip(times(), before, strict=True)]
    idle = spent[3] + spent[4]  # idle, iowait
    return 100 * (1 - idle / sum(spent)) if sum(spent) else 0.0


def main(argv: Sequence[str] | None = None) -> int:
    options = parse_options(argv)
    if shutil.which("wrk") is None:
        print("bench: wrk is not installed (Debian/Ubuntu: apt-get install -y wrk)")
        return 1
    deadline = Deadline.after(options.deadline)
    busy = cpu_in_use()
    if busy > BUSY_PERCENT:
        print(f"bench: the machine is busy ({busy:.0f}% of its CPU in use): expect noisy numbers")
    print(
        f"bench: {options.workers} workers each, wrk {options.threads} thread(s) x "
        f"{options.connections} connections, {options.duration:g} s x {options.rounds} round(s) "
        f"per path and server, {os.cpu_count()} CPUs ({busy:.0f}% in use before the run)",
        flush=True,
    )
    try:
        with servers(options, deadline) as bench:
            outcome = bench.run()
    except (SetupError, SQLAlchemyError, OSError, subprocess.SubprocessError) as error:
        print(f"bench: FAILED, could not run: {error}")
        return 1
    print(*table_lines(outcome, options.rounds), sep="\n")
    print(*cpu_lines(outcome), sep="\n")
    memory, growth = memory_lines(outcome)
    print(*memory, sep="\n")
    targets, met_all = target_lines(outcome, growth)
    print(*targets, sep="\n")
    if outcome.failures:
        print(f"bench: FAILED ({len(outcome.failures)} problem(s)):", *outcome.failures, sep="\n  ")
    print(" ".join(f"{path}={median_ratio(outcome.rounds[path]):.2f}" for path in PATHS))
    if outcome.failures:
        return 1
    return 2 if options.require_targets and not met_all else 0


if __name__ == "__main__":
    sys.exit(main())
