"""Counting the SQL statements a request issues: deterministic, unlike its duration."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, event


class StatementLog:
    def __init__(self) -> None:
        self.statements: list[str] = []

    def __len__(self) -> int:
        return len(self.statements)

    def __str__(self) -> str:
        return "\n".join(f"{n}. {s.splitlines()[0]}" for n, s in enumerate(self.statements, 1))


@contextmanager
def counting_statements(engine: Engine) -> Iterator[StatementLog]:
    """Every statement ``engine`` sends inside the block (SQLAlchemy's before_cursor_execute)."""
    log = StatementLog()

    def record(_conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        log.statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield log
    finally:
        event.remove(engine, "before_cursor_execute", record)
