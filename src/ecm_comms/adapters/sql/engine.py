from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine, ExceptionContext, create_engine, event
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from ecm_comms.adapters.sql.liveness import replace_dropped_connections
from ecm_comms.domain.errors import StorageUnavailable

# An execution option marking a connection whose transaction will write (a unit of work).
WRITE_TRANSACTION = "ecm_write_transaction"


def make_engine(url: str, **options: Any) -> Engine:
    """An engine whose errors never echo bound parameters (they hold bodies and numbers), and
    that reports a database it cannot reach as ``StorageUnavailable``."""
    is_sqlite = url.startswith("sqlite")
    if is_sqlite:
        options.setdefault("connect_args", {"timeout": 15})
    engine = create_engine(url, hide_parameters=True, **options)
    event.listen(engine, "handle_error", _unavailable_storage)
    if is_sqlite:
        event.listen(engine, "connect", _tune_sqlite)
        event.listen(engine, "begin", _begin_sqlite)
    else:
        # A connection the server dropped (a restart, a failover) is replaced before use,
        # rather than failing the next request.
        replace_dropped_connections(engine)
    return engine


def _tune_sqlite(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy's "begin" event start transactions instead of the driver's guesswork.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    # WAL lets readers and the single writer of several server workers proceed together.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.close()


def _begin_sqlite(connection: Connection) -> None:
    # SQLite has no SELECT … FOR UPDATE. A writing transaction takes the write lock up front
    # instead, so two of them (status callbacks for one message, say) run one after the other
    # rather than both reading and one failing to upgrade its lock.
    write = connection.get_execution_options().get(WRITE_TRANSACTION, False)
    connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


def _unavailable_storage(context: ExceptionContext) -> None:
    # A lost connection, a server that refuses connections, a lock not granted in time: the
    # transaction is gone and nothing of it was kept; the caller may simply retry.
    if context.is_pre_ping:
        return  # the pool found a dead connection before use and replaces it: no one failed
    if context.is_disconnect or isinstance(context.sqlalchemy_exception, OperationalError):
        raise StorageUnavailable() from context.original_exception


def connect(engine: Engine, **execution_options: Any) -> Connection:
    """A pooled connection; a pool with none free in time is an outage too (503, not 500)."""
    try:
        return engine.connect().execution_options(**execution_options)
    except PoolTimeout as error:
        raise StorageUnavailable() from error


@contextmanager
def reading(engine: Engine) -> Iterator[Connection]:
    """A connection for a lookup outside any unit of work.

    On PostgreSQL it reads in autocommit: the lookup costs its statement alone, with no BEGIN
    before it and no ROLLBACK after it (which would also make psycopg drop the statements it
    has prepared on the server). A single statement sees one snapshot either way.
    """
    options = {} if engine.dialect.name == "sqlite" else {"isolation_level": "AUTOCOMMIT"}
    with connect(engine, **options) as connection:
        yield connection


@contextmanager
def begin(engine: Engine) -> Iterator[Connection]:
    """``engine.begin()``, through ``connect``."""
    with connect(engine) as connection, connection.begin():
        yield connection
