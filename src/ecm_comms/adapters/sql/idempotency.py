"""Idempotency keys in the service's database, each operation its own short transaction."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Engine, Row, and_, delete, select, update

from ecm_comms.adapters.sql import tables
from ecm_comms.adapters.sql.engine import begin
from ecm_comms.adapters.sql.repositories import insert_unless_exists
from ecm_comms.domain.errors import StorageUnavailable
from ecm_comms.ports.idempotency import KeyUse, StoredResponse

_keys = tables.idempotency_keys
_CLAIM_ATTEMPTS = 3


def _this(user_id: int, key: str) -> ColumnElement[bool]:
    return and_(_keys.c.user_id == user_id, _keys.c.key == key)


def _use(row: Row[Any], key: str) -> KeyUse:
    response = (
        None
        if row.response_status is None
        else StoredResponse(row.response_status, row.response_body)
    )
    return KeyUse(row.user_id, key, row.fingerprint, row.started_at, response)


class SqlIdempotencyKeys:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def claim(self, use: KeyUse) -> KeyUse | None:
        # The use that refused ours may be released (deleted) before we read it back: then
        # ours goes in on the next attempt.
        for _attempt in range(_CLAIM_ATTEMPTS):
            with begin(self._engine) as connection:
                claiming = insert_unless_exists(
                    connection.dialect.name, _keys, ("user_id", "key"), returning="user_id"
                )
                claimed = connection.execute(
                    claiming,
                    {
                        "user_id": use.user_id,
                        "key": use.key,
                        "fingerprint": use.fingerprint,
                        "started_at": use.started_at,
                    },
                ).first()
                if claimed is not None:
                    return None
                row = connection.execute(select(_keys).where(_this(use.user_id, use.key))).first()
            if row is not None:
                return _use(row, use.key)
        raise StorageUnavailable()  # the key keeps appearing and vanishing: a retry will do

    def take_over(self, stale: KeyUse, use: KeyUse) -> bool:
        with begin(self._engine) as connection:
            replaced = connection.execute(
                update(_keys)
                .where(_this(stale.user_id, stale.key), _keys.c.started_at == stale.started_at)
                .values(
                    fingerprint=use.fingerprint,
                    started_at=use.started_at,
                    response_status=None,
                    response_body=None,
                )
            )
        return replaced.rowcount == 1

    def complete(self, user_id: int, key: str, response: StoredResponse) -> None:
        with begin(self._engine) as connection:
            connection.execute(
                update(_keys)
                .where(_this(user_id, key))
                .values(response_status=response.status, response_body=response.body)
            )

    def release(self, user_id: int, key: str) -> None:
        with begin(self._engine) as connection:
            connection.execute(
                delete(_keys).where(_this(user_id, key), _keys.c.response_status.is_(None))
            )

    def prune(self, older_than: datetime) -> int:
        with begin(self._engine) as connection:
            return connection.execute(delete(_keys).where(_keys.c.started_at < older_than)).rowcount
