"""The send queue on huey, in the records' own database: what is queued, a real huey consumer
runs, once, at its time — on SQLite and on PostgreSQL."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path

import peewee
import pytest
from sqlalchemy import func, inspect, select

from ecm_comms.adapters.sql import tables
from ecm_comms.adapters.sql.engine import make_engine
from ecm_comms.adapters.task_queue import MAX_BATCH, SWEEP_SECONDS, HueyQueue, peewee_database
from ecm_comms.domain.use_cases.automated_sending import LEASE

pytestmark = pytest.mark.both_databases

WAIT_SECONDS = 20.0


class Handled:
    """What the worker's send was called with, and when (thread-safe)."""

    def __init__(self, failing: int | None = None) -> None:
        self.ids: list[int] = []
        self.at: dict[int, datetime] = {}
        self._failing = failing
        self._lock = threading.Lock()

    def __call__(self, automated_sms_id: int) -> None:
        with self._lock:
            self.ids.append(automated_sms_id)
            self.at[automated_sms_id] = datetime.now(UTC)
        if automated_sms_id == self._failing:
            raise RuntimeError("this one fails")


def no_sweep() -> int:
    return 0


def wait_until(condition: Callable[[], bool], seconds: float = WAIT_SECONDS) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "not within the wait"
        time.sleep(0.05)


@pytest.fixture
def queue(database_url: str) -> Iterator[HueyQueue]:
    built = HueyQueue.at(database_url)
    yield built
    built.huey.storage.close()


def sends_waiting(queue: HueyQueue) -> int:
    """Send tasks still queued or scheduled. Not ``backlog()``: a running worker's periodic
    sweep may have been queued at a minute's turn just before it stopped."""
    tasks = [*queue.huey.pending(), *queue.huey.scheduled()]
    return sum(1 for task in tasks if task.name == "send_automated_sms")


def test_a_queued_batch_is_sent_by_a_running_worker(queue: HueyQueue) -> None:
    handled = Handled()
    queue.enqueue([11, 12, 13])

    with queue.running(handled, no_sweep, threads=2):
        wait_until(lambda: len(handled.ids) == 3)

    assert sorted(handled.ids) == [11, 12, 13]
    assert sends_waiting(queue) == 0


def test_the_queue_is_kept_in_the_migrated_queue_tables(
    queue: HueyQueue, database_url: str
) -> None:
    queue.enqueue([1])
    queue.enqueue([2], eta=datetime.now(UTC) + timedelta(hours=1))

    engine = make_engine(database_url)
    with engine.connect() as connection:
        waiting = connection.scalar(select(func.count()).select_from(tables.queue_task))
        scheduled = connection.scalar(select(func.count()).select_from(tables.queue_schedule))
    engine.dispose()
    assert (waiting, scheduled) == (1, 1)


def test_the_migrated_queue_tables_have_the_columns_huey_reads_and_writes(
    queue: HueyQueue, database_url: str
) -> None:
    storage = queue.huey.storage
    engine = make_engine(database_url)
    inspector = inspect(engine)
    for model in (storage.KV, storage.Schedule, storage.Task, storage.Counter):
        table = model._meta.table_name
        columns = {column["name"]: column for column in inspector.get_columns(table)}
        fields = {field.column_name: field for field in model._meta.sorted_fields}
        assert set(columns) == set(fields), table
        for name, field in fields.items():
            assert columns[name]["nullable"] == field.null, (table, name)
        primary_key = inspector.get_pk_constraint(table)["constrained_columns"]
        assert sorted(primary_key) == sorted(
            field.column_name for field in model._meta.get_primary_keys()
        ), table
    engine.dispose()


def test_huey_keeps_a_schedule_time_in_milliseconds_in_the_bigint_column(
    queue: HueyQueue,
) -> None:
    eta = datetime(2031, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)
    queue.enqueue([7], eta=eta)

    (task,) = queue.huey.scheduled()
    assert task.eta == eta.replace(tzinfo=None)  # huey keeps UTC, naive
    assert task.args == ([7],)


def test_a_task_for_later_waits_in_the_schedule_and_runs_at_its_time(queue: HueyQueue) -> None:
    handled = Handled()
    eta = datetime.now(UTC) + timedelta(seconds=2)
    queue.enqueue([21], eta=eta)
    assert (queue.huey.pending_count(), queue.huey.scheduled_count()) == (0, 1)
    assert queue.backlog() == 1

    with queue.running(handled, no_sweep, threads=1):
        time.sleep(1)
        assert handled.ids == []
        wait_until(lambda: handled.ids == [21])

    assert handled.at[21] >= eta
    assert sends_waiting(queue) == 0


def test_a_task_whose_time_has_come_is_queued_at_once(queue: HueyQueue) -> None:
    queue.enqueue([31], eta=datetime.now(UTC) - timedelta(seconds=1))

    assert (queue.huey.pending_count(), queue.huey.scheduled_count()) == (1, 0)


def test_many_ids_are_queued_in_batches(queue: HueyQueue) -> None:
    ids = list(range(1, 2 * MAX_BATCH + 21))

    queue.enqueue(ids)

    batches = [task.args[0] for task in queue.huey.pending()]
    assert [len(batch) for batch in batches] == [MAX_BATCH, MAX_BATCH, 20]
    assert [i for batch in batches for i in batch] == ids


def test_queuing_nothing_queues_no_task(queue: HueyQueue) -> None:
    queue.enqueue([])

    assert queue.backlog() == 0


def test_one_failing_send_does_not_keep_the_rest_of_its_batch_from_going(
    queue: HueyQueue,
) -> None:
    handled = Handled(failing=42)
    queue.enqueue([41, 42, 43])

    with queue.running(handled, no_sweep, threads=1):
        wait_until(lambda: len(handled.ids) == 3)

    assert handled.ids == [41, 42, 43]


def test_a_worker_sweeps_as_it_starts_and_then_at_every_interval(queue: HueyQueue) -> None:
    sweeps: list[float] = []
    started = time.monotonic()

    def sweep() -> int:
        sweeps.append(time.monotonic() - started)
        return 0

    with queue.running(Handled(), sweep, threads=1, sweep_seconds=1):
        wait_until(lambda: len(sweeps) >= 3)

    assert sweeps[0] < 1.5
    assert sweeps[2] - sweeps[0] >= 1.5


def test_the_sweep_goes_ahead_of_a_waiting_backlog(queue: HueyQueue) -> None:
    handled = Handled()
    sent_before_the_sweep: list[int] = []
    queue.enqueue(list(range(1, 4 * MAX_BATCH + 1)))

    def send(automated_sms_id: int) -> None:
        time.sleep(0.005)
        handled(automated_sms_id)

    def sweep() -> int:
        sent_before_the_sweep.append(len(handled.ids))
        return 0

    with queue.running(send, sweep, threads=1):
        wait_until(lambda: len(handled.ids) == 4 * MAX_BATCH)

    assert sent_before_the_sweep[0] <= MAX_BATCH  # at most the batch in hand when it came


def test_a_database_that_fails_while_queuing_loses_nothing_and_raises_nothing(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    unmigrated = HueyQueue.at(f"sqlite:///{tmp_path / 'unmigrated.sqlite3'}")

    unmigrated.enqueue([1, 2])

    assert "could not queue 2 automated SMS" in caplog.text


def test_two_workers_never_run_the_same_task(database_url: str) -> None:
    ids = list(range(1, 301))
    handled = Handled()
    with ExitStack() as stack:
        first, second = HueyQueue.at(database_url), HueyQueue.at(database_url)
        for each in (first, second):
            stack.callback(each.huey.storage.close)
        for automated_sms_id in ids:  # one task each: the most chances to take one twice
            first.enqueue([automated_sms_id])
        stack.enter_context(first.running(handled, no_sweep, threads=4))
        stack.enter_context(second.running(handled, no_sweep, threads=4))
        wait_until(lambda: len(handled.ids) >= len(ids), seconds=60)
        time.sleep(0.5)  # a second run of any of them would show now

    assert Counter(handled.ids) == Counter(ids)


def test_the_queue_database_follows_the_sqlalchemy_url() -> None:
    sqlite = peewee_database("sqlite:///some/dir/ecm.sqlite3")
    postgres = peewee_database(
        "postgresql+psycopg://comms:secret@db.internal:6432/records?sslmode=require"
    )

    assert isinstance(sqlite, peewee.SqliteDatabase)
    assert sqlite.database == "some/dir/ecm.sqlite3"
    assert isinstance(postgres, peewee.PostgresqlDatabase)
    assert postgres.database == "records"
    assert postgres.connect_params == {
        "user": "comms",
        "password": "secret",
        "host": "db.internal",
        "port": 6432,
        "sslmode": "require",
    }
    with pytest.raises(ValueError, match="SQLite or PostgreSQL"):
        peewee_database("mysql://db/records")


def test_by_default_work_a_killed_worker_had_taken_is_queued_again_within_two_minutes() -> None:
    # A lost SMS is queued again by the first sweep after its lease has run out, and a worker
    # sweeps every SWEEP_SECONDS (its scheduler looks every second).
    worst = LEASE + timedelta(seconds=SWEEP_SECONDS + 1)

    assert worst < timedelta(minutes=2)
