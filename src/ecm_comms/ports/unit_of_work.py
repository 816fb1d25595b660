"""One transaction over the communication records, and the repositories inside it."""

from __future__ import annotations

import abc
from types import TracebackType
from typing import Protocol, Self

from ecm_comms.domain.activities import Activity, Event
from ecm_comms.domain.communications import TextMessage, VoiceCall


class TextMessageRepository(Protocol):
    def add(self, message: TextMessage) -> None:
        """Store the message and set its ``id``."""

    def get(self, message_id: int) -> TextMessage | None: ...


class VoiceCallRepository(Protocol):
    def add(self, call: VoiceCall) -> None:
        """Store the call and set its ``id``."""

    def get(self, call_id: int) -> VoiceCall | None: ...


class ActivityRepository(Protocol):
    def add(self, activity: Activity) -> None:
        """Store the activity and set its ``id``."""

    def get(self, activity_id: int) -> Activity | None: ...


class EventRepository(Protocol):
    def add(self, event: Event) -> None:
        """Store the event and set its ``id``."""

    def for_activity(self, activity_id: int) -> Event | None: ...


class UnitOfWork(abc.ABC):
    """``with uow: ...; uow.commit()``; leaving the block without commit rolls back."""

    messages: TextMessageRepository
    calls: VoiceCallRepository
    activities: ActivityRepository
    events: EventRepository

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.rollback()

    @abc.abstractmethod
    def commit(self) -> None: ...

    @abc.abstractmethod
    def rollback(self) -> None: ...
