from __future__ import annotations

from types import TracebackType
from typing import Self

from sqlalchemy import Connection, Engine

from ecm_comms.adapters.sql.automated_sms import SqlAutomatedSmsRepository
from ecm_comms.adapters.sql.campaigns import SqlCampaignRepository
from ecm_comms.adapters.sql.contacts import SqlContactHistory
from ecm_comms.adapters.sql.engine import WRITE_TRANSACTION, connect
from ecm_comms.adapters.sql.repositories import (
    SqlActivityRepository,
    SqlConsentLedger,
    SqlEventRepository,
    SqlStatusLog,
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
        connection = connect(self._engine, **{WRITE_TRANSACTION: True})
        connection.begin()
        self._connection = connection
        self.messages = SqlTextMessageRepository(connection)
        self.calls = SqlVoiceCallRepository(connection)
        self.activities = SqlActivityRepository(connection)
        self.events = SqlEventRepository(connection)
        self.consent = SqlConsentLedger(connection)
        self.automated = SqlAutomatedSmsRepository(connection)
        self.campaigns = SqlCampaignRepository(connection)
        self.status_log = SqlStatusLog(connection)
        self.contacts = SqlContactHistory(connection)
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
