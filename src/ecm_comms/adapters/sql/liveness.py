"""Replacing pooled connections the server dropped, without a round trip on every checkout.

SQLAlchemy's ``pool_pre_ping`` sends ``SELECT 1`` each time a connection leaves the pool: a
round trip per checkout, about a tenth of a request's time here (docs/PERFORMANCE.md). A server
that ends a connection (a restart, a failover, ``pg_terminate_backend``) tells the client so on
the socket, which then polls readable while the connection sits idle in the pool; a healthy idle
connection has nothing to read. So a checkout looks at the socket, which costs no round trip,
and pings only a connection that is readable or has been idle long enough for a firewall to have
forgotten it silently. A connection that fails the ping is replaced before anyone uses it.
"""

from __future__ import annotations

import select
import time
from typing import Any

from sqlalchemy import Engine, event
from sqlalchemy.exc import DisconnectionError

# Longer idle than this and the connection is pinged before use, whatever its socket says.
PING_AFTER_IDLE_SECONDS = 30.0
_CHECKED_IN_AT = "ecm_checked_in_at"


def replace_dropped_connections(engine: Engine) -> None:
    """On checkout, swap a connection the server hung up on (or idle for long) for a new one."""

    @event.listens_for(engine, "checkin")
    def _remember_checkin(_dbapi_connection: Any, record: Any) -> None:
        if record is not None:
            record.info[_CHECKED_IN_AT] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _check(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        checked_in_at = record.info.pop(_CHECKED_IN_AT, None)
        if checked_in_at is None:
            return  # just connected
        idle_for = time.monotonic() - checked_in_at
        if idle_for < PING_AFTER_IDLE_SECONDS and not _has_news(dbapi_connection):
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as error:  # whatever the driver raises for a dead connection
            raise DisconnectionError("the server dropped this pooled connection") from error


def _has_news(dbapi_connection: Any) -> bool:
    """Whether an idle connection's socket has something to read: the server's goodbye, an EOF,
    or (rarely) a notice; the ping then tells which."""
    if getattr(dbapi_connection, "closed", False):
        return True
    try:
        descriptor = dbapi_connection.fileno()
    except Exception:  # a closed or broken connection has no socket left
        return True
    poller = select.poll()
    poller.register(descriptor, select.POLLIN | select.POLLPRI)
    return bool(poller.poll(0))
