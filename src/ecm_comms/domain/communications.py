"""The communication records: every SMS and call, outbound or inbound."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar, Generic, Self, TypeVar

from ecm_comms.domain.channels import Channel, Direction
from ecm_comms.domain.phone_numbers import PhoneNumber
from ecm_comms.domain.segments import SegmentCount, count_segments
from ecm_comms.domain.sms_bodies import SmsBody
from ecm_comms.domain.statuses import CallStatus, SmsStatus

Status = TypeVar("Status", SmsStatus, CallStatus)


@dataclass(frozen=True, slots=True)
class StatusReport:
    """One status callback as the provider sent it: what it says of a record, and the audit
    trail of a record's statuses."""

    channel: Channel
    twilio_sid: str
    status: str  # as reported: a status Twilio added since is kept in the log all the same
    received_at: datetime
    record_id: int | None = None  # ours, carried in the callback URL
    error_code: int | None = None
    error_message: str | None = None
    duration_seconds: int | None = None


@dataclass(kw_only=True, eq=False)
class Communication(Generic[Status]):
    """What an SMS and a call have in common: who, when, and what the provider says of it."""

    CHANNEL: ClassVar[Channel]
    STATUSES: ClassVar[type[SmsStatus] | type[CallStatus]]
    FAILED: ClassVar[SmsStatus | CallStatus]

    clinic_id: int | None  # None for an inbound record no patient could be matched to
    patient_id: int | None
    direction: Direction
    to: PhoneNumber
    from_: PhoneNumber
    status: Status
    twilio_sid: str | None  # None until the provider has accepted an outbound record
    created_at: datetime
    updated_at: datetime
    sent_by_id: int | None = None  # the user who sent or placed an outbound record
    error_code: int | None = None
    error_message: str | None = None
    id: int | None = None  # given by the repository when the record is added

    @classmethod
    def _new(
        cls,
        *,
        direction: Direction,
        status: Status,
        clinic_id: int | None,
        patient_id: int | None,
        to: PhoneNumber,
        from_: PhoneNumber,
        at: datetime,
        twilio_sid: str | None = None,
        sent_by_id: int | None = None,
        **details: object,
    ) -> Self:
        return cls(
            clinic_id=clinic_id,
            patient_id=patient_id,
            direction=direction,
            to=to,
            from_=from_,
            status=status,
            twilio_sid=twilio_sid,
            sent_by_id=sent_by_id,
            created_at=at,
            updated_at=at,
            **details,  # type: ignore[arg-type]  # the kind's own fields: body, duration
        )

    def accept(self, sid: str, status: Status, sender: PhoneNumber, at: datetime) -> None:
        """The provider took it and named it ``sid``."""
        self.twilio_sid = sid
        self.from_ = sender
        self._advance(status, at)
        self.updated_at = at

    def refuse(self, code: int | None, reason: str, at: datetime) -> None:
        """The provider refused it; it stays on record as failed, with the provider's words."""
        self.status = self.FAILED  # type: ignore[assignment]  # FAILED is of this record's kind
        self.error_code = code
        self.error_message = reason
        self.updated_at = at

    def apply_report(self, report: StatusReport) -> bool:
        """Move forward to the reported status; a stale, repeated or unknown one (a status the
        provider added since) changes nothing. True if it moved."""
        try:
            status = self.STATUSES(report.status)
        except ValueError:
            return False
        return self._advance(
            status,  # type: ignore[arg-type]  # STATUSES is this record's kind
            report.received_at,
            report.error_code,
            report.error_message,
        )

    def is_past(self, report: StatusReport) -> bool:
        """Whether this record's status is already past the reported one: a callback that
        arrived late. A repeated status, or another of the same rank, is not."""
        try:
            status = self.STATUSES(report.status)
        except ValueError:
            return False
        return status.rank < self.status.rank

    def _advance(
        self,
        status: Status,
        at: datetime,
        error_code: int | None = None,
        error_message: str | None = None,
    ) -> bool:
        """Move forward to ``status``; a stale or repeated one changes nothing. True if it moved."""
        if not self.status.may_become(status):
            return False
        self.status = status
        self.updated_at = at
        if error_code is not None or error_message is not None:
            self.error_code, self.error_message = error_code, error_message
        return True


@dataclass(kw_only=True, eq=False)
class TextMessage(Communication[SmsStatus]):
    CHANNEL: ClassVar[Channel] = Channel.SMS
    STATUSES: ClassVar[type[SmsStatus]] = SmsStatus
    FAILED: ClassVar[SmsStatus] = SmsStatus.FAILED

    body: SmsBody
    send_at: datetime | None = None  # an automated SMS: when it was asked to go out
    skip_reason: str | None = None  # an automated SMS the sending rules did not let out

    @classmethod
    def outbound(
        cls,
        *,
        clinic_id: int,
        patient_id: int,
        to: PhoneNumber,
        from_: PhoneNumber,
        body: SmsBody,
        sent_by_id: int,
        at: datetime,
        send_at: datetime | None = None,
    ) -> TextMessage:
        """An SMS about to go to the provider: on record before it is sent, so none is lost.

        With ``send_at`` (a scheduled or campaign SMS) it waits, ``scheduled``, for the worker.
        """
        return cls._new(
            direction=Direction.OUTBOUND,
            status=SmsStatus.QUEUED if send_at is None else SmsStatus.SCHEDULED,
            clinic_id=clinic_id,
            patient_id=patient_id,
            to=to,
            from_=from_,
            at=at,
            sent_by_id=sent_by_id,
            body=body,
            send_at=send_at,
        )

    @property
    def segments(self) -> SegmentCount:
        return count_segments(self.body.text)

    @property
    def is_scheduled(self) -> bool:
        return self.status is SmsStatus.SCHEDULED

    def hand_over(self, sender: PhoneNumber, at: datetime) -> None:
        """A scheduled SMS the worker is about to send: queued, as a direct send is."""
        self._set(SmsStatus.QUEUED, at)
        self.from_ = sender

    def reschedule(self, at: datetime) -> None:
        """Handed over, but the provider promised it did nothing: waiting again."""
        self._set(SmsStatus.SCHEDULED, at)

    def skip(self, reason: str, at: datetime) -> None:
        self._set(SmsStatus.SKIPPED, at)
        self.skip_reason = reason

    def cancel(self, at: datetime) -> None:
        self._set(SmsStatus.CANCELED, at)

    def _set(self, status: SmsStatus, at: datetime) -> None:
        # Our own moves around the provider's statuses, not a callback: no rank to respect.
        self.status = status
        self.updated_at = at

    @classmethod
    def inbound(
        cls,
        *,
        twilio_sid: str,
        clinic_id: int | None,
        patient_id: int | None,
        from_: PhoneNumber,
        to: PhoneNumber,
        body: SmsBody,
        at: datetime,
    ) -> TextMessage:
        return cls._new(
            direction=Direction.INBOUND,
            status=SmsStatus.RECEIVED,
            clinic_id=clinic_id,
            patient_id=patient_id,
            to=to,
            from_=from_,
            at=at,
            twilio_sid=twilio_sid,
            body=body,
        )

    def apply_status(
        self,
        status: SmsStatus,
        at: datetime,
        error_code: int | None = None,
        error_message: str | None = None,
    ) -> bool:
        """Move forward to ``status``; a stale or repeated one changes nothing. True if it moved."""
        return self._advance(status, at, error_code, error_message)


@dataclass(kw_only=True, eq=False)
class VoiceCall(Communication[CallStatus]):
    CHANNEL: ClassVar[Channel] = Channel.CALL
    STATUSES: ClassVar[type[CallStatus]] = CallStatus
    FAILED: ClassVar[CallStatus] = CallStatus.FAILED

    duration_seconds: int | None = None

    @classmethod
    def outbound(
        cls,
        *,
        clinic_id: int,
        patient_id: int,
        to: PhoneNumber,
        from_: PhoneNumber,
        sent_by_id: int,
        at: datetime,
    ) -> VoiceCall:
        """A call about to go to the provider: on record before it is placed, so none is lost."""
        return cls._new(
            direction=Direction.OUTBOUND,
            status=CallStatus.QUEUED,
            clinic_id=clinic_id,
            patient_id=patient_id,
            to=to,
            from_=from_,
            at=at,
            sent_by_id=sent_by_id,
        )

    @classmethod
    def inbound(
        cls,
        *,
        twilio_sid: str,
        clinic_id: int | None,
        patient_id: int | None,
        from_: PhoneNumber,
        to: PhoneNumber,
        status: CallStatus,
        at: datetime,
    ) -> VoiceCall:
        return cls._new(
            direction=Direction.INBOUND,
            status=status,
            clinic_id=clinic_id,
            patient_id=patient_id,
            to=to,
            from_=from_,
            at=at,
            twilio_sid=twilio_sid,
        )

    def apply_status(
        self,
        status: CallStatus,
        at: datetime,
        duration_seconds: int | None = None,
        error_code: int | None = None,
        error_message: str | None = None,
    ) -> bool:
        """Move forward to ``status``, with the duration reported along with it."""
        moved = self._advance(status, at, error_code, error_message)
        if moved and duration_seconds is not None:
            self.duration_seconds = duration_seconds
        return moved

    def apply_report(self, report: StatusReport) -> bool:
        moved = super().apply_report(report)
        if moved and report.duration_seconds is not None:
            self.duration_seconds = report.duration_seconds
        return moved
