from __future__ import annotations

from types import TracebackType
from typing import Self

from sqlalchemy import Connection, Engine

from ecm_comms.adapters.sql.repositories import (
    SqlActivityRepository,
    SqlEventRepository,
    SqlTextMessageRepository,
    SqlVoiceCallRepository,
)
from ecm_comms.ports.unit_of_work import UnitOfWork


class SqlUnitOfWork(UnitOfWork):
    """One connection and one transaction per ``with`` block."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._connection: Connection | None = None

    def __enter__(self) -> Self:
        self._connection = self._engine.connect()
        self._connection.begin()
        self.messages = SqlTextMessageRepository(self._connection)
        self.calls = SqlVoiceCallRepository(self._connection)
        self.activities = SqlActivityRepository(self._connection)
        self.events = SqlEventRepository(self._connection)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        try:
            super().__exit__(exc_type, exc, traceback)
        finally:
            assert self._connection is not None
            self._connection.close()
            self._connection = None

    def commit(self) -> None:
        assert self._connection is not None, "commit() inside the with block"
        self._connection.commit()

    def rollback(self) -> None:
        if self._connection is not None:
            self._connection.rollback()
