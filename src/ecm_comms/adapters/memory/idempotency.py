from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from ecm_comms.ports.idempotency import KeyUse, StoredResponse


class InMemoryIdempotencyKeys:
    def __init__(self) -> None:
        self.uses: dict[tuple[int, str], KeyUse] = {}

    def claim(self, use: KeyUse) -> KeyUse | None:
        stored = self.uses.setdefault((use.user_id, use.key), use)
        return None if stored is use else stored

    def take_over(self, stale: KeyUse, use: KeyUse) -> bool:
        if self.uses.get((stale.user_id, stale.key)) != stale:
            return False
        self.uses[(use.user_id, use.key)] = use
        return True

    def complete(self, user_id: int, key: str, response: StoredResponse) -> None:
        use = self.uses[(user_id, key)]
        self.uses[(user_id, key)] = replace(use, response=response)

    def release(self, user_id: int, key: str) -> None:
        use = self.uses.get((user_id, key))
        if use is not None and use.response is None:
            del self.uses[(user_id, key)]

    def prune(self, older_than: datetime) -> int:
        old = [k for k, use in self.uses.items() if use.started_at < older_than]
        for k in old:
            del self.uses[k]
        return len(old)
