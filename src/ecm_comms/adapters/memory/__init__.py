"""In-memory fakes of every port, for tests here and in host services."""

from ecm_comms.adapters.memory.clock import FixedClock
from ecm_comms.adapters.memory.directories import InMemoryPatientDirectory, InMemoryUserDirectory
from ecm_comms.adapters.memory.gateway import FakeGateway
from ecm_comms.adapters.memory.unit_of_work import InMemoryStore, InMemoryUnitOfWork

__all__ = [
    "FakeGateway",
    "FixedClock",
    "InMemoryPatientDirectory",
    "InMemoryStore",
    "InMemoryUnitOfWork",
    "InMemoryUserDirectory",
]
