"""PostgreSQL databases a test module or session makes for itself."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, text


@contextmanager
def own_database(server: Engine, prefix: str) -> Iterator[str]:
    """The URL of a new, empty database ``<prefix>_<random>`` on ``server`` (an engine in
    autocommit on the maintenance database), dropped when the block ends, connections and all."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with server.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield server.url.set(database=name).render_as_string(hide_password=False)
    finally:
        with server.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
