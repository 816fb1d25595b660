"""Flat as tables grow: status callbacks, inbound matching and history pages, small vs large.

Both sizes (--small, default 10,000 SMS; --large, default 1,000,000) get a fresh PostgreSQL
database, migrated with ``ecm-comms db upgrade``, a coordinator registered with the CLI, and the
rest seeded straight in SQL (``INSERT … SELECT generate_series``, no round trip per row):
--patients patients, three in ten of them sharing a phone in families of three, one in seven
with a second number, one in four without a coordinator; N SMS and N/10 calls spread over two
years, one in five of them going to the --heavy patients (long histories; every other one in a
family), the rest spread over everyone; each with its activity and its event, each outbound one
with its status-log row. Then ``VACUUM (ANALYZE)``.

Before anything is timed, the use cases behind the paths run once in this process
(``create_container`` on the seeded database) while every statement they send is recorded; each
is explained with its own parameters (reads with ANALYZE, in a transaction rolled back) and its
plan's nodes printed. A Seq Scan on a growing table (text_messages, voice_calls, activities,
events, patient_phones, status_callbacks) of SEQ_SCAN_FLOOR rows or more fails the run.

Then each size's ``ecm-comms serve`` (simulated gateway, its own URL as ECM_PUBLIC_BASE_URL) is
sent, by one sequential keep-alive client per size, --warmup untimed and then --requests timed
rounds, the two sizes taking turns round by round (so that whatever else the machine is doing
weighs on both alike). A round is one request of each path:

- status:       a signed SMS status callback (``delivered``) for a seeded message, its own sid;
- inbound:      a signed inbound SMS from a seeded patient's number (every other one a family's);
- inbound long: the same from the number of a family with a long-history member;
- history:      GET …/patients/{id}/communications?limit=50 of a patient with a long history;
- history p2:   the page after it, through ``next_cursor``.

It prints p50/p90 per path and size, a table of the p50 ratios (large / small) against --limit
(1.3), and last ``growth: status=<ratio> inbound=<ratio> history=<ratio>`` (inbound and history:
the worse of their two rows). The databases are dropped at the end, also on failure or SIGTERM.
Exit status 1 when the run could not be made, a request got an unexpected answer or a plan
scans a growing table; with --strict also when a ratio is over --limit.

    .venv/bin/python scripts/bench_growth.py                       # 10,000 vs 1,000,000
    .venv/bin/python scripts/bench_growth.py --small 1000 --large 20000 --patients 1000 \\
        --heavy 2 --requests 20 --warmup 5                         # a quick look

Everything is bounded by --deadline (seconds); only 127.0.0.1 is ever contacted.
"""

from __future__ import annotations

import argparse
import json
import re
import secrets
import signal
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import FrameType
from typing import Any

import psycopg
import requests
from load import (
    DEFAULT_POSTGRES_URL,
    ECM_COMMS,
    LOOPBACK,
    Deadline,
    SetupError,
    free_port,
    percentile,
    run_cli,
    running_server,
    service_environment,
)
from psycopg import sql
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from twilio.request_validator import RequestValidator

from ecm_comms.adapters.simulated_gateway import DEFAULT_SENDER
from ecm_comms.container import Container, create_container
from ecm_comms.domain.commands import (
    ApplyCallStatus,
    ApplySmsStatus,
    Authenticate,
    ListCommunications,
    RecordInboundSms,
)
from ecm_comms.domain.people import User
from ecm_comms.webhook_routes import INBOUND_SMS, RECORD_ID_PARAMETER, SMS_STATUS, WEBHOOK_PREFIX

API = "/v1/clinic/ecm/communications"
CLINIC_ID = 1
USER_ID = 1
COORDINATORS = 5  # users 1..5; user 1, registered by the CLI, has the token
CLINIC_NUMBER = DEFAULT_SENDER.e164  # the simulated gateway's sender: where patients text
HEAVY_EVERY = 5  # every 5th SMS and call goes to one of the heavy patients
FAMILY_SIZE = 3  # patients 10k+1..10k+3 share one phone
HISTORY_SPAN = timedelta(days=730)
PAGE_SIZE = 50
PATHS = ("status", "inbound", "inbound long", "history", "history p2")
GROWTH_PATHS = {"status": PATHS[:1], "inbound": PATHS[1:3], "history": PATHS[3:]}
EXPECTED = {"status": 204, "inbound": 200, "inbound long": 200, "history": 200, "history p2": 200}
GROWING_TABLES = frozenset(
    {"text_messages", "voice_calls", "activities", "events", "patient_phones", "status_callbacks"}
)
# A table this small is read whole at the cost of an index lookup: the planner may, rightly.
SEQ_SCAN_FLOOR = 5_000
EXPLAIN_TIMEOUT_OPTION = "-c statement_timeout=60000"  # ms
SIGNATURE_HEADER = "X-Twilio-Signature"
REQUEST_TIMEOUT = 30.0


# --- options -----------------------------------------------------------------------------------


def parse_options(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=(__doc__ or "").splitlines()[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--small", type=int, default=10_000, help="SMS in the small table")
    parser.add_argument("--large", type=int, default=1_000_000, help="SMS in the large table")
    parser.add_argument("--patients", type=int, default=10_000, help="patients (both sizes)")
    parser.add_argument("--heavy", type=int, default=20, help="patients with long histories")
    parser.add_argument("--requests", type=int, default=300, help="timed requests per path")
    parser.add_argument("--warmup", type=int, default=30, help="untimed requests per path first")
    parser.add_argument("--workers", type=int, default=2, help="server workers")
    parser.add_argument("--limit", type=float, default=1.3, help="largest acceptable p50 ratio")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a ratio is over")
    parser.add_argument("--deadline", type=float, default=1800.0, help="seconds for everything")
    parser.add_argument("--seed", type=int, default=1, help="for the samples' order")
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES_URL)
    options = parser.parse_args(argv)
    refusal = refusal_of(options)
    if refusal:
        parser.error(refusal)
    return options


def refusal_of(options: argparse.Namespace) -> str | None:
    """Why these options cannot run, if they cannot."""
    bounds = {
        "small": (100, 10_000_000),
        "large": (100, 10_000_000),
        "patients": (100, 1_000_000),
        "heavy": (1, 1000),
        "requests": (1, 100_000),
        "warmup": (0, 10_000),
        "workers": (1, 64),
    }
    for name, (low, high) in bounds.items():
        if not low <= getattr(options, name) <= high:
            return f"--{name} must be between {low} and {high}"
    if options.patients < 10 * options.heavy:
        return "--patients must be at least 10 x --heavy"
    if not 0 < options.deadline <= 7200:
        return "--deadline must be between 0 and 7200 seconds"
    if make_url(options.postgres_url).host != LOOPBACK:
        return f"--postgres-url must be on {LOOPBACK} (this script contacts nothing else)"
    return None


# --- seeding -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Shape:
    """What is seeded: ``messages`` SMS and a tenth as many calls over ``patients``."""

    messages: int
    patients: int
    heavy: tuple[int, ...]  # the ids of the patients with long histories

    @property
    def calls(self) -> int:
        return max(1, self.messages // 10)


def heavy_patients(patients: int, count: int) -> tuple[int, ...]:
    """Ids spread over the patients: every other one the first of a family (the first of its
    ten), the others singles (the fifth)."""
    step = max(10, patients // count // 10 * 10)
    return tuple((1 if index % 2 == 0 else 5) + index * step for index in range(count))


SEED_USERS = """
INSERT INTO users (id, clinic_id, name, created_at)
SELECT u, %(clinic)s, 'Coordinator ' || u, now() FROM generate_series(2, %(coordinators)s) AS u
"""

# Patient i: no coordinator when i is a multiple of 4 (inbound SMS then ask who last contacted).
SEED_PATIENTS = """
INSERT INTO patients (id, clinic_id, name, coordinator_id, updated_at)
SELECT i, %(clinic)s, 'Patient ' || i,
       CASE WHEN mod(i, 4) = 0 THEN NULL ELSE 1 + mod(i, %(coordinators)s) END,
       now() - mod(i, 1000) * interval '1 hour'
FROM generate_series(1, %(patients)s) AS i
"""

# Patients 10k+1..10k+3 share the phone of the first (a family); the others have their own;
# every 7th has a second number too.
SEED_PHONES = """
INSERT INTO patient_phones (patient_id, phone, position)
SELECT i, '+1805' || (2000000 + CASE WHEN mod(i - 1, 10) < %(family)s
                                     THEN (i - 1) / 10 * 10 + 1 ELSE i END), 0
FROM generate_series(1, %(patients)s) AS i
UNION ALL
SELECT i, '+1661' || (2000000 + i), 1 FROM generate_series(7, %(patients)s, 7) AS i
"""

# One record per k: its patient (every HEAVY_EVERY-th a heavy one, the others hashed over
# everyone), its direction (3 in 10 inbound) and its time (evenly over the span, oldest first).
_SERIES = """
SELECT k,
       CASE WHEN mod(k, %(heavy_every)s) = 0
            THEN (%(heavy)s::bigint[])[mod(k / %(heavy_every)s, %(heavy_count)s) + 1]
            ELSE 1 + mod(hashint8(k + %(salt)s)::bigint + 2147483648, %(patients)s) END
         AS patient_id,
       mod(hashint8(k + %(salt)s + 7919)::bigint + 2147483648, 10) < 3 AS inbound,
       %(start)s::timestamptz + (k - 1) * %(step)s::interval AS at
FROM generate_series(1, %(count)s) AS k
"""

SEED_SMS = f"""
INSERT INTO text_messages (id, clinic_id, patient_id, direction, to_number, from_number, body,
                           status, twilio_sid, sent_by_id, created_at, updated_at)
SELECT m.k, %(clinic)s, m.patient_id,
       CASE WHEN m.inbound THEN 'inbound' ELSE 'outbound' END,
       CASE WHEN m.inbound THEN %(clinic_number)s ELSE p.phone END,
       CASE WHEN m.inbound THEN p.phone ELSE %(clinic_number)s END,
       CASE WHEN m.inbound THEN 'Thanks, see you then.'
            ELSE 'Reminder: your appointment is on ' || to_char(m.at, 'Dy DD Mon')
                 || ' at 10am. Reply YES to confirm.' END,
       CASE WHEN m.inbound THEN 'received' ELSE 'sent' END,
       'SM' || md5('sms' || m.k),
       CASE WHEN m.inbound THEN NULL ELSE 1 + mod(m.k, %(coordinators)s) END,
       m.at, m.at + interval '5 seconds'
FROM ({_SERIES}) AS m
JOIN patient_phones AS p ON p.patient_id = m.patient_id AND p.position = 0
ORDER BY m.k
"""  # noqa: S608 (constant text, no input)

SEED_CALLS = f"""
INSERT INTO voice_calls (id, clinic_id, patient_id, direction, to_number, from_number, status,
                         twilio_sid, sent_by_id, duration_seconds, created_at, updated_at)
SELECT m.k, %(clinic)s, m.patient_id,
       CASE WHEN m.inbound THEN 'inbound' ELSE 'outbound' END,
       CASE WHEN m.inbound THEN %(clinic_number)s ELSE p.phone END,
       CASE WHEN m.inbound THEN p.phone ELSE %(clinic_number)s END,
       'completed',
       'CA' || md5('call' || m.k),
       CASE WHEN m.inbound THEN NULL ELSE 1 + mod(m.k, %(coordinators)s) END,
       30 + mod(m.k, 600), m.at, m.at + interval '10 minutes'
FROM ({_SERIES}) AS m
JOIN patient_phones AS p ON p.patient_id = m.patient_id AND p.position = 0
ORDER BY m.k
"""  # noqa: S608 (constant text, no input)

# As the use cases make them: outbound, performed by and assigned to the sender; inbound, by the
# system and assigned to the coordinator. Calls' activities come after the SMS' in id order.
SEED_ACTIVITIES = """
INSERT INTO activities (id, clinic_id, activity_type, status, patient_id, performed_by_id,
                        assigned_to_id, text_message_id, voice_call_id, created_at)
SELECT t.id, t.clinic_id, 'sms', 'created', t.patient_id, t.sent_by_id,
       coalesce(t.sent_by_id, p.coordinator_id, 1), t.id, NULL, t.created_at
FROM text_messages AS t JOIN patients AS p ON p.id = t.patient_id
UNION ALL
SELECT %(messages)s + c.id, c.clinic_id, 'call', 'created', c.patient_id, c.sent_by_id,
       coalesce(c.sent_by_id, p.coordinator_id, 1), NULL, c.id, c.created_at
FROM voice_calls AS c JOIN patients AS p ON p.id = c.patient_id
ORDER BY 1
"""

SEED_EVENTS = """
INSERT INTO events (id, clinic_id, event_type, occurred_at, patient_id, activity_id)
SELECT id, clinic_id, activity_type, created_at, patient_id, id FROM activities ORDER BY id
"""

SEED_STATUS_LOG = """
INSERT INTO status_callbacks (channel, twilio_sid, status, record_id, received_at)
SELECT 'sms', twilio_sid, status, id, updated_at FROM text_messages WHERE direction = 'outbound'
UNION ALL
SELECT 'call', twilio_sid, status, id, updated_at FROM voice_calls WHERE direction = 'outbound'
"""

SEEDED_TABLES = ("text_messages", "voice_calls", "activities", "events", "status_callbacks")


@contextmanager
def fresh_database(server_url: str) -> Iterator[str]:
    """A new, empty database on the server at ``server_url``, dropped when the block ends."""
    name = f"ecm_comms_growth_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
        finally:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            print(f"dropped database {name}")
    finally:
        admin.dispose()


def libpq_url(database_url: str) -> str:
    """The SQLAlchemy URL as psycopg takes it."""
    return make_url(database_url).set(drivername="postgresql").render_as_string(False)


def seed_parameters(shape: Shape) -> dict[str, Any]:
    return {
        "clinic": CLINIC_ID,
        "coordinators": COORDINATORS,
        "patients": shape.patients,
        "family": FAMILY_SIZE,
        "clinic_number": CLINIC_NUMBER,
        "heavy": list(shape.heavy),
        "heavy_count": len(shape.heavy),
        "heavy_every": HEAVY_EVERY,
        "start": datetime.now(UTC) - HISTORY_SPAN,
        "messages": shape.messages,
    }


def series(parameters: dict[str, Any], count: int, salt: int) -> dict[str, Any]:
    return parameters | {"count": count, "salt": salt, "step": HISTORY_SPAN / count}


def reset_sequences(cursor: psycopg.Cursor[Any]) -> None:
    """Seeded rows carry their ids: the sequences go on after the highest."""
    for table in SEEDED_TABLES:
        cursor.execute(
            sql.SQL("SELECT setval(pg_get_serial_sequence({name}, 'id'), max(id)) FROM {table}")
            .format(name=sql.Literal(table), table=sql.Identifier(table))
        )  # fmt: skip


def seed(database_url: str, shape: Shape, deadline: Deadline) -> float:
    """Seed ``shape`` in one transaction, then VACUUM (ANALYZE); the seconds it took."""
    started = time.perf_counter()
    parameters = seed_parameters(shape)
    timeout_ms = int(deadline.remaining() * 1000) + 1
    with psycopg.connect(libpq_url(database_url), autocommit=True) as connection:
        connection.execute(sql.SQL("SET statement_timeout = {}").format(timeout_ms))
        with connection.transaction(), connection.cursor() as cursor:
            # Every row is made consistent by construction: skip the per-row FK triggers.
            cursor.execute("SET LOCAL session_replication_role = replica")
            for statement in (SEED_USERS, SEED_PATIENTS, SEED_PHONES):
                cursor.execute(statement, parameters)
            cursor.execute(SEED_SMS, series(parameters, shape.messages, 0))
            cursor.execute(SEED_CALLS, series(parameters, shape.calls, 1_000_000_007))
            for statement in (SEED_ACTIVITIES, SEED_EVENTS, SEED_STATUS_LOG):
                cursor.execute(statement, parameters)
            reset_sequences(cursor)
        connection.execute("VACUUM (ANALYZE)")
    return time.perf_counter() - started


def row_counts(database_url: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    with psycopg.connect(libpq_url(database_url)) as connection:
        for table in ("patients", *SEEDED_TABLES):
            query = sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table))
            row = connection.execute(query).fetchone()
            counts[table] = int(row[0]) if row else 0
    return counts


# --- what the requests are about ----------------------------------------------------------------


@dataclass(frozen=True)
class Samples:
    """Seeded rows the requests are about, drawn from the seeded database."""

    messages: list[tuple[int, str, str]]  # (id, sid, to) of outbound SMS still "sent"
    calls: list[tuple[int, str]]  # (id, sid) of outbound calls
    family_phones: list[str]
    single_phones: list[str]
    no_coordinator_phones: list[str]  # singles without a coordinator: who last contacted them
    heavy_family_phones: list[str]  # shared by a patient with a long history
    heavy: tuple[int, ...]


def fetch_rows(connection: psycopg.Connection[Any], query: str, count: int) -> list[Any]:
    return list(connection.execute(query, {"count": count}).fetchall())


SAMPLE_MESSAGES = """
SELECT id, twilio_sid, to_number FROM text_messages
WHERE direction = 'outbound' AND status = 'sent' ORDER BY random() LIMIT %(count)s
"""
SAMPLE_CALLS = """
SELECT id, twilio_sid FROM voice_calls WHERE direction = 'outbound'
ORDER BY random() LIMIT %(count)s
"""
SAMPLE_PHONES = """
SELECT phone FROM patient_phones GROUP BY phone HAVING count(*) {sharing}
ORDER BY random() LIMIT %(count)s
"""
SAMPLE_NO_COORDINATOR = """
SELECT pp.phone FROM patient_phones AS pp JOIN patients AS p ON p.id = pp.patient_id
GROUP BY pp.phone HAVING count(*) = 1 AND bool_and(p.coordinator_id IS NULL)
ORDER BY random() LIMIT %(count)s
"""
HEAVY_FAMILY_PHONES = """
SELECT phone FROM patient_phones
WHERE phone IN (SELECT phone FROM patient_phones WHERE patient_id = ANY(%(heavy)s))
GROUP BY phone HAVING count(*) > 1 ORDER BY phone
"""


def draw_samples(database_url: str, shape: Shape, count: int, seed_value: int) -> Samples:
    with psycopg.connect(libpq_url(database_url)) as connection:
        connection.execute("SELECT setseed(%s)", (1 / (1 + seed_value),))
        messages = fetch_rows(connection, SAMPLE_MESSAGES, count)
        calls = fetch_rows(connection, SAMPLE_CALLS, 2)
        family = fetch_rows(connection, SAMPLE_PHONES.format(sharing="> 1"), count)
        single = fetch_rows(connection, SAMPLE_PHONES.format(sharing="= 1"), count)
        lonely = fetch_rows(connection, SAMPLE_NO_COORDINATOR, 2)
        heavy_families = connection.execute(HEAVY_FAMILY_PHONES, {"heavy": list(shape.heavy)})
        heavy_family = heavy_families.fetchall()
    return Samples(
        messages=[(int(i), str(s), str(t)) for i, s, t in messages],
        calls=[(int(i), str(s)) for i, s in calls],
        family_phones=[str(row[0]) for row in family],
        single_phones=[str(row[0]) for row in single],
        no_coordinator_phones=[str(row[0]) for row in lonely],
        heavy_family_phones=[str(row[0]) for row in heavy_family],
        heavy=shape.heavy,
    )


def new_sid(prefix: str) -> str:
    return prefix + secrets.token_hex(16)


# --- the plans ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Statement:
    path: str
    text: str
    parameters: Any


@dataclass
class PlanCheck:
    lines: list[str] = field(default_factory=list)
    seq_scans: list[str] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)  # of tables under SEQ_SCAN_FLOOR rows


@contextmanager
def recording(engine: Engine, path: str, into: list[Statement]) -> Iterator[None]:
    """Every statement ``engine`` sends inside the block, with its parameters."""

    def record(_conn: Any, _cursor: Any, text: str, parameters: Any, *_rest: Any) -> None:
        into.append(Statement(path, text, parameters))

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield
    finally:
        event.remove(engine, "before_cursor_execute", record)


def hot_paths(
    container: Container, samples: Samples, user_token: str
) -> list[tuple[str, Callable[[], object]]]:
    """Each measured path's use case, once, with representative parameters: a family's number,
    a single's without a coordinator, a long-history family's; a long history's two pages. Their
    writes land (a callback applied, inbound SMS recorded) before the timed samples are drawn."""
    user = User(id=USER_ID, clinic_id=CLINIC_ID, name="Bench Coordinator")
    message_id, message_sid, _ = samples.messages[0]
    call_id, call_sid = samples.calls[0]
    heavy = samples.heavy[0]

    def history_pages() -> None:
        first = container.list_communications()(ListCommunications(heavy, user, PAGE_SIZE))
        cursor = first.next_cursor
        container.list_communications()(ListCommunications(heavy, user, PAGE_SIZE, cursor))

    def inbound(phone: str) -> Callable[[], object]:
        form = RecordInboundSms(new_sid("SM"), phone, CLINIC_NUMBER, "Thanks, see you then.")
        return lambda: container.record_inbound_sms()(form)

    return [
        ("auth", lambda: container.authenticate()(Authenticate(user_token))),
        ("status", lambda: container.apply_sms_status()(
            ApplySmsStatus(message_sid, "delivered", record_id=message_id))),
        ("status", lambda: container.apply_call_status()(
            ApplyCallStatus(call_sid, "completed", record_id=call_id, duration_seconds=61))),
        ("inbound", inbound(samples.family_phones[0])),
        ("inbound", inbound(samples.no_coordinator_phones[0])),
        ("inbound", inbound(samples.heavy_family_phones[0])),
        ("history", history_pages),
    ]  # fmt: skip


def record_hot_statements(
    database_url: str, env: dict[str, str], samples: Samples, user_token: str
) -> tuple[Container, list[Statement]]:
    # Bounded: a statement of the explained use cases, or their EXPLAIN ANALYZE, gives up in time.
    bounded = make_url(database_url).update_query_dict({"options": EXPLAIN_TIMEOUT_OPTION})
    url = bounded.render_as_string(hide_password=False)
    container = create_container(environ=env | {"ECM_DATABASE_URL": url})
    statements: list[Statement] = []
    for path, run in hot_paths(container, samples, user_token):
        with recording(container.engine(), path, statements):
            run()
    return container, statements


def is_read(text: str) -> bool:
    return text.lstrip().upper().startswith(("SELECT", "WITH"))


def explain(engine: Engine, statement: Statement) -> dict[str, Any]:
    """The statement's plan as EXPLAIN's JSON; reads run once (ANALYZE), rolled back."""
    options = "ANALYZE, BUFFERS, FORMAT JSON" if is_read(statement.text) else "FORMAT JSON"
    with engine.connect() as connection:
        transaction = connection.begin()
        try:
            result = connection.exec_driver_sql(
                f"EXPLAIN ({options}) {statement.text}", statement.parameters
            ).scalar_one()
        finally:
            transaction.rollback()
    document = json.loads(result) if isinstance(result, str) else result
    plan: dict[str, Any] = document[0]
    return plan


def node_text(node: dict[str, Any]) -> str:
    """``Index Scan[ix_…]`` and its children: ``A > B`` for one child, ``A(B, C)`` for more."""
    backward = " Backward" if node.get("Scan Direction") == "Backward" else ""
    name = node["Node Type"] + backward
    where = node.get("Index Name") or node.get("Relation Name")
    label = f"{name}[{where}]" if where else name
    children = [node_text(child) for child in node.get("Plans", [])]
    if not children:
        return label
    if len(children) == 1:
        return f"{label} > {children[0]}"
    return f"{label}({', '.join(children)})"


def seq_scans(node: dict[str, Any]) -> list[str]:
    """The growing tables a plan reads whole."""
    found = []
    if node["Node Type"] == "Seq Scan" and node.get("Relation Name") in GROWING_TABLES:
        found.append(str(node["Relation Name"]))
    for child in node.get("Plans", []):
        found += seq_scans(child)
    return found


def table_rows(engine: Engine) -> dict[str, int]:
    """The planner's row count of each growing table."""
    with engine.connect() as connection:
        rows = connection.exec_driver_sql(
            "SELECT relname, reltuples FROM pg_class WHERE relname = ANY(%(names)s)",
            {"names": sorted(GROWING_TABLES)},
        ).all()
    return {str(name): int(count) for name, count in rows}


_SHAPE = re.compile(r"^\s*(SELECT|INSERT INTO|UPDATE|DELETE FROM)\b", re.I)
_TABLE = re.compile(r"\b(?:FROM|INTO|UPDATE)\s+(\w+)", re.I)


def statement_label(text: str) -> str:
    """``SELECT patients`` / ``INSERT INTO events`` / ``… FOR UPDATE``: what a statement is."""
    kind = _SHAPE.match(text)
    table = _TABLE.search(text)
    parts = [kind.group(1).upper() if kind else text.split()[0]]
    parts += [table.group(1)] if table else []
    parts += ["UNION ALL"] if "UNION ALL" in text.upper() else []
    parts += ["FOR UPDATE"] if "FOR UPDATE" in text.upper() else []
    return " ".join(parts)


def check_plans(engine: Engine, statements: list[Statement]) -> PlanCheck:
    """Each statement's plan; Seq Scans of growing tables, but of those too small to matter."""
    check, rows = PlanCheck(), table_rows(engine)
    for statement in statements:
        plan = explain(engine, statement)
        label = f"{statement.path:<8} {statement_label(statement.text)}"
        timing = plan.get("Execution Time")
        took = f" ({timing:.2f} ms)" if timing is not None else ""
        check.lines.append(f"  {label}{took}: {node_text(plan['Plan'])}")
        for table in seq_scans(plan["Plan"]):
            scan = f"{label}: Seq Scan on {table} ({rows.get(table, 0):,} rows)"
            small = rows.get(table, 0) < SEQ_SCAN_FLOOR
            (check.ignored if small else check.seq_scans).append(scan)
    return check


# --- the requests ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Service:
    base_url: str  # also its ECM_PUBLIC_BASE_URL: what signatures are over
    user_token: str
    auth_token: str


@dataclass(frozen=True)
class Request:
    method: str
    url: str
    data: dict[str, str] | None
    headers: dict[str, str]


def signed(service: Service, path: str, form: dict[str, str]) -> Request:
    url = service.base_url + path
    signature = RequestValidator(service.auth_token).compute_signature(url, form)
    return Request("POST", url, form, {SIGNATURE_HEADER: signature})


def status_request(service: Service, message: tuple[int, str, str]) -> Request:
    record_id, sid, to = message
    form = {
        "MessageSid": sid,
        "SmsSid": sid,
        "MessageStatus": "delivered",
        "SmsStatus": "delivered",
        "AccountSid": "AC" + "0" * 32,
        "From": CLINIC_NUMBER,
        "To": to,
        "ApiVersion": "2010-04-01",
    }
    return signed(service, f"{WEBHOOK_PREFIX}{SMS_STATUS}?{RECORD_ID_PARAMETER}={record_id}", form)


def inbound_request(service: Service, phone: str) -> Request:
    sid = new_sid("SM")
    form = {
        "MessageSid": sid,
        "SmsSid": sid,
        "SmsMessageSid": sid,
        "AccountSid": "AC" + "0" * 32,
        "From": phone,
        "To": CLINIC_NUMBER,
        "Body": "Thanks, see you then.",
        "SmsStatus": "received",
        "ApiVersion": "2010-04-01",
    }
    return signed(service, WEBHOOK_PREFIX + INBOUND_SMS, form)


def history_request(service: Service, patient_id: int, cursor: str | None = None) -> Request:
    query = f"?limit={PAGE_SIZE}" + (f"&cursor={cursor}" if cursor else "")
    url = f"{service.base_url}{API}/patients/{patient_id}/communications{query}"
    return Request("GET", url, None, {"X-User-Token": service.user_token})


@dataclass
class Timings:
    seconds: dict[str, list[float]] = field(default_factory=lambda: {p: [] for p in PATHS})
    unexpected: Counter[str] = field(default_factory=Counter)

    def p(self, path: str, percent: float) -> float:
        return percentile(self.seconds[path], percent) * 1000


@dataclass
class Target:
    """One size, seeded and served."""

    size: int
    service: Service
    samples: Samples
    deadline: Deadline
    timings: Timings = field(default_factory=Timings)
    failures: list[str] = field(default_factory=list)


def send(
    session: requests.Session, request: Request, deadline: Deadline
) -> tuple[float, requests.Response | None]:
    started = time.perf_counter()
    try:
        response = session.request(
            request.method,
            request.url,
            data=request.data,
            headers=request.headers,
            timeout=deadline.timeout(REQUEST_TIMEOUT),
        )
    except requests.RequestException:
        return time.perf_counter() - started, None
    return time.perf_counter() - started, response


def timed(
    session: requests.Session,
    path: str,
    request: Request,
    timings: Timings | None,
    deadline: Deadline,
) -> requests.Response | None:
    """Send ``request``; note its time (``timings`` None: a warm-up) and any unexpected answer."""
    seconds, response = send(session, request, deadline)
    answer = str(response.status_code) if response is not None else "no answer"
    if timings is not None:
        timings.seconds[path].append(seconds)
        if answer != str(EXPECTED[path]):
            timings.unexpected[f"{path} {answer}"] += 1
    return response


def next_cursor(response: requests.Response | None) -> str | None:
    if response is None or response.status_code != 200:
        return None
    body = response.json()
    cursor = body.get("next_cursor") if isinstance(body, dict) else None
    return cursor if isinstance(cursor, str) else None


def round_of(
    session: requests.Session, target: Target, number: int, timings: Timings | None
) -> None:
    """One request of each path: the ``number``-th status callback, inbound SMS, history."""
    samples, service, deadline = target.samples, target.service, target.deadline
    phones = samples.family_phones if number % 2 == 0 else samples.single_phones
    long = samples.heavy_family_phones
    requests_ = [
        ("status", status_request(service, samples.messages[number])),
        ("inbound", inbound_request(service, phones[number // 2 % len(phones)])),
        ("inbound long", inbound_request(service, long[number % len(long)])),
    ]
    for path, request in requests_:
        timed(session, path, request, timings, deadline)
    patient = samples.heavy[number % len(samples.heavy)]
    first = timed(session, "history", history_request(service, patient), timings, deadline)
    cursor = next_cursor(first)
    if cursor is None:
        if timings is not None:
            timings.unexpected["history without next_cursor"] += 1
        return
    timed(session, "history p2", history_request(service, patient, cursor), timings, deadline)


def measure(targets: list[Target], options: argparse.Namespace, deadline: Deadline) -> None:
    """--warmup rounds untimed, then --requests timed, the sizes taking turns (first one, then
    the other) so that whatever else the machine does weighs on both alike."""
    with ExitStack() as stack:
        sessions = [stack.enter_context(requests.Session()) for _ in targets]
        for number in range(options.warmup + options.requests):
            if deadline.expired():
                for target in targets:
                    target.timings.unexpected["rounds cut short by the deadline"] += 1
                return
            turns = list(zip(sessions, targets, strict=True))
            for session, target in turns if number % 2 == 0 else reversed(turns):
                warm = number < options.warmup
                round_of(session, target, number, None if warm else target.timings)


# --- one size ------------------------------------------------------------------------------------


def prepare(
    database_url: str, env: dict[str, str], shape: Shape, deadline: Deadline
) -> tuple[str, float]:
    """Migrate, register the coordinator, seed: the coordinator's token and the seed's seconds."""
    run_cli(env, deadline, "db", "upgrade")
    created = run_cli(
        env, deadline, "users", "create", "--id", str(USER_ID), "--clinic-id", str(CLINIC_ID),
        "--name", "Bench Coordinator",
    )  # fmt: skip
    token = created.strip().splitlines()[-1]
    return token, seed(database_url, shape, deadline)


def print_seeded(shape: Shape, database_url: str, seconds: float) -> None:
    counts = row_counts(database_url)
    text = ", ".join(f"{table} {count:,}" for table, count in counts.items())
    print(f"[{shape.messages:,}] seeded in {seconds:.1f} s: {text}")
    longest = shape.messages // HEAVY_EVERY // len(shape.heavy)
    print(f"[{shape.messages:,}] {len(shape.heavy)} heavy patients, ~{longest:,} SMS each")


def check_plans_of(
    database_url: str, env: dict[str, str], shape: Shape, samples: Samples, token: str
) -> list[str]:
    """Explain the hot statements; the sequential scans found."""
    container, statements = record_hot_statements(database_url, env, samples, token)
    try:
        check = check_plans(container.engine(), statements)
    finally:
        container.engine().dispose()
    print(f"[{shape.messages:,}] plans of the {len(statements)} statements of the hot paths:")
    print(*check.lines, sep="\n")
    if check.ignored:
        print(f"[{shape.messages:,}] explain: under {SEQ_SCAN_FLOOR:,} rows, not counted:")
        print(*(f"  {scan}" for scan in check.ignored), sep="\n")
    verdict = "; ".join(check.seq_scans) or "none"
    print(f"[{shape.messages:,}] explain: sequential scans on growing tables: {verdict}")
    return check.seq_scans


@contextmanager
def served_size(
    shape: Shape, options: argparse.Namespace, deadline: Deadline, workdir: Path
) -> Iterator[Target]:
    """A fresh database seeded with ``shape``, its plans checked, served until the block ends;
    dropped then."""
    wanted = options.warmup + options.requests
    with fresh_database(options.postgres_url) as database_url:
        port = free_port()
        base_url, auth_token = f"http://{LOOPBACK}:{port}", secrets.token_hex(16)
        env = service_environment(database_url, base_url, auth_token)
        token, seconds = prepare(database_url, env, shape, deadline)
        print_seeded(shape, database_url, seconds)
        plan_samples = draw_samples(database_url, shape, 1, options.seed + 1)
        scans = check_plans_of(database_url, env, shape, plan_samples, token)
        samples = draw_samples(database_url, shape, wanted, options.seed)
        if len(samples.messages) < wanted:
            raise SetupError(f"fewer than {wanted} seeded outbound SMS to send callbacks for")
        if not (samples.family_phones and samples.single_phones and samples.heavy_family_phones):
            raise SetupError("no family, single or long-history family phone was seeded")
        target = Target(shape.messages, Service(base_url, token, auth_token), samples, deadline)
        target.failures += [f"[{shape.messages:,}] {scan}" for scan in scans]
        log = workdir / f"server-{shape.messages}.log"
        with running_server(env, port, options.workers, log, deadline):
            yield target


def print_timings(target: Target) -> None:
    timings = target.timings
    for path in PATHS:
        count = len(timings.seconds[path])
        p50, p90 = timings.p(path, 50), timings.p(path, 90)
        print(
            f"[{target.size:,}] {path:<12} p50 {p50:7.2f} ms  p90 {p90:7.2f} ms  ({count} requests)"
        )
    target.failures += [
        f"[{target.size:,}] {what} x{count}" for what, count in timings.unexpected.items()
    ]


# --- the report --------------------------------------------------------------------------------


def ratio(small: Target, large: Target, path: str) -> float:
    before = small.timings.p(path, 50)
    return large.timings.p(path, 50) / before if before > 0 else float("inf")


def report(small: Target, large: Target, limit: float) -> dict[str, float]:
    """Print the table; each growth path's ratio (history: the worse of its two pages)."""
    s, m = f"{small.size:,}", f"{large.size:,}"
    print(f"{'path':<14}{'p50 @' + s:>14}{'p50 @' + m:>18}{'ratio':>8}  within {limit}x")
    for path in PATHS:
        value = ratio(small, large, path)
        verdict = "yes" if value <= limit else "no"
        before, after = small.timings.p(path, 50), large.timings.p(path, 50)
        print(f"{path:<14}{before:>11.2f} ms{after:>15.2f} ms{value:>8.2f}  {verdict}")
    return {
        name: max(ratio(small, large, path) for path in paths)
        for name, paths in GROWTH_PATHS.items()
    }


def growth_line(ratios: dict[str, float]) -> str:
    return "growth: " + " ".join(f"{name}={ratios[name]:.2f}" for name in GROWTH_PATHS)


# --- main --------------------------------------------------------------------------------------


def stop_on_sigterm() -> None:
    """SIGTERM unwinds like Ctrl-C, so the servers stop and the databases are dropped."""

    def handler(_signal: int, _frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, handler)


def run(options: argparse.Namespace, deadline: Deadline) -> list[Target]:
    """Both sizes seeded and served at once, measured in turns; their results."""
    heavy = heavy_patients(options.patients, options.heavy)
    with ExitStack() as stack:
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="ecm-bench-")))
        targets = [
            stack.enter_context(
                served_size(Shape(size, options.patients, heavy), options, deadline, workdir)
            )
            for size in (options.small, options.large)
        ]
        print(f"measuring: {options.warmup} warm-up and {options.requests} timed rounds")
        measure(targets, options, deadline)
        for target in targets:
            print_timings(target)
    return targets


def main(argv: Sequence[str] | None = None) -> int:
    options = parse_options(argv)
    deadline = Deadline.after(options.deadline)
    stop_on_sigterm()
    if not ECM_COMMS.exists():
        print(f"bench: FAILED {ECM_COMMS} is missing: run this with the virtualenv's python")
        return 1
    try:
        small, large = run(options, deadline)
    except (SetupError, SQLAlchemyError, psycopg.Error, OSError) as error:
        print(f"bench: FAILED could not run: {error}")
        return 1
    except KeyboardInterrupt:
        print("bench: interrupted (servers stopped, databases dropped)")
        return 130
    ratios = report(small, large, options.limit)
    failures = small.failures + large.failures
    over = [name for name, value in ratios.items() if value > options.limit]
    if failures:
        print("bench: FAILED " + "; ".join(failures))
    if over:
        print(f"bench: over {options.limit}x: {', '.join(over)}")
    print(growth_line(ratios))
    return 1 if failures or (options.strict and over) else 0


if __name__ == "__main__":
    sys.exit(main())
