"""Serving the app on gunicorn, a production WSGI server, from inside the CLI."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask
from gunicorn.app.base import BaseApplication

# Twilio gives up on a webhook after 15 s, and a front end should not wait longer than 30 s.
REQUEST_TIMEOUT_SECONDS = 30


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


def serve(app_factory: Callable[[], Flask], *, host: str, port: int, workers: int) -> None:
    GunicornServer(
        app_factory,
        {
            "bind": f"{host}:{port}",
            "workers": workers,
            "timeout": REQUEST_TIMEOUT_SECONDS,
            "accesslog": "-",
            # The path only: query strings may one day carry more than ids.
            "access_log_format": '%(h)s "%(m)s %(U)s" %(s)s %(b)s %(M)sms',
            # One control socket per user would clash between servers on one machine.
            "control_socket_disable": True,
        },
    ).run()
