from __future__ import annotations

import copy
from dataclasses import dataclass, field, fields
from typing import Generic, Protocol, Self, TypeVar

from ecm_comms.domain.activities import Activity, Event
from ecm_comms.domain.communications import TextMessage, VoiceCall
from ecm_comms.ports.unit_of_work import UnitOfWork


class _Identified(Protocol):
    id: int | None


Row = TypeVar("Row", bound=_Identified)


class InMemoryTable(Generic[Row]):
    """Rows by id, with ids handed out in order as a database sequence would."""

    def __init__(self) -> None:
        self.rows: dict[int, Row] = {}
        self._last_id = 0

    def add(self, row: Row) -> None:
        self._last_id += 1
        row.id = self._last_id
        self.rows[self._last_id] = row

    def get(self, row_id: int) -> Row | None:
        return self.rows.get(row_id)


class InMemoryEvents(InMemoryTable[Event]):
    def for_activity(self, activity_id: int) -> Event | None:
        return next((e for e in self.rows.values() if e.activity_id == activity_id), None)


@dataclass
class InMemoryStore:
    """The committed records, shared by every unit of work built on it."""

    messages: InMemoryTable[TextMessage] = field(default_factory=InMemoryTable)
    calls: InMemoryTable[VoiceCall] = field(default_factory=InMemoryTable)
    activities: InMemoryTable[Activity] = field(default_factory=InMemoryTable)
    events: InMemoryEvents = field(default_factory=InMemoryEvents)


class InMemoryUnitOfWork(UnitOfWork):
    """Works on a copy of the store and publishes it on commit, so a rollback discards it all."""

    def __init__(self, store: InMemoryStore | None = None) -> None:
        self.store = store if store is not None else InMemoryStore()
        self.committed = False

    def __enter__(self) -> Self:
        self.committed = False
        self._start_from_store()
        return self

    def commit(self) -> None:
        for name in (f.name for f in fields(self.store)):
            setattr(self.store, name, getattr(self._working, name))
        self.committed = True
        self._start_from_store()

    def rollback(self) -> None:
        self._start_from_store()

    def _start_from_store(self) -> None:
        self._working = copy.deepcopy(self.store)
        self.messages = self._working.messages
        self.calls = self._working.calls
        self.activities = self._working.activities
        self.events = self._working.events
