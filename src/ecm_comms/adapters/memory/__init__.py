"""In-memory fakes of every port, for tests here and in host services."""

from ecm_comms.adapters.memory.clock import FixedClock
from ecm_comms.adapters.memory.directories import (
    InMemoryClinicDirectory,
    InMemoryPatientDirectory,
    InMemoryUserDirectory,
)
from ecm_comms.adapters.memory.gateway import FakeGateway
from ecm_comms.adapters.memory.idempotency import InMemoryIdempotencyKeys
from ecm_comms.adapters.memory.metrics import CountingMetrics
from ecm_comms.adapters.memory.prtf_reports import InMemoryPrtfReports
from ecm_comms.adapters.memory.send_queue import InMemorySendQueue
from ecm_comms.adapters.memory.unit_of_work import InMemoryStore, InMemoryUnitOfWork
from ecm_comms.adapters.memory.views import (
    InMemoryActivityViews,
    InMemoryAuditViews,
    InMemoryCampaignViews,
    InMemoryCommunicationViews,
    InMemoryConsentViews,
    InMemoryReportViews,
)

__all__ = [
    "CountingMetrics",
    "FakeGateway",
    "FixedClock",
    "InMemoryActivityViews",
    "InMemoryAuditViews",
    "InMemoryCampaignViews",
    "InMemoryClinicDirectory",
    "InMemoryCommunicationViews",
    "InMemoryConsentViews",
    "InMemoryIdempotencyKeys",
    "InMemoryPatientDirectory",
    "InMemoryPrtfReports",
    "InMemoryReportViews",
    "InMemorySendQueue",
    "InMemoryStore",
    "InMemoryUnitOfWork",
    "InMemoryUserDirectory",
]
