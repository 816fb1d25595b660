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
    clinic_id: int
    patient_id: int | None
    direction: Direction
    to: PhoneNumber
    from_: PhoneNumber
    body: SmsBody
    status: SmsStatus
    twilio_sid: str | None
    created_at: datetime
    updated_at: datetime
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
        status: SmsStatus,
        twilio_sid: str,
        at: datetime,
    ) -> TextMessage:
        return cls(
            clinic_id=clinic_id,
            patient_id=patient_id,
            direction=Direction.OUTBOUND,
            to=to,
            from_=from_,
            body=body,
            status=status,
            twilio_sid=twilio_sid,
            created_at=at,
            updated_at=at,
        )

    def apply_status(self, status: SmsStatus, at: datetime) -> bool:
        """Move forward to ``status``; a stale or repeated one changes nothing. True if it moved."""
        if not self.status.may_become(status):
            return False
        self.status = status
        self.updated_at = at
        return True


@dataclass(kw_only=True, eq=False)
class VoiceCall:
    clinic_id: int
    patient_id: int | None
    direction: Direction
    to: PhoneNumber
    from_: PhoneNumber
    status: CallStatus
    twilio_sid: str | None
    created_at: datetime
    updated_at: datetime
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
        status: CallStatus,
        twilio_sid: str,
        at: datetime,
    ) -> VoiceCall:
        return cls(
            clinic_id=clinic_id,
            patient_id=patient_id,
            direction=Direction.OUTBOUND,
            to=to,
            from_=from_,
            status=status,
            twilio_sid=twilio_sid,
            created_at=at,
            updated_at=at,
        )

    def apply_status(self, status: CallStatus, at: datetime) -> bool:
        """Move forward to ``status``; a stale or repeated one changes nothing. True if it moved."""
        if not self.status.may_become(status):
            return False
        self.status = status
        self.updated_at = at
        return True
