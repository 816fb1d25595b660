"""The send queue on huey, kept in the records' own database by huey's SQL storage.

The service and every worker pointed at one ``ECM_DATABASE_URL`` share one queue, with no
broker to run: on SQLite (one machine) and on PostgreSQL (several hosts), where workers take
tasks with ``FOR UPDATE SKIP LOCKED`` so that no two take the same one. A task carries a batch
of automated SMS ids; one due later waits in huey's schedule, in the same database.

Taking a task deletes it from the queue, so a worker killed while it holds a batch takes the
batch with it. Nothing is lost for that: the records say what is still scheduled, and the
sweep (run here every minute, and when a worker starts) queues again what no worker has taken
within its lease. A task queued twice is harmless: the send itself checks the record.
"""

from __future__ import annotations

import logging
import signal
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import peewee
from huey import Huey, crontab
from huey.consumer import Consumer, Scheduler
from huey.contrib.sql_huey import SqlStorage
from sqlalchemy.engine import make_url

from ecm_comms.domain.errors import StorageUnavailable

log = logging.getLogger(__name__)

QUEUE_NAME = "ecm_comms"
# The most ids one task carries, whatever the caller hands over at once.
MAX_BATCH = 50
# How often a worker sweeps (huey's scheduler looks at its periodic tasks this often). With the
# sweep's lease (under a minute), work a killed worker had taken is queued again within two.
SWEEP_SECONDS = 60
# An idle worker thread looks at the queue at least this often; a busy one at once.
MAX_POLL_SECONDS = 2.0
# On SIGTERM a worker finishes the batches in hand, for at most this long, then stops.
SHUTDOWN_SECONDS = 30.0
_SQLITE_BUSY_TIMEOUT_SECONDS = 15  # as the SQLAlchemy engine's
_SWEEP_PRIORITY = 10  # ahead of a campaign's backlog: it is what finds lost work

SendOne = Callable[[int], None]
Sweep = Callable[[], int]


class QueueStorage(SqlStorage):  # type: ignore[misc]
    """huey's SQL storage on the tables the migrations made (``queue_task``, ``queue_schedule``,
    ``queue_kv``, ``queue_counter``): Alembic owns the schema, so huey creates nothing."""

    def __init__(self, name: str, database: peewee.Database) -> None:
        super().__init__(name, database=database, create_tables=False)

    def create_models(self) -> tuple[type[peewee.Model], ...]:
        models: tuple[type[peewee.Model], ...] = super().create_models()
        for model in models:
            model._meta.set_table_name(f"queue_{model._meta.table_name}")
        return models


def peewee_database(database_url: str) -> peewee.Database:
    """The peewee database (huey's storage speaks peewee) at a SQLAlchemy URL."""
    url = make_url(database_url)
    backend = url.get_backend_name()
    if backend == "sqlite":
        return peewee.SqliteDatabase(
            url.database or ":memory:",
            timeout=_SQLITE_BUSY_TIMEOUT_SECONDS,
            pragmas={
                "journal_mode": "wal",
                "busy_timeout": _SQLITE_BUSY_TIMEOUT_SECONDS * 1000,
            },
        )
    if backend == "postgresql":
        # Connection options in the query string (sslmode, …) go to the driver as they are.
        options: dict[str, Any] = {k: v for k, v in url.query.items() if isinstance(v, str)}
        return peewee.PostgresqlDatabase(
            url.database,
            user=url.username,
            password=url.password,
            host=url.host,
            port=url.port,
            prefer_psycopg3=True,
            **options,
        )
    raise ValueError(f"the task queue runs on SQLite or PostgreSQL, not {backend}")


class HueyQueue:
    """``SendQueue`` on huey. The service only enqueues; ``worker`` runs the tasks."""

    def __init__(self, database: peewee.Database, name: str = QUEUE_NAME) -> None:
        self.huey = Huey(
            name,
            results=False,  # nothing waits for a task's result: the records hold the outcome
            utc=True,
            storage_class=QueueStorage,
            database=database,
        )
        self._send_one: SendOne | None = None
        self._sweep: Sweep | None = None
        self._send_task = self.huey.task(name="send_automated_sms")(self._run_send)
        self.huey.periodic_task(crontab(minute="*"), name="sweep", priority=_SWEEP_PRIORITY)(
            self._run_sweep
        )
        self.huey.on_shutdown()(self._close_connection)

    @classmethod
    def at(cls, database_url: str) -> HueyQueue:
        return cls(peewee_database(database_url))

    def enqueue(self, automated_sms_ids: Sequence[int], eta: datetime | None = None) -> None:
        """One task per batch, all in one transaction; a task for later goes straight to huey's
        schedule. A database that fails here loses nothing (the records are committed, and the
        sweep queues what is due and unqueued), so it is logged, not raised."""
        ids = list(automated_sms_ids)
        if not ids:
            return
        later = eta if eta is not None and eta > datetime.now(UTC) else None
        try:
            with self.huey.storage.atomic():
                for start in range(0, len(ids), MAX_BATCH):
                    batch = ids[start : start + MAX_BATCH]
                    if later is None:
                        self.huey.enqueue(self._send_task.s(batch))
                    else:
                        self.huey.add_schedule(self._send_task.s(batch, eta=later))
        except peewee.PeeweeException as error:
            log.warning(
                "could not queue %d automated SMS (%s); the sweep will queue them when due",
                len(ids),
                type(error).__name__,
            )

    def backlog(self) -> int:
        """Batches waiting: on the queue, or in the schedule for later."""
        try:
            return int(self.huey.pending_count()) + int(self.huey.scheduled_count())
        except peewee.PeeweeException as error:
            raise StorageUnavailable() from error

    def worker(
        self,
        send_one: SendOne,
        sweep: Sweep,
        *,
        threads: int,
        sweep_seconds: int = SWEEP_SECONDS,
    ) -> Consumer:
        """huey's consumer for this queue: ``threads`` worker threads that send each id of a
        task with ``send_one``, and a scheduler that moves due tasks from the schedule to the
        queue and sweeps (``sweep``) every ``sweep_seconds``."""
        self._send_one, self._sweep = send_one, sweep
        scheduler = type(
            "SweepingScheduler", (Scheduler,), {"periodic_task_seconds": sweep_seconds}
        )
        consumer_class = type("QueueConsumer", (Consumer,), {"scheduler_class": scheduler})
        consumer: Consumer = consumer_class(
            self.huey,
            workers=threads,
            worker_type="thread",
            periodic=True,
            max_delay=MAX_POLL_SECONDS,
            # SIGTERM (what process managers send) lets the batches in hand finish; SIGINT
            # stops at once. Either way a batch cut short is safe: see the module's docstring.
            graceful_signal="TERM",
            shutdown_timeout=SHUTDOWN_SECONDS,
        )
        return consumer

    @contextmanager
    def running(
        self, send_one: SendOne, sweep: Sweep, *, threads: int, sweep_seconds: int = SWEEP_SECONDS
    ) -> Iterator[Consumer]:
        """A worker running in this process while the block runs (for tests and embedding),
        leaving the process's signal handlers as they were; stopped gracefully at the end."""
        consumer = self.worker(send_one, sweep, threads=threads, sweep_seconds=sweep_seconds)
        kept = {signum: signal.getsignal(signum) for signum in _CONSUMER_SIGNALS}
        consumer.start()
        for signum, handler in kept.items():
            signal.signal(signum, handler)
        try:
            yield consumer
        finally:
            consumer.stop(graceful=True)

    def _run_send(self, automated_sms_ids: list[int]) -> None:
        assert self._send_one is not None, "only a worker runs tasks"
        for automated_sms_id in automated_sms_ids:
            try:
                self._send_one(automated_sms_id)
            except Exception:
                # The others of the batch still go; this one, if still scheduled, is swept up.
                log.exception("automated SMS %s: the send failed", automated_sms_id)

    def _run_sweep(self) -> None:
        assert self._sweep is not None, "only a worker runs tasks"
        if swept := self._sweep():
            log.info("swept %d due automated SMS onto the queue", swept)

    def _close_connection(self) -> None:
        # Each worker thread has its own connection (peewee's are per thread).
        self.huey.storage.close()


_CONSUMER_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
