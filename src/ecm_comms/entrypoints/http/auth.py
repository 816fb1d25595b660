from __future__ import annotations

from flask import request

from ecm_comms.domain.commands import Authenticate
from ecm_comms.domain.people import User
from ecm_comms.entrypoints.http.errors import RequestRefused
from ecm_comms.entrypoints.http.services import container

TOKEN_HEADER = "X-User-Token"


def current_user() -> User:
    """The user whose token came with the request; a 401 otherwise."""
    token = request.headers.get(TOKEN_HEADER)
    if not token:
        raise RequestRefused(401, [f"{TOKEN_HEADER} header is required"])
    return container().authenticate()(Authenticate(token))
