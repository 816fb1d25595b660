"""The worker's side of automated SMS: send one when the sending limits let it out, and sweep up
those no worker has taken."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from ecm_comms.domain.automated_sms import AutomatedSms, SkipReason, patient_zone
from ecm_comms.domain.clinics import Clinic, Sender, sender_for
from ecm_comms.domain.commands import SendAutomatedSms
from ecm_comms.domain.communications import TextMessage
from ecm_comms.domain.consent import ConsentSource
from ecm_comms.domain.errors import GatewayError
from ecm_comms.domain.sending_limits import FrequencyCaps, SendWindow
from ecm_comms.domain.use_cases.outreach import (
    note_refusal,
    record_acceptance,
    refusal_opts_out,
)
from ecm_comms.ports.clinics import ClinicDirectory
from ecm_comms.ports.clock import Clock
from ecm_comms.ports.directories import PatientDirectory
from ecm_comms.ports.gateway import MessagingGateway, OutboundSms
from ecm_comms.ports.metrics import UNCOUNTED, OutreachMetrics
from ecm_comms.ports.send_queue import SendQueue
from ecm_comms.ports.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)

# How many automated SMS one task carries: enough to spread a campaign's queue overhead, few
# enough that the workers share a campaign.
BATCH_SIZE = 50
# A scheduled SMS dispatched this long ago and still not taken was lost with its worker (or
# with the process that was to queue it); the sweep queues it again. The sweep runs every
# minute, so a lost one is picked up within the lease and a minute.
LEASE = timedelta(seconds=55)
_SWEEP_CHUNK = 1000


def enqueue_in_batches(queue: SendQueue, ids: list[int], eta: datetime | None = None) -> None:
    for start in range(0, len(ids), BATCH_SIZE):
        queue.enqueue(ids[start : start + BATCH_SIZE], eta=eta)


class SendAutomatedSmsHandler:
    """Send one automated SMS, if it is still scheduled and due, and the limits let it out now.

    Outside its send window it waits, scheduled, for the window to open; over its patient's
    frequency caps, or to a number that has opted out since, it is skipped, on record with the
    reason and without activity or event. Otherwise it is handed over as a direct send is:
    queued on record first, so that a worker killed mid-send never sends it twice.
    """

    def __init__(
        self,
        uow: UnitOfWork,
        patients: PatientDirectory,
        clinics: ClinicDirectory,
        gateway: MessagingGateway,
        queue: SendQueue,
        clock: Clock,
        metrics: OutreachMetrics = UNCOUNTED,
    ) -> None:
        self._uow = uow
        self._patients = patients
        self._clinics = clinics
        self._gateway = gateway
        self._queue = queue
        self._clock = clock
        self._metrics = metrics

    def __call__(self, command: SendAutomatedSms) -> None:
        now = self._clock.now()
        with self._uow as uow:
            automated = uow.automated.lock(command.automated_sms_id)
            if automated is None or not automated.is_scheduled or automated.due_at > now:
                return  # done, canceled, or queued twice: another task has it in hand
            assert automated.sms_id is not None, "a scheduled automated SMS has its SMS"
            message = uow.messages.get(automated.sms_id)
            assert message is not None, "an SMS is never deleted"
            clinic = self._clinics.get(automated.clinic_id)
            patient = self._patients.find(automated.patient_id, automated.clinic_id)
            zone = patient_zone(patient, clinic)
            window = clinic.send_window if clinic else SendWindow()
            if not window.is_open(now, zone):
                opening = window.next_opening(now, zone)
                automated.wait_until(opening)
                uow.automated.update(automated)
                uow.commit()
                self._queue.enqueue([command.automated_sms_id], eta=opening)
                return
            sender = sender_for(clinic, self._gateway.sender)
            reason = self._reason_to_skip(uow, automated, message, clinic, sender, now, zone)
            if reason is not None:
                automated.skip(reason)
                message.skip(reason, now)
            else:
                automated.hand_over(now)
                message.hand_over(sender.number, now)
            uow.automated.update(automated)
            uow.messages.update(message)
            uow.commit()
        if reason is not None:
            log.info("automated SMS %s skipped: %s", message.id, reason)
            self._metrics.automated_sms_skipped(reason)
            return
        self._send(automated, message, sender)

    def _reason_to_skip(
        self,
        uow: UnitOfWork,
        automated: AutomatedSms,
        message: TextMessage,
        clinic: Clinic | None,
        sender: Sender,
        now: datetime,
        zone: ZoneInfo,
    ) -> SkipReason | None:
        if uow.consent.opted_out([message.to], sender.clinic_id):
            return SkipReason.OPTED_OUT
        # The caps are read and used by one sender at a time, or two workers could each see
        # room for one more.
        uow.automated.hold_patient(automated.patient_id)
        caps = clinic.caps if clinic else FrequencyCaps()
        sent = uow.automated.handed_since(automated.patient_id, caps.week_start(now, zone))
        if not caps.allows(now, zone, sent):
            return SkipReason.FREQUENCY_CAP
        return None

    def _send(self, automated: AutomatedSms, message: TextMessage, sender: Sender) -> None:
        assert message.id is not None
        try:
            receipt = self._gateway.send_sms(
                OutboundSms(message.id, message.to, message.body, sender)
            )
        except GatewayError as error:
            self._after_failure(automated, message, sender, error)
            return
        record_acceptance(self._uow, message, receipt, self._clock.now())
        self._metrics.automated_sms_sent()

    def _after_failure(
        self, automated: AutomatedSms, message: TextMessage, sender: Sender, error: GatewayError
    ) -> None:
        if error.outcome_unknown:
            # The provider may have sent it: it stays queued for its status callback, and is
            # never tried again.
            log.warning("automated SMS %s: outcome unknown; waiting for its callback", message.id)
            return
        now = self._clock.now()
        retry_at = None
        noted = False
        with self._uow as uow:
            if error.retry_safe and (retry_at := automated.retry_later(now)) is not None:
                message.reschedule(now)
                uow.messages.update(message)
            else:
                automated.fail()
                noted = note_refusal(uow, message, sender, error, now)
            uow.automated.update(automated)
            uow.commit()
        if retry_at is None:
            self._metrics.automated_sms_failed()
            if noted and refusal_opts_out(message, error):
                self._metrics.opt_out_recorded(ConsentSource.CARRIER)
        else:
            self._metrics.automated_sms_retried()
            # The code, not Twilio's words: those may name the number.
            log.info(
                "automated SMS %s: attempt %s failed (code %s); retrying",
                message.id,
                automated.attempts,
                error.code,
            )
            assert automated.id is not None
            self._queue.enqueue([automated.id], eta=retry_at)


class DispatchDueHandler:
    """The sweep: queue the due scheduled SMS that no worker has taken within the lease (their
    worker died, or the process that recorded them died before queuing them)."""

    def __init__(
        self, uow: UnitOfWork, queue: SendQueue, clock: Clock, lease: timedelta = LEASE
    ) -> None:
        self._uow = uow
        self._queue = queue
        self._clock = clock
        self._lease = lease

    def __call__(self) -> int:
        now = self._clock.now()
        swept = 0
        while True:
            with self._uow as uow:
                ids = uow.automated.take_due(now, now - self._lease, _SWEEP_CHUNK)
                uow.commit()
            enqueue_in_batches(self._queue, ids)
            swept += len(ids)
            if len(ids) < _SWEEP_CHUNK:
                return swept
