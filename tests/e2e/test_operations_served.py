"""Running it as a production service: ``ecm-comms serve --workers 2`` and ``ecm-comms worker
--health-port`` as real processes, with JSON logs (ECM_LOG_FORMAT=json) and a metrics token.

One SQLite database, one server with the Twilio stand-in and one worker run for the module (each
costs seconds). Every request to the server goes through ``Operated.request``, which keeps a
ledger of what it answered (route template, method, status): each scrape of ``/metrics``,
whichever worker answers it, must count exactly the ledger, both workers' requests added up.
"""

from __future__ import annotations

import json
import re
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from benchmarks import proc
from benchmarks.served import ECM_COMMS, clean_environment, free_port, served, wait_for_port
from benchmarks.twilio_standin import RunningStandIn, TwilioStandIn
from ecm_comms.adapters.sql.schema import upgrade
from ecm_comms.container import create_container
from ecm_comms.domain.commands import RegisterUser, UpsertPatient
from tests.support.webhooks import API, AUTH_TOKEN, SIGNATURE_HEADER, inbound_sms_form, signature

TIMEOUT = 10.0
REQUEST_ID = "X-Request-Id"
GENERATED_ID = r"[0-9a-f]{32}"
METRICS_TOKEN = "metrics-" + secrets.token_hex(16)
BEARER = {"Authorization": f"Bearer {METRICS_TOKEN}"}
ACCOUNT_SID = "AC" + secrets.token_hex(16)
CLINIC_NUMBER = "+18059876543"
PATIENT_ID = 123
PATIENT_PHONE = "+18055550173"
STRANGER_PHONE = "+18055550142"
WEBHOOKS = "/v1/clinic/webhooks/twilio"

# Route templates, as the metrics and the JSON access lines name them.
HISTORY_ROUTE = f"{API}/patients/<patient_id>/communications"
SEND_SMS_ROUTE = f"{API}/patients/<patient_id>/sms"
UNMATCHED_ROUTE = "unmatched"

LogRecord = dict[str, Any]
Labels = tuple[tuple[str, str], ...]


# --- reading what the processes wrote and exposed -------------------------------------------------


def json_records(path: Path) -> tuple[list[LogRecord], list[str]]:
    """The complete lines of ``path`` (one still being written is left for later): those that
    are JSON objects, parsed, and those that are not."""
    text = path.read_text() if path.exists() else ""
    records, others = [], []
    for line in text[: text.rfind("\n") + 1].splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            others.append(line)
            continue
        (records if isinstance(record, dict) else others).append(record)
    return records, others


def lacking_fields(record: LogRecord) -> list[str]:
    """What a log line lacks of time (ISO 8601), level, logger, pid and message."""
    lacking = [name for name in ("level", "logger", "message") if not record.get(name)]
    lacking += [] if isinstance(record.get("pid"), int) else ["pid"]
    try:
        datetime.fromisoformat(str(record.get("time")))
    except ValueError:
        lacking.append("time")
    return lacking


def samples(exposition: str, name: str) -> dict[Labels, float]:
    """The values of the samples called ``name``, by their labels."""
    return {
        tuple(sorted(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(exposition)
        for sample in family.samples
        if sample.name == name
    }


def shows_an_empty_send_queue(exposition: str) -> bool:
    """The backlog gauge is there, and no SMS waits: at most a worker's periodic sweep, which
    the backlog counts while it is on the queue (for a moment at a minute's turn)."""
    return samples(exposition, "ecm_send_queue_backlog") in ({(): 0.0}, {(): 1.0})


def request_labels(route: str, method: str, status: int | str) -> Labels:
    return (("method", method), ("route", route), ("status", str(status)))


def wait_for(found: Any, seconds: float = TIMEOUT) -> Any:
    """``found()``'s first truthy answer (gunicorn writes an access line after answering)."""
    deadline = time.monotonic() + seconds
    while not (answer := found()):
        assert time.monotonic() < deadline, "not within the wait"
        time.sleep(0.05)
    return answer


# --- the served service ---------------------------------------------------------------------------


@dataclass
class Operated:
    """The server, what it wrote, and the ledger of every request it answered."""

    base_url: str
    pid: int
    workdir: Path
    env: dict[str, str]
    user_token: str
    twilio: TwilioStandIn
    answered: Counter[Labels] = field(default_factory=Counter)
    _ledger_lock: threading.Lock = field(default_factory=threading.Lock)

    def request(
        self, method: str, path: str, *, route: str, status: int, **options: Any
    ) -> requests.Response:
        """``method path``, answered with ``status``, on the ledger under ``route``."""
        response = requests.request(method, self.base_url + path, timeout=TIMEOUT, **options)
        assert response.status_code == status, (path, response.text)
        assert REQUEST_ID in response.headers, path  # every answer carries one
        with self._ledger_lock:  # requests may be made from several threads
            self.answered[request_labels(route, method, status)] += 1
        return response

    def get(self, path: str, route: str, status: int = 200, **options: Any) -> requests.Response:
        return self.request("GET", path, route=route, status=status, **options)

    def history(self, **headers: str) -> requests.Response:
        """The patient's history, as the coordinator: an authenticated read."""
        path = f"{API}/patients/{PATIENT_ID}/communications"
        return self.get(path, HISTORY_ROUTE, headers={"X-User-Token": self.user_token, **headers})

    def scrape(self) -> tuple[str, str]:
        """The metrics' text, and the id of the request that got it."""
        response = self.get("/metrics", "/metrics", headers=BEARER)
        return response.text, response.headers[REQUEST_ID]

    def records(self, name: str) -> list[LogRecord]:
        return json_records(self.workdir / name)[0]

    def access_line(self, request_id: str) -> LogRecord:
        """The JSON access line of the request with ``request_id``, once gunicorn wrote it."""
        line: LogRecord = wait_for(lambda: next((
            record for record in self.records("server.out")
            if record.get("logger") == "gunicorn.access" and record.get("request_id") == request_id
        ), None))  # fmt: skip
        return line


@pytest.fixture(scope="module")
def operated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Operated]:
    workdir: Path = tmp_path_factory.mktemp("operations")
    port = free_port()
    with RunningStandIn() as twilio:
        env = clean_environment(
            ECM_DATABASE_URL=f"sqlite:///{workdir / 'ecm_comms.sqlite3'}",
            ECM_LOG_FORMAT="json",
            ECM_METRICS_TOKEN=METRICS_TOKEN,
            ECM_GATEWAY="twilio",
            TWILIO_ACCOUNT_SID=ACCOUNT_SID,
            TWILIO_AUTH_TOKEN=AUTH_TOKEN,
            TWILIO_FROM_NUMBER=CLINIC_NUMBER,
            TWILIO_API_BASE_URL=twilio.base_url,
            ECM_PUBLIC_BASE_URL=f"http://127.0.0.1:{port}",
        )
        # The database is set up here, in-process: starting the CLI costs a second a command.
        container = create_container(environ=env)
        upgrade(container.engine())
        token = container.register_user()(RegisterUser(101, 1, "Dana")).token.value
        container.upsert_patient()(
            UpsertPatient(PATIENT_ID, 1, phone_numbers=(PATIENT_PHONE,), coordinator_id=101)
        )
        container.engine().dispose()
        with served("serve", "--workers", "2", port=port, env=env, cwd=workdir) as server:
            yield Operated(f"http://127.0.0.1:{port}", server.pid, workdir, env, token, twilio)


# --- metrics --------------------------------------------------------------------------------------


def test_every_scrape_counts_the_requests_both_server_workers_answered(operated: Operated) -> None:
    kinds = [
        lambda: operated.get("/healthz", "/healthz"),
        operated.history,
        lambda: operated.get("/no/such/path", UNMATCHED_ROUTE, 404),
    ]
    with ThreadPoolExecutor(max_workers=4) as pool:  # concurrent: each worker gets some
        answers = list(pool.map(lambda make: make(), kinds * 12))
    answered_by = {operated.access_line(a.headers[REQUEST_ID])["pid"] for a in answers}

    scrapes: list[tuple[Counter[Labels], dict[Labels, float], str]] = []
    scraped_by: set[int] = set()
    while len(scrapes) < 4 or (len(scraped_by) < 2 and len(scrapes) < 40):
        expected = operated.answered.copy()  # a scrape is counted once it is answered
        text, request_id = operated.scrape()
        scrapes.append((expected, samples(text, "ecm_http_requests_total"), request_id))
        scraped_by.add(operated.access_line(request_id)["pid"])

    assert answered_by == set(proc.children(operated.pid))
    assert len(answered_by) == 2
    assert len(scraped_by) == 2
    for expected, counted, request_id in scrapes:
        assert counted == {labels: float(n) for labels, n in expected.items()}, request_id


def test_the_duration_histogram_counts_every_request_by_route_and_method(
    operated: Operated,
) -> None:
    operated.get("/healthz", "/healthz")
    operated.history()
    expected: Counter[Labels] = Counter()
    for (method_label, route_label, _status_label), count in operated.answered.items():
        expected[(method_label, route_label)] += count

    text, _ = operated.scrape()
    counted = samples(text, "ecm_http_request_duration_seconds_count")

    assert counted == {labels: float(n) for labels, n in expected.items()}


def test_twilio_answers_refused_signatures_unmatched_senders_and_opt_outs_are_counted(
    operated: Operated,
) -> None:
    def send_sms(status: int) -> None:
        operated.request(
            "POST", f"{API}/patients/{PATIENT_ID}/sms", route=SEND_SMS_ROUTE, status=status,
            json={"sms": {"phone_number": PATIENT_PHONE, "body": "See you Tuesday"}},
            headers={"X-User-Token": operated.user_token},
        )  # fmt: skip

    def webhook(form: dict[str, str], status: int, auth_token: str = AUTH_TOKEN) -> None:
        url = f"{operated.base_url}{WEBHOOKS}/sms"
        headers = {SIGNATURE_HEADER: signature(url, form, auth_token)}
        operated.request(
            "POST", f"{WEBHOOKS}/sms", route=f"{WEBHOOKS}/sms", status=status, data=form,
            headers=headers,
        )  # fmt: skip

    send_sms(201)
    operated.twilio.fail_next(400, 21211, "The 'To' number is not a valid phone number.")
    send_sms(422)
    webhook(inbound_sms_form(STRANGER_PHONE, "Who is this?", to=CLINIC_NUMBER), 403, "forged")
    webhook(inbound_sms_form(STRANGER_PHONE, "Who is this?", to=CLINIC_NUMBER), 200)
    webhook(inbound_sms_form(PATIENT_PHONE, "STOP", to=CLINIC_NUMBER), 200)

    text, _ = operated.scrape()

    assert samples(text, "ecm_twilio_requests_total") == {
        (("channel", "sms"), ("error_code", ""), ("outcome", "accepted")): 1.0,
        (("channel", "sms"), ("error_code", "21211"), ("outcome", "refused")): 1.0,
    }
    assert samples(text, "ecm_webhook_signature_failures_total") == {(): 1.0}
    assert samples(text, "ecm_inbound_unmatched_total") == {(("channel", "sms"),): 1.0}
    assert samples(text, "ecm_opt_outs_recorded_total") == {(("source", "keyword"),): 1.0}


def test_metrics_refuse_a_request_without_the_bearer_token(operated: Operated) -> None:
    missing = operated.get("/metrics", "/metrics", 401)
    wrong = operated.get("/metrics", "/metrics", 401, headers={"Authorization": "Bearer nope"})

    for refused in (missing, wrong):
        assert refused.json() == {"errors": ["Metrics need the bearer token of ECM_METRICS_TOKEN"]}
        assert refused.headers["WWW-Authenticate"] == 'Bearer realm="metrics"'
        assert METRICS_TOKEN not in refused.text


def test_metrics_answer_the_bearer_token_in_prometheus_text(operated: Operated) -> None:
    answer = operated.get("/metrics", "/metrics", headers=BEARER)

    assert answer.headers["Content-Type"].startswith("text/plain; version=")
    assert shows_an_empty_send_queue(answer.text)


# --- health ---------------------------------------------------------------------------------------


def test_healthz_says_ok(operated: Operated) -> None:
    assert operated.get("/healthz", "/healthz").json() == {"status": "ok"}


def test_readyz_is_ready_on_a_migrated_database(operated: Operated) -> None:
    assert operated.get("/readyz", "/readyz").json() == {
        "status": "ready",
        "checks": {"database": "ok", "migrations": "ok"},
    }


# --- request ids and the JSON access log ----------------------------------------------------------


def test_a_given_request_id_comes_back_and_is_on_the_json_access_line(operated: Operated) -> None:
    given = "checkout-" + secrets.token_hex(8)

    answer = operated.history(**{REQUEST_ID: given})
    line = operated.access_line(given)

    assert answer.headers[REQUEST_ID] == given
    assert line["method"] == "GET"
    assert line["route"] == HISTORY_ROUTE  # the template, not the path with the patient's id
    assert line["status"] == 200
    assert isinstance(line["duration_ms"], int | float)
    assert line["duration_ms"] >= 0
    assert line["pid"] in proc.children(operated.pid)
    assert not lacking_fields(line)


def test_a_request_without_an_id_gets_one_that_is_on_the_json_access_line(
    operated: Operated,
) -> None:
    answer = operated.get("/no/such/path", UNMATCHED_ROUTE, 404)
    generated = answer.headers[REQUEST_ID]
    line = operated.access_line(generated)

    assert re.fullmatch(GENERATED_ID, generated)
    assert (line["method"], line["route"], line["status"]) == ("GET", UNMATCHED_ROUTE, 404)


def test_a_request_id_that_could_forge_a_log_line_is_replaced(operated: Operated) -> None:
    forged = 'x" 200 - "GET /admin'

    answer = operated.get("/healthz", "/healthz", headers={REQUEST_ID: forged})
    replaced = answer.headers[REQUEST_ID]

    assert re.fullmatch(GENERATED_ID, replaced)
    assert operated.access_line(replaced)["route"] == "/healthz"


# --- the server's log -----------------------------------------------------------------------------


def test_every_line_the_server_writes_is_a_json_object_with_time_level_logger_and_message(
    operated: Operated,
) -> None:
    marker = operated.get("/healthz", "/healthz").headers[REQUEST_ID]
    operated.access_line(marker)  # everything before it is written

    for name in ("server.out", "server.err"):
        records, others = json_records(operated.workdir / name)
        assert others == [], name
        assert [(r, lacking_fields(r)) for r in records if lacking_fields(r)] == [], name


def test_the_server_log_holds_gunicorns_lines_its_access_lines_and_the_services_own(
    operated: Operated,
) -> None:
    errors = {record["logger"] for record in operated.records("server.err")}
    access = {record["logger"] for record in operated.records("server.out")}

    assert "gunicorn.error" in errors
    assert any(logger.startswith("ecm_comms.") for logger in errors)
    assert access == {"gunicorn.access"}  # standard output is the access log alone


# --- the worker's health port ---------------------------------------------------------------------


@dataclass
class WorkerRun:
    """A worker run with a health port: the probes' answers, then, once stopped, its log."""

    answers: dict[str, requests.Response]
    exit_code: int
    workdir: Path
    operators_metrics_directory: Path

    def log(self) -> tuple[list[LogRecord], list[str]]:
        records, others = [], []
        for name in ("worker.out", "worker.err"):
            found = json_records(self.workdir / name)
            records += found[0]
            others += found[1]
        return records, others


PROBES = {
    "healthz": ("/healthz", {}),
    "readyz": ("/readyz", {}),
    "metrics without the token": ("/metrics", {}),
    "metrics": ("/metrics", BEARER),
}


@pytest.fixture(scope="module")
def worker_run(operated: Operated) -> WorkerRun:
    """``ecm-comms worker --health-port`` on the server's database, probed, then stopped. An
    operator's PROMETHEUS_MULTIPROC_DIR is in its environment: its counters stay its own."""
    workdir, port = operated.workdir, free_port()
    shared = workdir / "operators-metrics"
    shared.mkdir()
    env = operated.env | {"PROMETHEUS_MULTIPROC_DIR": str(shared)}
    with open(workdir / "worker.out", "w") as out, open(workdir / "worker.err", "w") as err:
        worker = subprocess.Popen(
            [ECM_COMMS, "worker", "--threads", "1", "--health-port", str(port)],
            env=env, cwd=workdir, stdout=out, stderr=err, text=True,
        )  # fmt: skip
        try:
            wait_for_port(port, worker)
            answers = {
                name: requests.get(
                    f"http://127.0.0.1:{port}{path}",
                    headers={REQUEST_ID: f"probe-{number}", **headers},
                    timeout=TIMEOUT,
                )
                for number, (name, (path, headers)) in enumerate(PROBES.items())
            }
        finally:
            worker.send_signal(signal.SIGTERM)
            exit_code = worker.wait(timeout=40)
    return WorkerRun(answers, exit_code, workdir, shared)


def test_the_worker_answers_healthz_and_readyz_on_its_health_port(worker_run: WorkerRun) -> None:
    assert worker_run.answers["healthz"].json() == {"status": "ok"}
    assert worker_run.answers["readyz"].status_code == 200
    assert worker_run.answers["readyz"].json() == {
        "status": "ready",
        "checks": {"database": "ok", "migrations": "ok"},
    }
    assert list(worker_run.answers["readyz"].json()) == ["status", "checks"]  # as the server's


def test_the_workers_metrics_want_the_token_and_show_the_send_queue_backlog(
    worker_run: WorkerRun,
) -> None:
    metrics = worker_run.answers["metrics"]

    assert worker_run.answers["metrics without the token"].status_code == 401
    assert metrics.status_code == 200
    assert shows_an_empty_send_queue(metrics.text)


def test_the_workers_metrics_count_its_own_requests_alone(worker_run: WorkerRun) -> None:
    counted = samples(worker_run.answers["metrics"].text, "ecm_http_requests_total")

    assert counted == {
        request_labels("/healthz", "GET", 200): 1.0,
        request_labels("/readyz", "GET", 200): 1.0,
        request_labels("/metrics", "GET", 401): 1.0,
    }


def test_the_worker_keeps_no_counts_in_an_operators_prometheus_multiproc_dir(
    worker_run: WorkerRun,
) -> None:
    assert list(worker_run.operators_metrics_directory.iterdir()) == []


def test_the_workers_probes_write_no_log_lines(worker_run: WorkerRun) -> None:
    records, _ = worker_run.log()

    assert [r for r in records if "probe-" in json.dumps(r)] == []
    assert [r for r in records if any(p in r["message"] for p, _ in PROBES.values())] == []


def test_every_line_the_worker_wrote_is_a_json_object_until_it_stopped(
    worker_run: WorkerRun,
) -> None:
    records, others = worker_run.log()

    assert worker_run.exit_code == 0
    assert others == []
    assert [(r, lacking_fields(r)) for r in records if lacking_fields(r)] == []
    assert records[-1]["message"] == "ecm-comms worker stopped"
    assert "huey.consumer" in {record["logger"] for record in records}


@pytest.mark.parametrize(
    ("host", "reason"),
    [("127.0.0.1", "Address already in use"), ("203.0.113.9", "Cannot assign requested address")],
    ids=["a port in use", "an address not of this host"],
)
def test_a_worker_whose_health_port_cannot_be_served_exits_saying_why(
    operated: Operated, host: str, reason: str
) -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        done = subprocess.run(
            [ECM_COMMS, "worker", "--health-port", str(port), "--health-host", host],
            env=operated.env, cwd=operated.workdir, capture_output=True, text=True, timeout=60,
            check=False,
        )  # fmt: skip

    assert done.returncode == 1
    assert f"Error: --health-port {port} cannot be served on {host}: {reason}" in done.stderr
    assert "Traceback" not in done.stderr + done.stdout


# --- the server's own process ---------------------------------------------------------------------


def test_the_cli_leaves_prometheus_client_unimported_for_the_workers_to_import() -> None:
    """prometheus-client reads PROMETHEUS_MULTIPROC_DIR when first imported: a master that
    imported it would have its workers count apart."""
    done = subprocess.run(
        [sys.executable, "-c",
         "import sys, ecm_comms.entrypoints.cli.main; print('prometheus_client' in sys.modules)"],
        env=clean_environment(), capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip

    assert done.stdout.strip() == "False"
