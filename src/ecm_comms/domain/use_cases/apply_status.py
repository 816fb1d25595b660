"""Twilio's status callbacks: statuses only move forward, and every callback is kept."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from ecm_comms.domain.channels import Channel
from ecm_comms.domain.commands import ApplyCallStatus, ApplySmsStatus
from ecm_comms.domain.communications import TextMessage, VoiceCall
from ecm_comms.domain.opt_outs import OPTED_OUT_ERROR_CODE
from ecm_comms.domain.statuses import CallStatus, SmsStatus
from ecm_comms.domain.use_cases.outreach import record_outreach
from ecm_comms.ports.clock import Clock
from ecm_comms.ports.unit_of_work import CommunicationRepository, Record, StatusReport, UnitOfWork

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class StatusApplied:
    known: bool  # a record has this sid (or, not yet sent, this id)
    moved: bool  # its status changed
    completed: bool = False  # it got its sid from this callback (its send was interrupted)


def _apply(
    uow: UnitOfWork,
    records: CommunicationRepository[Record],
    report: StatusReport,
    advance: Callable[[Record], bool],
) -> tuple[StatusApplied, Record | None]:
    """Log the report, then move the record forward with ``advance`` under a row lock."""
    uow.status_log.append(report)
    record = records.lock(sid=report.twilio_sid, record_id=report.record_id)
    if record is None:
        log.warning("%s status callback for an unknown record, kept in the log", report.channel)
        return StatusApplied(known=False, moved=False), None
    completing = record.twilio_sid is None
    if completing:
        # The send was interrupted after the provider took it: this callback finishes the record.
        record.twilio_sid = report.twilio_sid
    moved = advance(record)
    if moved or completing:
        records.update(record)
    if completing:
        record_outreach(uow, record)
    return StatusApplied(known=True, moved=moved, completed=completing), record


Status = TypeVar("Status", SmsStatus, CallStatus)


def _parse(kind: type[Status], reported: str) -> Status | None:
    """A status this service knows, or None for one Twilio added since (kept in the log only)."""
    try:
        return kind(reported)
    except ValueError:
        return None


class ApplySmsStatusHandler:
    def __init__(self, uow: UnitOfWork, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    def __call__(self, command: ApplySmsStatus) -> StatusApplied:
        now = self._clock.now()
        status = _parse(SmsStatus, command.status)
        report = StatusReport(
            Channel.SMS,
            command.twilio_sid,
            command.status,
            now,
            record_id=command.record_id,
            error_code=command.error_code,
            error_message=command.error_message,
        )

        def advance(message: TextMessage) -> bool:
            if status is None:
                return False
            return message.apply_status(status, now, command.error_code, command.error_message)

        with self._uow as uow:
            applied, message = _apply(uow, uow.messages, report, advance)
            if message is not None and command.error_code == OPTED_OUT_ERROR_CODE:
                uow.opt_outs.opt_out(message.to, now)
            uow.commit()
        return applied


class ApplyCallStatusHandler:
    def __init__(self, uow: UnitOfWork, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    def __call__(self, command: ApplyCallStatus) -> StatusApplied:
        now: datetime = self._clock.now()
        status = _parse(CallStatus, command.status)
        report = StatusReport(
            Channel.CALL,
            command.twilio_sid,
            command.status,
            now,
            record_id=command.record_id,
            error_code=command.error_code,
            error_message=command.error_message,
            duration_seconds=command.duration_seconds,
        )

        def advance(call: VoiceCall) -> bool:
            if status is None:
                return False
            return call.apply_status(
                status, now, command.duration_seconds, command.error_code, command.error_message
            )

        with self._uow as uow:
            applied, _ = _apply(uow, uow.calls, report, advance)
            uow.commit()
        return applied
