"""The communication records: every SMS and call, outbound or inbound."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ecm_comms.domain.channels import Direction
from ecm_comms.domain.phone_numbers import PhoneNumber
from ecm_comms.domain.sms_bodies import SmsBody
from ecm_comms.domain.statuses import CallStatus, SmsStatus


@dataclass(kw_only=True, eq=False)
class TextMessage:
    clinic_id: int | None  # None for an inbound SMS no patient could be matched to
    patient_id: int | None
    direction: Direction
    to: PhoneNumber
    from_: PhoneNumber
    body: SmsBody
    status: SmsStatus
    twilio_sid: str | None  # None until Twilio has accepted an outbound SMS
    created_at: datetime
    updated_at: datetime
    sent_by_id: int | None = None  # the user who sent an outbound SMS
    error_code: int | None = None
    error_message: str | None = None
    id: int | None = None  # given by the repository when the message is added

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
    ) -> TextMessage:
        """An SMS about to go to the provider: on record before it is sent, so none is lost."""
        return cls(
            clinic_id=clinic_id,
            patient_id=patient_id,
            direction=Direction.OUTBOUND,
            to=to,
            from_=from_,
            body=body,
            status=SmsStatus.QUEUED,
            twilio_sid=None,
            sent_by_id=sent_by_id,
            created_at=at,
            updated_at=at,
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
        body: SmsBody,
        at: datetime,
    ) -> TextMessage:
        return cls(
            clinic_id=clinic_id,
            patient_id=patient_id,
            direction=Direction.INBOUND,
            to=to,
            from_=from_,
            body=body,
            status=SmsStatus.RECEIVED,
            twilio_sid=twilio_sid,
            created_at=at,
            updated_at=at,
        )

    @property
    def refused(self) -> bool:
        """The provider never took it: failed without ever getting a sid."""
        return self.twilio_sid is None and self.status is SmsStatus.FAILED

    def accept(self, sid: str, status: SmsStatus, sender: PhoneNumber, at: datetime) -> None:
        """The provider took the SMS and named it ``sid``."""
        self.twilio_sid = sid
        self.from_ = sender
        self.apply_status(status, at)
        self.updated_at = at

    def refuse(self, code: int | None, reason: str, at: datetime) -> None:
        """The provider refused the SMS; it stays on record as failed, with the provider's words."""
        self.status = SmsStatus.FAILED
        self.error_code = code
        self.error_message = reason
        self.updated_at = at

    def apply_status(
        self,
        status: SmsStatus,
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
class VoiceCall:
    clinic_id: int | None  # None for an inbound call no patient could be matched to
    patient_id: int | None
    direction: Direction
    to: PhoneNumber
    from_: PhoneNumber
    status: CallStatus
    twilio_sid: str | None  # None until Twilio has accepted an outbound call
    created_at: datetime
    updated_at: datetime
    sent_by_id: int | None = None  # the user who placed an outbound call
    duration_seconds: int | None = None
    error_code: int | None = None
    error_message: str | None = None
    id: int | None = None  # given by the repository when the call is added

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
        return cls(
            clinic_id=clinic_id,
            patient_id=patient_id,
            direction=Direction.OUTBOUND,
            to=to,
            from_=from_,
            status=CallStatus.QUEUED,
            twilio_sid=None,
            sent_by_id=sent_by_id,
            created_at=at,
            updated_at=at,
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
        return cls(
            clinic_id=clinic_id,
            patient_id=patient_id,
            direction=Direction.INBOUND,
            to=to,
            from_=from_,
            status=status,
            twilio_sid=twilio_sid,
            created_at=at,
            updated_at=at,
        )

    @property
    def refused(self) -> bool:
        """The provider never took it: failed without ever getting a sid."""
        return self.twilio_sid is None and self.status is CallStatus.FAILED

    def accept(self, sid: str, status: CallStatus, sender: PhoneNumber, at: datetime) -> None:
        """The provider took the call and named it ``sid``."""
        self.twilio_sid = sid
        self.from_ = sender
        self.apply_status(status, at)
        self.updated_at = at

    def refuse(self, code: int | None, reason: str, at: datetime) -> None:
        """The provider refused the call; it stays on record as failed, with its words."""
        self.status = CallStatus.FAILED
        self.error_code = code
        self.error_message = reason
        self.updated_at = at

    def apply_status(
        self,
        status: CallStatus,
        at: datetime,
        duration_seconds: int | None = None,
        error_code: int | None = None,
        error_message: str | None = None,
    ) -> bool:
        """Move forward to ``status``; a stale or repeated one changes nothing. True if it moved."""
        if not self.status.may_become(status):
            return False
        self.status = status
        self.updated_at = at
        if duration_seconds is not None:
            self.duration_seconds = duration_seconds
        if error_code is not None or error_message is not None:
            self.error_code, self.error_message = error_code, error_message
        return True
