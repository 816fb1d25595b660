"""Whether this process can do its work now: what a load balancer asks before sending it any."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol


class DatabaseCheck(StrEnum):
    OK = "ok"
    UNAVAILABLE = "unavailable"


class MigrationsCheck(StrEnum):
    OK = "ok"  # at this code's newest migration
    BEHIND = "behind"  # older (or none): run ``ecm-comms db upgrade``
    # Newer than this code knows: a deploy that migrated first and is replacing this process.
    AHEAD = "ahead"
    UNKNOWN = "unknown"  # the database did not answer


@dataclass(frozen=True, slots=True)
class Readiness:
    database: DatabaseCheck
    migrations: MigrationsCheck

    @property
    def ready(self) -> bool:
        # A schema ahead of the code serves it while a rolling deploy replaces this process.
        return self.database is DatabaseCheck.OK and self.migrations in (
            MigrationsCheck.OK,
            MigrationsCheck.AHEAD,
        )


class ReadinessProbe(Protocol):
    def check(self) -> Readiness: ...
