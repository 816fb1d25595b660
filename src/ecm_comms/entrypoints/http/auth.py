from __future__ import annotations

from flask import request

from ecm_comms.domain.commands import Authenticate
from ecm_comms.domain.people import User
from ecm_comms.entrypoints.http.services import container

TOKEN_HEADER = "X-User-Token"


def current_user() -> User:
    """The user whose token came with the request; ``NotAuthenticated`` otherwise."""
    return container().authenticate()(Authenticate(request.headers.get(TOKEN_HEADER)))
