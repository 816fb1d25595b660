"""The answers' bodies, built from domain results; statuses and directions are the domain's."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ecm_comms.domain.activities import Activity, ActivityStatus
from ecm_comms.domain.channels import Channel, Direction
from ecm_comms.domain.communications import TextMessage, VoiceCall
from ecm_comms.domain.consent import Consent, ConsentAction, ConsentEntry, ConsentSource
from ecm_comms.domain.ecm_records import MAX_PER_PAGE, ActivityEntry, EventEntry, Page
from ecm_comms.domain.history import HistoryItem, HistoryPage
from ecm_comms.domain.reporting import PrtfCategory
from ecm_comms.domain.segments import Encoding
from ecm_comms.domain.statuses import CallStatus, SmsStatus
from ecm_comms.entrypoints.http.schemas.fields import Timestamp

Id = Annotated[int, Field(ge=1, description="An integer id.")]
PhoneNumber = Annotated[
    str,
    Field(
        description="E.164 (`+18051234567`). A number Twilio reported on an inbound record that "
        "is not a phone number (a short code, an alphanumeric sender id) is kept as Twilio wrote "
        "it."
    ),
]
TwilioSid = Annotated[
    str | None,
    Field(description="Twilio's sid; null while Twilio has not (yet) accepted an outbound record."),
]


class Answer(BaseModel):
    # Fields in the order the API document gives; built by name, written by alias ("from").
    model_config = ConfigDict(
        extra="forbid", populate_by_name=True, json_schema_serialization_defaults_required=True
    )


class ActivityBody(Answer):
    """The ECM activity recorded for an SMS or call."""

    id: Id
    activity_type: Channel
    status: ActivityStatus
    patient_id: int
    performed_by_id: int | None = Field(
        description="The user who sent it; null for inbound (the system)."
    )
    assigned_to_id: int | None

    @classmethod
    def of(cls, activity: Activity) -> ActivityBody:
        return cls.model_validate(activity, from_attributes=True)

    @classmethod
    def of_optional(cls, activity: Activity | None) -> ActivityBody | None:
        return cls.of(activity) if activity is not None else None


class _Sent(Answer):
    id: Id
    twilio_sid: TwilioSid
    to: PhoneNumber
    from_: PhoneNumber = Field(alias="from")


Segments = Annotated[
    int,
    Field(
        ge=1,
        description="What the body costs, counted as Twilio counts: GSM-7 160 characters in one "
        "segment and 153 per segment beyond (extension-table characters count twice); UCS-2 70 "
        "and 67.",
    ),
]
SendAt = Annotated[
    Timestamp | None,
    Field(description="When an automated (scheduled or campaign) SMS was to go out; else null."),
]
SkipReason = Annotated[
    str | None,
    Field(
        description="Why the sending rules kept an automated SMS back (status `skipped`): "
        "`opted_out`, `frequency_cap`, …; else null."
    ),
]


class Sms(_Sent):
    body: str
    status: SmsStatus
    direction: Direction
    created_at: Timestamp
    segments: Segments
    encoding: Encoding
    send_at: SendAt
    skip_reason: SkipReason

    @classmethod
    def of(cls, message: TextMessage) -> Sms:
        return cls(**_sent(message), **_text(message), **_state(message))


class Call(_Sent):
    status: CallStatus
    direction: Direction
    created_at: Timestamp

    @classmethod
    def of(cls, call: VoiceCall) -> Call:
        return cls(**_sent(call), **_state(call))


class SmsRecord(Sms):
    """One SMS as read back: the fields of a send, and what happened to it since."""

    patient_id: int
    error_code: int | None = Field(description="Twilio's error code, if it failed.")
    error_message: str | None
    updated_at: Timestamp

    @classmethod
    def of(cls, message: TextMessage) -> SmsRecord:
        return cls(**_sent(message), **_text(message), **_state(message), **_details(message))


class CallRecord(Call):
    """One call as read back: the fields of a send, its duration, and what happened since."""

    duration: int | None = Field(ge=0, description="Seconds, once Twilio reported it.")
    patient_id: int
    error_code: int | None = Field(description="Twilio's error code, if it failed.")
    error_message: str | None
    updated_at: Timestamp

    @classmethod
    def of(cls, call: VoiceCall) -> CallRecord:
        return cls(**_sent(call), **_state(call), duration=call.duration_seconds, **_details(call))


def _sent(record: TextMessage | VoiceCall) -> dict[str, Any]:
    return {
        "id": record.id,
        "twilio_sid": record.twilio_sid,
        "to": record.to.e164,
        "from_": record.from_.e164,
    }


def _text(message: TextMessage) -> dict[str, Any]:
    """The body and what the automated SMS and Twilio's billing make of it."""
    counted = message.segments
    return {
        "body": message.body.text,
        "segments": counted.segments,
        "encoding": counted.encoding,
        "send_at": message.send_at,
        "skip_reason": message.skip_reason,
    }


def _state(record: TextMessage | VoiceCall) -> dict[str, Any]:
    return {
        "status": record.status,
        "direction": record.direction,
        "created_at": record.created_at,
    }


def _details(record: TextMessage | VoiceCall) -> dict[str, Any]:
    return {
        "patient_id": record.patient_id,
        "error_code": record.error_code,
        "error_message": record.error_message,
        "updated_at": record.updated_at,
    }


class SmsSent(Answer):
    message: Literal["SMS sent successfully"] = "SMS sent successfully"
    sms: Sms
    activity: ActivityBody


class SmsScheduled(Answer):
    """A scheduled SMS: on record now; its activity and event come when a worker sends it."""

    message: Literal["SMS scheduled"] = "SMS scheduled"
    sms: Sms
    activity: Annotated[None, Field(description="Null: recorded when the SMS is sent.")] = None


class SmsCanceled(Answer):
    message: Literal["SMS canceled"] = "SMS canceled"
    sms: SmsRecord


class CallInitiated(Answer):
    message: Literal["Call initiated successfully"] = "Call initiated successfully"
    call: Call
    activity: ActivityBody


class SmsRead(Answer):
    sms: SmsRecord
    activity: ActivityBody | None


class CallRead(Answer):
    call: CallRecord
    activity: ActivityBody | None


class _Entry(Answer):
    type: Channel
    id: Id
    twilio_sid: TwilioSid
    direction: Direction


class SmsEntry(_Entry):
    """An SMS of a patient's history."""

    type: Literal[Channel.SMS] = Channel.SMS
    status: SmsStatus
    to: PhoneNumber
    from_: PhoneNumber = Field(alias="from")
    body: str
    created_at: Timestamp
    segments: Segments
    encoding: Encoding
    send_at: SendAt
    skip_reason: SkipReason
    activity: ActivityBody | None


class CallEntry(_Entry):
    """A call of a patient's history."""

    type: Literal[Channel.CALL] = Channel.CALL
    status: CallStatus
    to: PhoneNumber
    from_: PhoneNumber = Field(alias="from")
    created_at: Timestamp
    activity: ActivityBody | None


def history_entry(item: HistoryItem) -> SmsEntry | CallEntry:
    record = item.record
    activity = ActivityBody.of_optional(item.activity)
    common: dict[str, Any] = {
        "id": record.id,
        "twilio_sid": record.twilio_sid,
        "direction": record.direction,
        "to": record.to.e164,
        "from_": record.from_.e164,
        "created_at": record.created_at,
        "activity": activity,
    }
    if isinstance(record, TextMessage):
        return SmsEntry(**common, status=record.status, **_text(record))
    return CallEntry(**common, status=record.status)


class CommunicationsPage(Answer):
    communications: list[Annotated[SmsEntry | CallEntry, Field(discriminator="type")]]
    next_cursor: str | None = Field(
        description="Pass back as `cursor` for the next page; null on the last page."
    )

    @classmethod
    def of(cls, page: HistoryPage) -> CommunicationsPage:
        return cls(
            communications=[history_entry(item) for item in page.items],
            next_cursor=page.next_cursor,
        )


class Pagination(Answer):
    current_page: int = Field(ge=1, description="The page asked for, from 1.")
    total_pages: int = Field(ge=0, description="Pages that hold anything; 0 when none match.")
    total_count: int = Field(ge=0, description="How many match, on every page.")
    per_page: int = Field(ge=1, le=MAX_PER_PAGE)

    @classmethod
    def of(cls, page: Page[Any]) -> Pagination:
        return cls(
            current_page=page.request.number,
            total_pages=page.total_pages,
            total_count=page.total_count,
            per_page=page.request.size,
        )


class ActivityListed(Answer):
    """An ECM activity with what its SMS or call says."""

    id: Id
    activity_type: Channel
    status: ActivityStatus
    direction: Direction
    body: str | None = Field(description="The SMS's text; null for a call.")
    occurred_at: Timestamp
    patient_id: int
    performed_by_id: int | None = Field(
        description="The user who sent it; null for inbound (the system)."
    )
    assigned_to_id: int | None
    text_message_id: int | None
    voice_call_id: int | None
    created_at: Timestamp

    @classmethod
    def of(cls, entry: ActivityEntry) -> ActivityListed:
        activity = entry.activity
        assert activity.id is not None, "a stored activity"
        return cls(
            id=activity.id,
            activity_type=activity.activity_type,
            status=activity.status,
            direction=entry.direction,
            body=entry.body,
            occurred_at=entry.occurred_at,
            patient_id=activity.patient_id,
            performed_by_id=activity.performed_by_id,
            assigned_to_id=activity.assigned_to_id,
            text_message_id=activity.text_message_id,
            voice_call_id=activity.voice_call_id,
            created_at=activity.created_at,
        )


class ActivitiesPage(Answer):
    activities: list[ActivityListed] = Field(description="Newest first.")
    pagination: Pagination

    @classmethod
    def of(cls, page: Page[ActivityEntry]) -> ActivitiesPage:
        return cls(
            activities=[ActivityListed.of(entry) for entry in page.items],
            pagination=Pagination.of(page),
        )


class EventListed(Answer):
    """An ECM event: the reportable fact that an SMS or call happened."""

    id: Id
    event_type: Channel
    occurred_at: Timestamp
    patient_id: int
    activity_id: int
    prtf_category: PrtfCategory = Field(
        description="Derived when read, from the communication's direction and outcome: a call "
        "that completed after at least ECM_ENCOUNTER_MIN_CALL_SECONDS is an encounter."
    )

    @classmethod
    def of(cls, entry: EventEntry) -> EventListed:
        row = entry.row
        return cls(
            id=row.event_id,
            event_type=row.channel,
            occurred_at=row.occurred_at,
            patient_id=row.patient_id,
            activity_id=row.activity_id,
            prtf_category=entry.category,
        )


class EventsPage(Answer):
    events: list[EventListed] = Field(description="Newest first.")
    pagination: Pagination

    @classmethod
    def of(cls, page: Page[EventEntry]) -> EventsPage:
        return cls(
            events=[EventListed.of(entry) for entry in page.items],
            pagination=Pagination.of(page),
        )


class ConsentEntryBody(Answer):
    """One entry of a number's consent ledger."""

    action: ConsentAction
    source: ConsentSource = Field(
        description="`keyword`: the patient texted STOP or START; `carrier_21610`: Twilio "
        "refused a send because the number had opted out; `staff`: recorded by a user."
    )
    sms_id: int | None = Field(
        description="The inbound STOP/START SMS, or the SMS Twilio refused; null for staff."
    )
    user_id: int | None = Field(description="The user who recorded it; null unless staff.")
    note: str | None
    at: Timestamp

    @classmethod
    def of(cls, entry: ConsentEntry) -> ConsentEntryBody:
        return cls.model_validate(entry, from_attributes=True)


class ConsentBody(Answer):
    """A number's SMS consent with the user's clinic (or, for a clinic without Twilio numbers of
    its own, with the shared number it texts from)."""

    phone_number: str = Field(description="E.164 (`+18051234567`).")
    sms_opted_out: bool = Field(description="SMS to this number are refused until it texts START.")
    history: list[ConsentEntryBody] = Field(
        description="Every entry, newest first; empty for a number never seen."
    )

    @classmethod
    def of(cls, consent: Consent) -> ConsentBody:
        return cls(
            phone_number=consent.phone.e164,
            sms_opted_out=consent.sms_opted_out,
            history=[ConsentEntryBody.of(entry) for entry in consent.history],
        )


class ConsentRead(Answer):
    consent: ConsentBody

    @classmethod
    def of(cls, consent: Consent) -> ConsentRead:
        return cls(consent=ConsentBody.of(consent))


class ErrorBody(Answer):
    """Every error the service answers, whatever its status."""

    model_config = ConfigDict(
        title="Error", json_schema_extra={"examples": [{"errors": ["Phone number is required"]}]}
    )

    errors: list[str] = Field(min_length=1)
