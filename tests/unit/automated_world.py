"""A clinic, its patients and the automated-SMS use cases on in-memory fakes."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from ecm_comms.adapters.memory import (
    CountingMetrics,
    FakeGateway,
    FixedClock,
    InMemoryClinicDirectory,
    InMemoryPatientDirectory,
    InMemoryStore,
    InMemoryUnitOfWork,
    InMemoryUserDirectory,
)
from ecm_comms.adapters.memory.send_queue import InMemorySendQueue
from ecm_comms.adapters.memory.views import InMemoryCampaignViews
from ecm_comms.domain.automated_sms import AutomatedSms
from ecm_comms.domain.clinics import Clinic, ClinicNumber
from ecm_comms.domain.commands import ScheduleSms, SendAutomatedSms
from ecm_comms.domain.communications import TextMessage
from ecm_comms.domain.people import Patient, User
from ecm_comms.domain.phone_numbers import PhoneNumber
from ecm_comms.domain.use_cases.automated_sending import (
    DispatchDueHandler,
    SendAutomatedSmsHandler,
)
from ecm_comms.domain.use_cases.campaigns import (
    CancelCampaignHandler,
    CreateCampaignHandler,
    GetCampaignHandler,
    ListCampaignRecipientsHandler,
)
from ecm_comms.domain.use_cases.cancel_sms import CancelSmsHandler
from ecm_comms.domain.use_cases.schedule_sms import ScheduleSmsHandler

# 10:00 in California, inside the default send window.
MORNING = datetime(2026, 12, 3, 18, 0, tzinfo=UTC)
CLINIC_NUMBER = PhoneNumber("+18055550100")
SUNRISE = Clinic(
    id=1,
    name="Sunrise Clinic",
    phone=PhoneNumber("+18055550199"),
    numbers=(ClinicNumber(CLINIC_NUMBER, 1),),
)
DANA = User(id=101, clinic_id=1, name="Dana Coordinator")
ANA_PHONE = PhoneNumber("+18051234567")
ANA = Patient(id=123, clinic_id=1, phones=(ANA_PHONE,), first_name="Ana", coordinator_id=101)
BEN = Patient(id=125, clinic_id=1, phones=(PhoneNumber("+18051234568"),), first_name="Ben")
NO_PHONE = Patient(id=126, clinic_id=1, first_name="Cy")
OTHER_CLINICS = Patient(id=456, clinic_id=2, phones=(PhoneNumber("+18055550456"),))


@dataclass
class World:
    clinics: tuple[Clinic, ...] = (SUNRISE,)
    patients: tuple[Patient, ...] = (ANA, BEN, NO_PHONE, OTHER_CLINICS)
    store: InMemoryStore = field(default_factory=InMemoryStore)
    gateway: FakeGateway = field(default_factory=FakeGateway)
    clock: FixedClock = field(default_factory=lambda: FixedClock(MORNING))
    queue: InMemorySendQueue = field(default_factory=InMemorySendQueue)
    metrics: CountingMetrics = field(default_factory=CountingMetrics)

    def __post_init__(self) -> None:
        self.uow = InMemoryUnitOfWork(self.store)
        self.clinic_directory = InMemoryClinicDirectory(self.clinics)
        self.patient_directory = InMemoryPatientDirectory(self.patients)
        self.users = InMemoryUserDirectory()
        self.users.add(DANA, token_digest="0" * 64)
        self.views = InMemoryCampaignViews(self.store)
        self.schedule = ScheduleSmsHandler(
            self.uow,
            self.patient_directory,
            self.clinic_directory,
            self.gateway,
            self.queue,
            self.clock,
            metrics=self.metrics,
        )
        self.cancel = CancelSmsHandler(self.uow, self.clock)
        self.send = SendAutomatedSmsHandler(
            self.uow,
            self.patient_directory,
            self.clinic_directory,
            self.gateway,
            self.queue,
            self.clock,
            metrics=self.metrics,
        )
        self.sweep = DispatchDueHandler(self.uow, self.queue, self.clock)
        self.create_campaign = CreateCampaignHandler(
            self.uow,
            self.patient_directory,
            self.clinic_directory,
            self.users,
            self.gateway,
            self.queue,
            self.clock,
            metrics=self.metrics,
        )
        self.get_campaign = GetCampaignHandler(self.views)
        self.recipients = ListCampaignRecipientsHandler(self.views)
        self.cancel_campaign = CancelCampaignHandler(self.uow, self.views, self.clock)

    def schedule_for(self, send_at: str, patient: Patient = ANA, body: str = "Hi") -> TextMessage:
        return self.schedule(
            ScheduleSms(patient.id, patient.phones[0].e164, body, send_at, performed_by=DANA)
        )

    def run_queue(self) -> None:
        """Work every task that is due now, as a worker would (a task for later stays)."""
        for ids, eta in self.queue.take():
            if eta is not None and eta > self.clock.now():
                self.queue.enqueue(ids, eta)
                continue
            for automated_sms_id in ids:
                self.send(SendAutomatedSms(automated_sms_id))

    def message(self, sms_id: int) -> TextMessage:
        found = self.store.messages.get(sms_id)
        assert found is not None
        return found

    def automated_of(self, sms_id: int) -> AutomatedSms:
        return next(a for a in self.store.automated.rows.values() if a.sms_id == sms_id)
