"""ECM activities and events: what the clinic reports for compliance."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from ecm_comms.domain.channels import Channel
from ecm_comms.domain.communications import TextMessage, VoiceCall


class ActivityStatus(StrEnum):
    """Every SMS and call is recorded ``created``; the other two are the API family's, for
    activities a clinic completes or cancels elsewhere."""

    CREATED = "created"
    COMPLETE = "complete"
    CANCELLED = "cancelled"


@dataclass(kw_only=True, eq=False)
class Activity:
    clinic_id: int
    activity_type: Channel
    status: ActivityStatus
    patient_id: int
    performed_by_id: int | None  # None when the system recorded it (inbound)
    assigned_to_id: int | None
    created_at: datetime
    text_message_id: int | None = None
    voice_call_id: int | None = None
    id: int | None = None  # given by the repository when the activity is added

    @classmethod
    def for_communication(
        cls,
        record: TextMessage | VoiceCall,
        *,
        performed_by_id: int | None,
        assigned_to_id: int | None,
    ) -> Activity:
        """The activity of a stored SMS or call with a patient."""
        assert record.id is not None, "a stored record"
        assert record.patient_id is not None, "a record matched to a patient"
        assert record.clinic_id is not None, "a record matched to a clinic"
        is_sms = record.CHANNEL is Channel.SMS
        return cls(
            clinic_id=record.clinic_id,
            activity_type=record.CHANNEL,
            status=ActivityStatus.CREATED,
            patient_id=record.patient_id,
            performed_by_id=performed_by_id,
            assigned_to_id=assigned_to_id,
            created_at=record.created_at,
            text_message_id=record.id if is_sms else None,
            voice_call_id=None if is_sms else record.id,
        )


@dataclass(kw_only=True, eq=False)
class Event:
    """The reportable fact that a communication happened, tied to its activity."""

    clinic_id: int
    event_type: Channel
    occurred_at: datetime
    patient_id: int
    activity_id: int
    id: int | None = None  # given by the repository when the event is added

    @classmethod
    def for_activity(cls, activity: Activity) -> Event:
        assert activity.id is not None, "a stored activity"
        return cls(
            clinic_id=activity.clinic_id,
            event_type=activity.activity_type,
            occurred_at=activity.created_at,
            patient_id=activity.patient_id,
            activity_id=activity.id,
        )
