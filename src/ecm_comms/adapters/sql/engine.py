from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, create_engine, event


def make_engine(url: str, **options: Any) -> Engine:
    """An engine whose errors never echo bound parameters (they hold bodies and numbers)."""
    is_sqlite = url.startswith("sqlite")
    if is_sqlite:
        options.setdefault("connect_args", {"timeout": 15})
    engine = create_engine(url, hide_parameters=True, **options)
    if is_sqlite:
        event.listen(engine, "connect", _tune_sqlite)
    return engine


def _tune_sqlite(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    # WAL lets readers and the single writer of several server workers proceed together.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.close()
