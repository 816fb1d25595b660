"""How the server and the worker write their logs: text for a person (the default), or one JSON
object a line for a log pipeline (ECM_LOG_FORMAT=json), with python-json-logger.

One logging configuration covers everything a process writes: our loggers, gunicorn's error and
access logs (handed to gunicorn as its ``logconfig_dict``), huey's, and Python's warnings. A log
line written while a request is handled carries that request's id.
"""

from __future__ import annotations

import logging
import logging.config
from contextvars import ContextVar
from typing import Any

from pythonjsonlogger.json import JsonFormatter

from ecm_comms.settings import LogFormat

# The id of the request this thread is handling, for the log lines written meanwhile.
current_request_id: ContextVar[str | None] = ContextVar("ecm_request_id", default=None)

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# Where gunicorn's access log finds a request's route template and id (its ``{…}e`` atom).
ROUTE_ENVIRON_KEY = "ecm.route"
REQUEST_ID_HEADER = "X-Request-Id"
# Text: the line gunicorn has always written, then the request's id. The path only, never the
# query string: it may one day carry more than ids.
TEXT_ACCESS_FORMAT = '%(h)s "%(m)s %(U)s" %(s)s %(b)s %(M)sms %({x-request-id}o)s'
JSON_ACCESS_FORMAT = '"%(m)s %(U)s" %(s)s'  # the message; the rest are fields of their own


class RequestIdFilter(logging.Filter):
    """Gives a line written during a request that request's id, as ``request_id``."""

    def filter(self, record: logging.LogRecord) -> bool:
        request_id = current_request_id.get()
        if request_id is not None and not hasattr(record, "request_id"):
            record.request_id = request_id
        return True


class AccessFields(logging.Filter):
    """Lifts gunicorn's access-log atoms (its log call's argument) into fields of the line."""

    def filter(self, record: logging.LogRecord) -> bool:
        atoms = record.args
        if not isinstance(atoms, dict):
            return True
        record.method = atoms.get("m")
        record.route = _known(atoms.get("{%s}e" % ROUTE_ENVIRON_KEY))  # noqa: UP031
        record.status = _number(atoms.get("s"))
        record.duration_ms = round(int(atoms.get("D", 0)) / 1000, 3)
        record.request_id = _known(atoms.get("{%s}o" % REQUEST_ID_HEADER.lower()))  # noqa: UP031
        return True


def _known(atom: object) -> str | None:
    return None if atom in (None, "-") else str(atom)


def _number(atom: object) -> int | str | None:
    text = _known(atom)
    return int(text) if text is not None and text.isdigit() else text


class TextFormatter(logging.Formatter):
    """The text line, ending with `` request_id=…`` when it was written during a request."""

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        request_id = getattr(record, "request_id", None)
        return f"{line} request_id={request_id}" if request_id else line


def logging_config(log_format: LogFormat, *, level: str = "INFO") -> dict[str, Any]:
    """A ``logging.config.dictConfig`` for ``log_format``: every logger to standard error
    through one handler; gunicorn's access log to standard output, as gunicorn writes it."""
    if log_format is LogFormat.JSON:
        main = access = {
            "()": JsonFormatter,
            "fmt": "%(levelname)s %(name)s %(process)d %(message)s",
            "rename_fields": {"levelname": "level", "name": "logger", "process": "pid"},
            "timestamp": "time",
        }
        access_filters = ["access_fields"]
    else:
        main = {"()": TextFormatter, "fmt": TEXT_FORMAT}
        access = {"format": TEXT_FORMAT}  # the request's id is in the access line already
        access_filters = []
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {
            "request_id": {"()": RequestIdFilter},
            "access_fields": {"()": AccessFields},
        },
        "formatters": {"main": main, "access": access},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stderr",
                "formatter": "main",
                "filters": ["request_id"],
            },
            "access": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stdout",
                "formatter": "access",
                "filters": access_filters,
            },
        },
        "root": {"level": level, "handlers": ["stderr"]},
        "loggers": {
            "gunicorn.error": {"level": level, "handlers": [], "propagate": True},
            "gunicorn.access": {"level": "INFO", "handlers": ["access"], "propagate": False},
            # twilio-python logs each request's URL, which names the account, at INFO; urllib3
            # names it too when it retries a connection to Twilio.
            "twilio": {"level": "WARNING"},
            "urllib3.connectionpool": {"level": "ERROR"},
        },
    }


def access_log_format(log_format: LogFormat) -> str:
    return JSON_ACCESS_FORMAT if log_format is LogFormat.JSON else TEXT_ACCESS_FORMAT


def configure_logging(log_format: LogFormat) -> None:
    logging.config.dictConfig(logging_config(log_format))
    logging.captureWarnings(True)  # warnings become log lines, in the same format
