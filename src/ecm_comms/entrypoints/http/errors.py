"""Every failure as ``{"errors": [...]}`` with the status of the design guide's error table."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence

from flask import Blueprint, Flask, Response, jsonify
from werkzeug.exceptions import HTTPException

from ecm_comms.domain.errors import (
    AdminRequired,
    CampaignNotFound,
    CommunicationFailed,
    DomainError,
    NotAuthenticated,
    NotScheduled,
    PatientNotFound,
    RecordNotFound,
    StorageUnavailable,
)

log = logging.getLogger(__name__)


class RequestRefused(Exception):
    """Refused before any use case runs: a wrong shape (not JSON, a field of the wrong type),
    or a webhook whose signature does not hold."""

    def __init__(
        self, status: int, messages: Sequence[str], *, headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__("; ".join(messages))
        self.status = status
        self.messages = list(messages)
        self.headers = dict(headers or {})  # e.g. WWW-Authenticate on a 401


def error_response(status: int, messages: Sequence[str]) -> tuple[Response, int]:
    return jsonify({"errors": list(messages)}), status


def status_for(error: DomainError) -> int:
    if isinstance(error, NotAuthenticated):
        return 401
    if isinstance(error, AdminRequired):
        return 403
    if isinstance(error, PatientNotFound | RecordNotFound | CampaignNotFound):
        return 404
    if isinstance(error, NotScheduled):
        return 409
    if isinstance(error, StorageUnavailable):
        return 503
    if isinstance(error, CommunicationFailed) and error.unavailable:
        return 502
    return 422


def _domain_error(error: DomainError) -> tuple[Response, int]:
    return error_response(status_for(error), error.messages)


def _malformed(error: RequestRefused) -> tuple[Response, int]:
    response, status = error_response(error.status, error.messages)
    response.headers.update(error.headers)
    return response, status


# Werkzeug's descriptions are written for HTML pages; these are for API clients.
_HTTP_MESSAGES = {
    404: "Not found",
    405: "Method not allowed",
    413: "Request body is too large",
}


def _http_error(error: HTTPException) -> tuple[Response, int]:
    status = error.code or 500
    response, _ = error_response(status, [_HTTP_MESSAGES.get(status, error.name)])
    for name, value in error.get_headers():
        if name.lower() != "content-type":  # e.g. Allow on a 405
            response.headers[name] = value
    return response, status


def _unexpected(error: Exception) -> tuple[Response, int]:
    # The type only: the message of a database error (and so its traceback) can quote the data.
    log.error("unexpected %s while handling a request", type(error).__name__, exc_info=False)
    return error_response(500, ["Internal server error"])


def register_error_handlers(target: Flask | Blueprint) -> None:
    """JSON answers for everything raised in ``target``'s views."""
    target.register_error_handler(DomainError, _domain_error)
    target.register_error_handler(RequestRefused, _malformed)
    target.register_error_handler(HTTPException, _http_error)
    if isinstance(target, Flask):
        target.register_error_handler(Exception, _unexpected)
