"""The logging configuration the CLI applies and hands to gunicorn: one JSON object a line for a
log pipeline, or a line of text for a person; a request's id on the lines written during it.

Each test applies the configuration for real (``configure_logging``) and reads what its handlers
write; the process's logging is put back as it was afterwards.
"""

from __future__ import annotations

import io
import json
import logging
import re
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from ecm_comms.entrypoints.logs import (
    TEXT_ACCESS_FORMAT,
    access_log_format,
    configure_logging,
    current_request_id,
)
from ecm_comms.settings import LogFormat

REQUEST_ID = "3f2a9c4e1b7d4e0f8a6b5c4d3e2f1a0b"
ROUTE = "/v1/clinic/ecm/communications/patients/<int:patient_id>/sms"
# What gunicorn hands its access logger: the atoms of one request (gunicorn.glogging).
ATOMS: dict[str, Any] = {
    "h": "10.0.0.7",
    "m": "POST",
    "U": "/v1/clinic/ecm/communications/patients/123/sms",
    "s": "201",
    "b": "512",
    "M": 42,
    "D": 41873,  # microseconds
    "{ecm.route}e": ROUTE,
    "{x-request-id}o": REQUEST_ID,
}


@dataclass(frozen=True)
class Written:
    """What the configured handlers wrote: standard error (every logger) and gunicorn's access
    log (standard output)."""

    stderr: io.StringIO
    stdout: io.StringIO

    def lines(self) -> list[str]:
        return self.stderr.getvalue().splitlines()

    def records(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.lines()]

    def access_records(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.stdout.getvalue().splitlines()]


_LoggerState = tuple[int, list[logging.Handler], list[Any], bool, bool]
_NEW_LOGGER: _LoggerState = (logging.NOTSET, [], [], True, False)


def _state(logger: logging.Logger) -> _LoggerState:
    return (
        logger.level,
        list(logger.handlers),
        list(logger.filters),
        logger.propagate,
        logger.disabled,
    )


def _restore(logger: logging.Logger, state: _LoggerState) -> None:
    logger.level, handlers, filters, logger.propagate, logger.disabled = state
    logger.handlers[:] = handlers
    logger.filters[:] = filters


@contextmanager
def configured(log_format: LogFormat) -> Iterator[Written]:
    """``configure_logging(log_format)`` with its handlers writing to strings; on leaving, every
    logger as it was before (pytest's own handlers included), and warnings no longer captured."""
    loggers = logging.Logger.manager.loggerDict
    before = {name: _state(one) for name, one in loggers.items() if isinstance(one, logging.Logger)}
    root = _state(logging.getLogger())
    try:
        configure_logging(log_format)
        written = Written(io.StringIO(), io.StringIO())
        [main] = logging.getLogger().handlers
        [access] = logging.getLogger("gunicorn.access").handlers
        assert isinstance(main, logging.StreamHandler)
        assert isinstance(access, logging.StreamHandler)
        main.setStream(written.stderr)
        access.setStream(written.stdout)
        yield written
    finally:
        logging.captureWarnings(False)
        for name, one in list(loggers.items()):
            if isinstance(one, logging.Logger):
                _restore(one, before.get(name, _NEW_LOGGER))
        _restore(logging.getLogger(), root)


@contextmanager
def during_a_request(request_id: str = REQUEST_ID) -> Iterator[None]:
    """What the app does for each request: its id in ``current_request_id`` meanwhile."""
    token = current_request_id.set(request_id)
    try:
        yield
    finally:
        current_request_id.reset(token)


def log_access(log_format: LogFormat, atoms: dict[str, Any]) -> None:
    """An access line as gunicorn writes it: its format, and the atoms as the argument."""
    logging.getLogger("gunicorn.access").info(access_log_format(log_format), atoms)


# JSON.


def test_an_application_line_is_one_json_object_with_the_usual_fields() -> None:
    with configured(LogFormat.JSON) as written:
        logging.getLogger("ecm_comms.worker").info("sent %d automated SMS", 3)

    [record] = written.records()
    assert {key: record[key] for key in ("level", "logger", "message")} == {
        "level": "INFO",
        "logger": "ecm_comms.worker",
        "message": "sent 3 automated SMS",
    }
    assert isinstance(record["pid"], int)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d.*", record["time"])
    assert "request_id" not in record


def test_a_line_written_during_a_request_carries_its_id() -> None:
    with configured(LogFormat.JSON) as written, during_a_request():
        logging.getLogger("ecm_comms.entrypoints.http").warning("Twilio refused the SMS")

    [record] = written.records()
    assert (record["message"], record["request_id"]) == ("Twilio refused the SMS", REQUEST_ID)


def test_a_line_written_after_the_request_has_no_id() -> None:
    with configured(LogFormat.JSON) as written:
        with during_a_request():
            pass
        logging.getLogger("ecm_comms").info("idle")

    [record] = written.records()
    assert "request_id" not in record


def test_gunicorns_own_lines_are_json_too() -> None:
    with configured(LogFormat.JSON) as written:
        logging.getLogger("gunicorn.error").info("Booting worker with pid: %s", 4242)

    [record] = written.records()
    assert (record["logger"], record["level"], record["message"]) == (
        "gunicorn.error",
        "INFO",
        "Booting worker with pid: 4242",
    )


def test_an_access_line_has_the_requests_fields_of_its_own() -> None:
    with configured(LogFormat.JSON) as written:
        log_access(LogFormat.JSON, ATOMS)

    [record] = written.access_records()
    assert {key: record[key] for key in ("logger", "method", "route", "status", "duration_ms")} == {
        "logger": "gunicorn.access",
        "method": "POST",
        "route": ROUTE,
        "status": 201,
        "duration_ms": 41.873,
    }
    assert record["request_id"] == REQUEST_ID
    assert written.lines() == []  # the access log goes to its own stream only


def test_an_access_line_of_a_request_the_app_never_saw_has_no_route_or_id() -> None:
    atoms = {key: value for key, value in ATOMS.items() if not key.startswith("{")}

    with configured(LogFormat.JSON) as written:
        log_access(LogFormat.JSON, atoms)

    [record] = written.access_records()
    assert (record["route"], record["request_id"], record["status"]) == (None, None, 201)


def test_a_warning_is_captured_as_a_json_line() -> None:
    with configured(LogFormat.JSON) as written:
        warnings.warn("this option will go away", FutureWarning, stacklevel=1)

    [record] = written.records()
    assert (record["logger"], record["level"]) == ("py.warnings", "WARNING")
    assert "FutureWarning: this option will go away" in record["message"]


def test_an_exception_and_its_traceback_are_one_line() -> None:
    with configured(LogFormat.JSON) as written:
        try:
            raise KeyError("missing")
        except KeyError:
            logging.getLogger("ecm_comms").exception("the sweep failed")

    [line] = written.lines()
    record = json.loads(line)
    assert record["message"] == "the sweep failed"
    assert "Traceback (most recent call last)" in record["exc_info"]
    assert "KeyError: 'missing'" in record["exc_info"]


def test_the_twilio_clients_request_lines_are_left_out() -> None:
    with configured(LogFormat.JSON) as written:
        # They name the account in the URL.
        logging.getLogger("twilio.http_client").info("-- BEGIN Twilio API Request --")

    assert written.lines() == []


# Text.


def test_a_text_line_has_time_level_logger_and_message() -> None:
    with configured(LogFormat.TEXT) as written:
        logging.getLogger("ecm_comms.worker").info("sent %d automated SMS", 3)

    [line] = written.lines()
    assert re.fullmatch(
        r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} INFO ecm_comms.worker: sent 3 automated SMS",
        line,
    )


def test_a_text_line_written_during_a_request_ends_with_its_id() -> None:
    with configured(LogFormat.TEXT) as written, during_a_request():
        logging.getLogger("ecm_comms").info("refused")

    [line] = written.lines()
    assert line.endswith(f"INFO ecm_comms: refused request_id={REQUEST_ID}")


def test_a_text_access_line_is_gunicorns_with_the_requests_id() -> None:
    with configured(LogFormat.TEXT) as written:
        log_access(LogFormat.TEXT, ATOMS)

    [line] = written.stdout.getvalue().splitlines()
    assert access_log_format(LogFormat.TEXT) == TEXT_ACCESS_FORMAT
    assert line.endswith(
        f'10.0.0.7 "POST /v1/clinic/ecm/communications/patients/123/sms" 201 512 42ms {REQUEST_ID}'
    )


def test_leaving_the_configuration_puts_the_loggers_back() -> None:
    root, access = logging.getLogger(), logging.getLogger("gunicorn.access")
    before = (list(root.handlers), root.level, list(access.handlers), access.propagate)

    with configured(LogFormat.JSON):
        pass

    assert (list(root.handlers), root.level, list(access.handlers), access.propagate) == before
