"""The clinic API's request bodies and query parameters.

The models check shapes only (an object where one is expected, strings where strings are):
whether a phone number or a body is acceptable is the domain's to say, with its own messages.
The document still states the contract clients must meet, hence the JSON schemas given by hand.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StrictStr, WithJsonSchema

from ecm_comms.domain.activities import ActivityStatus
from ecm_comms.domain.automated_sms import MAX_SCHEDULE_AHEAD
from ecm_comms.domain.channels import Channel
from ecm_comms.domain.consent import MAX_NOTE_LENGTH, ConsentAction
from ecm_comms.domain.ecm_records import DEFAULT_PER_PAGE, MAX_PER_PAGE
from ecm_comms.domain.history import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE
from ecm_comms.domain.sms_bodies import MAX_SMS_BODY_LENGTH
from ecm_comms.entrypoints.http.schemas.fields import PositiveInteger

_NATIONAL_FORMATS = ["+18051234567", "8051234567", "805-123-4567", "(805) 123-4567"]
_EXAMPLE_BODY = (
    "Hello! This is a reminder about your upcoming appointment. Please reply to confirm."
)


def _phone_number(description: str) -> object:
    return WithJsonSchema(
        {
            "type": "string",
            "minLength": 1,
            "description": description + " E.164 recommended; national formats (dashes, "
            "parentheses, spaces, dots, a leading 1) accepted.",
            "examples": _NATIONAL_FORMATS,
        }
    )


def send_at_schema(description: str) -> object:
    """An automated SMS's time: ISO 8601 with a zone, in the next days (the use case checks)."""
    return WithJsonSchema(
        {
            "type": ["string", "null"],
            "format": "date-time",
            "description": "ISO 8601 with a time zone, in the future and at most "
            f"{MAX_SCHEDULE_AHEAD.days} days ahead. " + description,
            "examples": ["2026-12-04T17:00:00Z"],
        }
    )


class _Member(BaseModel):
    # Clients may send more than we read: unknown keys are ignored.
    model_config = ConfigDict(extra="ignore")


class SmsFields(_Member):
    model_config = ConfigDict(json_schema_extra={"required": ["phone_number", "body"]})

    phone_number: Annotated[StrictStr | None, _phone_number("The recipient.")] = Field(
        None, title="Phone number"
    )
    body: Annotated[
        StrictStr | None,
        WithJsonSchema({"type": "string", "minLength": 1, "maxLength": MAX_SMS_BODY_LENGTH}),
    ] = Field(None, title="Body")
    send_at: Annotated[
        StrictStr | None,
        send_at_schema(
            "Schedules the SMS instead of sending it now: a worker sends it then, within the "
            "sending limits. Absent or null: sent now."
        ),
    ] = Field(None, title="send_at")


class CallFields(_Member):
    model_config = ConfigDict(json_schema_extra={"required": ["phone_number"]})

    phone_number: Annotated[StrictStr | None, _phone_number("The number to call.")] = Field(
        None, title="Phone number"
    )


class SendSmsRequest(_Member):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"sms": {"phone_number": "+18051234567", "body": _EXAMPLE_BODY}},
                {
                    "sms": {
                        "phone_number": "+18051234567",
                        "body": _EXAMPLE_BODY,
                        "send_at": "2026-12-04T17:00:00Z",
                    }
                },
            ]
        }
    )

    sms: SmsFields = Field(title='"sms"')


class InitiateCallRequest(_Member):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"call": {"phone_number": "+18051234567"}}]}
    )

    call: CallFields = Field(title='"call"')


class ConsentFields(_Member):
    model_config = ConfigDict(json_schema_extra={"required": ["phone_number", "action"]})

    phone_number: Annotated[StrictStr | None, _phone_number("The patient's number.")] = Field(
        None, title="Phone number"
    )
    action: Annotated[
        StrictStr | None,
        WithJsonSchema(
            {
                "type": "string",
                "enum": [action.value for action in ConsentAction],
                "description": "Only `opt_out` is recorded; `opt_in` is refused (422): only "
                "the patient can opt back in, by texting START.",
            }
        ),
    ] = Field(None, title="Action")
    note: Annotated[
        StrictStr | None,
        WithJsonSchema(
            {
                "type": ["string", "null"],
                "maxLength": MAX_NOTE_LENGTH,
                "description": "How the patient asked (kept with the entry); blank means none.",
            }
        ),
    ] = Field(None, title="Note")


class RecordConsentRequest(_Member):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "consent": {
                        "phone_number": "+18051234567",
                        "action": "opt_out",
                        "note": "Asked by phone not to be texted",
                    }
                }
            ]
        }
    )

    consent: ConsentFields = Field(title='"consent"')


class ConsentQuery(_Member):
    """``…/consent?phone_number=``."""

    model_config = ConfigDict(json_schema_extra={"required": ["phone_number"]})

    phone_number: Annotated[
        str | None, _phone_number("The patient's number (URL-encode the `+`).")
    ] = Field(None, title="phone_number")


class HistoryQuery(_Member):
    """``…/communications?limit=&cursor=``; an empty value is as good as none."""

    limit: Annotated[
        PositiveInteger | None,
        WithJsonSchema(
            {
                "type": "integer",
                "minimum": 1,
                "maximum": MAX_PAGE_SIZE,
                "default": DEFAULT_PAGE_SIZE,
            }
        ),
    ] = Field(None, title="limit", description="Page size; an empty value means the default.")
    cursor: Annotated[str | None, WithJsonSchema({"type": "string"})] = Field(
        None,
        title="cursor",
        description="`next_cursor` of the previous page; an empty value means the first page.",
    )


def _page_number() -> object:
    return WithJsonSchema({"type": "integer", "minimum": 1, "default": 1})


def _page_size() -> object:
    return WithJsonSchema(
        {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE, "default": DEFAULT_PER_PAGE}
    )


def _one_of(values: list[str], description: str) -> object:
    return WithJsonSchema({"type": "string", "enum": values, "description": description})


_CHANNELS = [channel.value for channel in Channel]
_DAY = {
    "type": "string",
    "format": "date",
    "examples": ["2024-07-01"],
}


class ActivitiesQuery(_Member):
    """``…/activities?page=&page_size=&activity_type=&assigned_to_id=&status=``; an empty
    value is as good as none. Values are checked by the use case, which names the parameter."""

    page: Annotated[PositiveInteger | None, _page_number()] = Field(
        None, title="page", description="The page, from 1."
    )
    page_size: Annotated[PositiveInteger | None, _page_size()] = Field(
        None, title="page_size", description="Activities per page."
    )
    activity_type: Annotated[str | None, _one_of(_CHANNELS, "Only SMS, or only calls.")] = Field(
        None, title="activity_type"
    )
    assigned_to_id: Annotated[
        PositiveInteger | None,
        WithJsonSchema(
            {
                "type": "integer",
                "format": "int64",
                "minimum": 0,
                "description": "Only activities assigned to this user.",
            }
        ),
    ] = Field(None, title="assigned_to_id")
    status: Annotated[
        str | None,
        _one_of([status.value for status in ActivityStatus], "Only activities in this status."),
    ] = Field(None, title="status")


class EventsQuery(_Member):
    """``…/events?page=&per_page=&event_type=&start_date=&end_date=``; an empty value is as
    good as none. Values are checked by the use case, which names the parameter."""

    page: Annotated[PositiveInteger | None, _page_number()] = Field(
        None, title="page", description="The page, from 1."
    )
    per_page: Annotated[PositiveInteger | None, _page_size()] = Field(
        None, title="per_page", description="Events per page."
    )
    event_type: Annotated[str | None, _one_of(_CHANNELS, "Only SMS, or only calls.")] = Field(
        None, title="event_type"
    )
    start_date: Annotated[str | None, WithJsonSchema(_DAY)] = Field(
        None,
        title="start_date",
        description="Events on or after this day (`YYYY-MM-DD`, in the clinic's time zone).",
    )
    end_date: Annotated[str | None, WithJsonSchema(_DAY)] = Field(
        None,
        title="end_date",
        description="Events on or before this day (`YYYY-MM-DD`, in the clinic's time zone); "
        "not before `start_date`.",
    )


class RecipientsQuery(_Member):
    """``…/campaigns/{id}/recipients?page=&per_page=``; an empty value is as good as none.
    Values are checked by the use case, which names the parameter."""

    page: Annotated[PositiveInteger | None, _page_number()] = Field(
        None, title="page", description="The page, from 1."
    )
    per_page: Annotated[PositiveInteger | None, _page_size()] = Field(
        None, title="per_page", description="Recipients per page."
    )


def _day(description: str) -> object:
    return WithJsonSchema(
        {
            "type": "string",
            "format": "date",
            "description": description,
            "examples": ["2024-07-01"],
        }
    )


class OutreachAttemptsQuery(_Member):
    """``…/outreach_attempts.csv?start_date=&end_date=``: days in the clinic's time zone."""

    model_config = ConfigDict(json_schema_extra={"required": ["start_date", "end_date"]})

    start_date: Annotated[
        str | None, _day("The first day, `YYYY-MM-DD`, in the clinic's time zone.")
    ] = Field(None, title="start_date")
    end_date: Annotated[
        str | None,
        _day("The last day (included), `YYYY-MM-DD`, not before `start_date`."),
    ] = Field(None, title="end_date")
