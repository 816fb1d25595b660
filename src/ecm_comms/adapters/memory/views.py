from __future__ import annotations

from datetime import datetime

from ecm_comms.adapters.memory.unit_of_work import InMemoryStore
from ecm_comms.domain.channels import Channel
from ecm_comms.domain.communications import TextMessage, VoiceCall
from ecm_comms.domain.consent import Consent
from ecm_comms.domain.history import HistoryItem, Position
from ecm_comms.domain.phone_numbers import PhoneNumber


class InMemoryCommunicationViews:
    """``CommunicationViews`` over the committed records of an ``InMemoryStore``."""

    def __init__(self, store: InMemoryStore) -> None:
        self._store = store

    def find(self, channel: Channel, record_id: int) -> HistoryItem | None:
        records = self._store.messages if channel is Channel.SMS else self._store.calls
        record = records.get(record_id)
        return None if record is None else self._item(record)

    def history(self, patient_id: int, limit: int, after: Position | None) -> list[HistoryItem]:
        items = [self._item(r) for r in self._store.records() if r.patient_id == patient_id]
        items.sort(key=_order, reverse=True)
        if after is not None:
            items = [i for i in items if _order(i) < _order_of(after)]
        return items[:limit]

    def _item(self, record: TextMessage | VoiceCall) -> HistoryItem:
        assert record.id is not None
        return HistoryItem(record, self._store.activities.for_record(record.CHANNEL, record.id))


class InMemoryConsentViews:
    """``ConsentViews`` over the committed ledger of an ``InMemoryStore``."""

    def __init__(self, store: InMemoryStore) -> None:
        self._store = store

    def consent(self, phone: PhoneNumber, clinic_id: int | None) -> Consent:
        return self._store.consent.consent(phone, clinic_id)


def _order(item: HistoryItem) -> tuple[datetime, str, int]:
    return _order_of(Position.of(item))


def _order_of(position: Position) -> tuple[datetime, str, int]:
    return (position.created_at, position.channel.value, position.record_id)
