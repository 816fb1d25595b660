"""``ecm-comms worker``: send the scheduled and campaign SMS the service has queued."""

from __future__ import annotations

import dataclasses
import logging
import os
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import click
from dependency_injector import providers
from werkzeug.serving import WSGIRequestHandler, make_server

from ecm_comms.container import Container, for_worker
from ecm_comms.domain.commands import SendAutomatedSms
from ecm_comms.domain.errors import StorageUnavailable
from ecm_comms.domain.use_cases.automated_sending import LEASE
from ecm_comms.entrypoints.cli.server import METRICS_DIRECTORY_VARIABLE
from ecm_comms.entrypoints.cli.support import container_of, refusals_as_exit
from ecm_comms.entrypoints.http.app import create_health_app
from ecm_comms.settings import DatabasePool

log = logging.getLogger(__name__)

DEFAULT_THREADS = 4
# Each thread holds at most two pooled connections at once (its transaction, a lookup).
CONNECTIONS_PER_THREAD = 2


@click.command()
@click.option(
    "--threads",
    default=DEFAULT_THREADS,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Sends at once in this process. A send mostly waits (on Twilio, on the database), "
    "so threads keep it busy; for more, run more workers.",
)
# For tests that cannot wait the production minutes: how often this worker sweeps, and how long
# a queued SMS may go untaken before the sweep queues it again.
@click.option("--sweep-seconds", default=60, type=click.IntRange(1, 60), hidden=True)
@click.option(
    "--lease-seconds",
    default=int(LEASE.total_seconds()),
    type=click.IntRange(1, 3600),
    hidden=True,
)
@click.option(
    "--health-port",
    type=click.IntRange(1, 65535),
    default=None,
    help="Serve /healthz, /readyz and /metrics on this port (as the server does).",
)
@click.option(
    "--health-host",
    default="127.0.0.1",
    show_default=True,
    help="The address of --health-port (0.0.0.0: every interface).",
)
@click.pass_context
def worker(
    ctx: click.Context,
    threads: int,
    sweep_seconds: int,
    lease_seconds: int,
    health_port: int | None,
    health_host: str,
) -> None:
    """Send the scheduled and campaign SMS from the queue, until SIGTERM or Ctrl-C.

    The queue is in ECM_DATABASE_URL's database: run as many workers, on as many hosts, as the
    load needs, all pointed at the service's database. SIGTERM lets the sends in hand finish.
    """
    # One process: its counters are its own, not to be added to a server's sharing this host.
    os.environ.pop(METRICS_DIRECTORY_VARIABLE, None)
    container = for_worker(container_of(ctx))
    with refusals_as_exit():
        settings = container.settings()
        _size_the_pool(container, threads)
        queue = container.task_queue()
    try:
        waiting = queue.backlog()
    except StorageUnavailable as error:
        raise click.ClickException(
            "the queue in ECM_DATABASE_URL's database cannot be read: is the database up, and "
            "migrated (ecm-comms db upgrade)?"
        ) from error
    log.info(
        "ecm-comms worker: %d thread(s), %s gateway (%s), %s database, %d batch(es) waiting",
        threads,
        settings.gateway.value,
        settings.gateway_reason,
        settings.database_url.split(":", 1)[0],
        waiting,
    )
    lease = timedelta(seconds=lease_seconds)

    def send_one(automated_sms_id: int) -> None:
        container.send_automated_sms()(SendAutomatedSms(automated_sms_id))

    def sweep() -> int:
        swept: int = container.dispatch_due(lease=lease)()
        return swept

    with health_endpoints(container, health_host, health_port):
        queue.worker(send_one, sweep, threads=threads, sweep_seconds=sweep_seconds).run()
    container.engine().dispose()
    log.info("ecm-comms worker stopped")


def _size_the_pool(container: Container, threads: int) -> None:
    """Unless ECM_DATABASE_POOL_SIZE says otherwise, a pool that every thread can draw on."""
    settings = container.settings()
    if settings.database_pool.size is not None:
        return
    pool = DatabasePool(
        size=CONNECTIONS_PER_THREAD * threads, max_overflow=settings.database_pool.max_overflow
    )
    container.settings.override(providers.Object(dataclasses.replace(settings, database_pool=pool)))


@contextmanager
def health_endpoints(container: Container, host: str, port: int | None) -> Iterator[None]:
    """The worker's /healthz, /readyz and /metrics, served from a thread while it works."""
    if port is None:
        yield
        return
    # Bound here, not by werkzeug: on a port in use it would print its own lines and exit.
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        listening = socket.create_server((host, port), family=family)
    except OSError as error:
        raise click.ClickException(
            f"--health-port {port} cannot be served on {host}: {error.strerror or error}"
        ) from error
    with listening:  # the server works on a duplicate of it
        server = make_server(
            host,
            port,
            create_health_app(container),
            threaded=True,
            request_handler=_Unlogged,
            fd=listening.fileno(),
        )
    thread = threading.Thread(target=server.serve_forever, name="health", daemon=True)
    thread.start()
    log.info("health endpoints on %s:%d", host, server.port)
    try:
        yield
    finally:
        server.shutdown()


class _Unlogged(WSGIRequestHandler):
    """Probes come every few seconds: their lines would bury the worker's own."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass
