"""Twilio's status callbacks: statuses only move forward, and every callback is kept."""

from __future__ import annotations

import logging

from ecm_comms.domain.commands import ApplyStatus
from ecm_comms.domain.communications import StatusReport, TextMessage
from ecm_comms.domain.consent import ConsentEntry
from ecm_comms.domain.opt_outs import OPTED_OUT_ERROR_CODE
from ecm_comms.domain.use_cases.outreach import record_outreach
from ecm_comms.ports.clinics import ClinicDirectory
from ecm_comms.ports.clock import Clock
from ecm_comms.ports.metrics import UNCOUNTED, OutreachMetrics
from ecm_comms.ports.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)


class ApplyStatusHandler:
    """Keep the callback in the status log, then move its SMS or call forward under a row lock.

    A record that has no sid yet was recorded before a send that was interrupted after the
    provider took it: this callback, matched by the record id in its URL, completes it with its
    sid, activity and event.
    """

    def __init__(
        self,
        uow: UnitOfWork,
        clinics: ClinicDirectory,
        clock: Clock,
        metrics: OutreachMetrics = UNCOUNTED,
    ) -> None:
        self._uow = uow
        self._clinics = clinics
        self._clock = clock
        self._metrics = metrics

    def __call__(self, command: ApplyStatus) -> None:
        report = StatusReport(
            command.channel,
            command.twilio_sid,
            command.status,
            self._clock.now(),
            record_id=command.record_id,
            error_code=command.error_code,
            error_message=command.error_message,
            duration_seconds=command.duration_seconds,
        )
        with self._uow as uow:
            first_report = uow.status_log.append(report)  # False: Twilio sent it before
            records = uow.records(report.channel)
            record = records.lock(sid=report.twilio_sid, record_id=report.record_id)
            if record is None:
                log.warning(
                    "%s status callback for an unknown record, kept in the log", report.channel
                )
                uow.commit()

                return
            completing = record.twilio_sid is None
            if completing:
                record.twilio_sid = report.twilio_sid
            if record.apply_report(report) or completing:
                records.update(record)
            if completing:
                record_outreach(uow, record)
            opt_out = None
            if (
                first_report
                and isinstance(record, TextMessage)
                and report.error_code == OPTED_OUT_ERROR_CODE
            ):
                scope = self._sent_through(record)
                opt_out = ConsentEntry.carrier_opt_out(record, scope, report.received_at)
                uow.consent.append(opt_out)
            uow.commit()
        if first_report and record.is_past(report):
            self._metrics.stale_status_ignored(report.channel)
        if opt_out is not None:
            self._metrics.opt_out_recorded(opt_out.source)

    def _sent_through(self, message: TextMessage) -> int | None:
        """Whose opt-outs Twilio's 21610 binds: the clinic's, when the SMS went from one of its
        own numbers, else the shared number's; by the number it went from, not by what the
        clinic's numbers are now."""
        holder = self._clinics.holding(message.from_)
        return holder.id if holder is not None and holder.id == message.clinic_id else None
