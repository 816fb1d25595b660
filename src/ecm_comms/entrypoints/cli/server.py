"""Serving the app on gunicorn, a production WSGI server, from inside the CLI."""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any

from flask import Flask
from gunicorn.app.base import BaseApplication

from ecm_comms.entrypoints.logs import access_log_format, logging_config
from ecm_comms.settings import Settings

# Twilio gives up on a webhook after 15 s, and a front end should not wait longer than 30 s.
REQUEST_TIMEOUT_SECONDS = 30
# Where prometheus-client's multiprocess mode keeps each worker's counters, to add them up.
METRICS_DIRECTORY_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"


class GunicornServer(BaseApplication):  # type: ignore[misc]
    """Builds the app in each worker after the fork, so no database connection is shared."""

    def __init__(self, app_factory: Callable[[], Flask], options: dict[str, Any]) -> None:
        self._app_factory = app_factory
        self._options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self._options.items():
            if key in self.cfg.settings:  # newer gunicorns know more settings
                self.cfg.set(key, value)

    def load(self) -> Flask:
        return self._app_factory()


def serve(
    app_factory: Callable[[], Flask], settings: Settings, *, host: str, port: int, workers: int
) -> None:
    options = {
        "bind": f"{host}:{port}",
        "workers": workers,
        "timeout": REQUEST_TIMEOUT_SECONDS,
        "accesslog": "-",
        "access_log_format": access_log_format(settings.log_format),
        # gunicorn's own lines (its error log, its access log) in the service's format.
        "logconfig_dict": logging_config(settings.log_format),
        # One control socket per user would clash between servers on one machine.
        "control_socket_disable": True,
    }
    with shared_metrics_directory() if settings.metrics_enabled else nullcontext():
        GunicornServer(app_factory, options).run()


@contextmanager
def shared_metrics_directory() -> Iterator[None]:
    """The directory where every worker keeps its counters, so that a scrape of any of them
    adds up all: the operator's PROMETHEUS_MULTIPROC_DIR (emptied of a previous run's files),
    else one of this server's own, removed when it stops.

    prometheus-client reads the variable when it is first imported, so it must be set before
    the workers import it; nothing the server's own process runs imports it (a test holds it).
    """
    if "prometheus_client" in sys.modules:
        raise RuntimeError(
            "prometheus_client was imported before the server named its metrics directory: the "
            "workers' counters would not add up"
        )
    given = os.environ.get(METRICS_DIRECTORY_VARIABLE)
    if given:
        directory = Path(given)
        directory.mkdir(parents=True, exist_ok=True)
        for stale in directory.glob("*.db"):  # a previous run's counts are not this run's
            stale.unlink()
        yield
        return
    with tempfile.TemporaryDirectory(prefix="ecm-comms-metrics-") as created:
        os.environ[METRICS_DIRECTORY_VARIABLE] = created
        try:
            yield
        finally:
            del os.environ[METRICS_DIRECTORY_VARIABLE]
