"""The campaign endpoints' request body, query and answers.

Like the other requests, the body is checked for shapes only (whether a name, a template, the
patients or a time are acceptable is the use case's to say), but the shapes here are deeper:
``patient_ids`` a list of integer ids, ``variables`` an object of objects of strings keyed by
patient id. Each wrong shape has a message of its own.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PlainValidator, StrictStr, WithJsonSchema
from pydantic_core import PydanticCustomError

from ecm_comms.domain.automated_sms import Outcome
from ecm_comms.domain.campaigns import (
    MAX_NAME_LENGTH,
    MAX_RECIPIENTS,
    CampaignCounts,
    CampaignStatus,
    CampaignSummary,
    Recipient,
)
from ecm_comms.domain.ecm_records import Page
from ecm_comms.domain.sms_bodies import MAX_SMS_BODY_LENGTH
from ecm_comms.domain.templates import STANDARD_PLACEHOLDERS
from ecm_comms.entrypoints.http.schemas.fields import (
    ID,
    WRONG_SHAPE,
    Timestamp,
)
from ecm_comms.entrypoints.http.schemas.requests import send_at_schema
from ecm_comms.entrypoints.http.schemas.responses import Answer, Id, Pagination

# The ids a path accepts: at most 18 digits.
MAX_ID = 10**18 - 1

PATIENT_IDS_SHAPE = "patient_ids must be a list of patient ids (integers)"
VARIABLES_SHAPE = "variables must give each patient id an object of names to string values"
VARIABLES_KEYS = "variables must be keyed by patient id (an integer)"

_EXAMPLE_BODY = (
    "Hi {{first_name}}, this is {{clinic_name}}: your appointment is {{appointment}}. "
    "Reply STOP to opt out."
)


def _is_id(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_ID


def _patient_ids(value: Any) -> tuple[int, ...] | None:
    if value is None:
        return None
    if not isinstance(value, list) or not all(_is_id(item) for item in value):
        raise PydanticCustomError(WRONG_SHAPE, PATIENT_IDS_SHAPE)
    return tuple(value)


def _strings(values: Any) -> bool:
    return isinstance(values, dict) and all(isinstance(v, str) for v in values.values())


def _variables(value: Any) -> dict[int, dict[str, str]] | None:
    """JSON keys are strings: the patient ids become integers, as the command takes them."""
    if value is None:
        return None
    if not isinstance(value, dict) or not all(_strings(values) for values in value.values()):
        raise PydanticCustomError(WRONG_SHAPE, VARIABLES_SHAPE)
    if not all(ID.fullmatch(key) for key in value):
        raise PydanticCustomError(WRONG_SHAPE, VARIABLES_KEYS)
    variables: dict[int, dict[str, str]] = {}
    for key, values in value.items():
        variables.setdefault(int(key), {}).update(values)  # "7" and "07" are one patient
    return variables


_PATIENT_IDS_SCHEMA = {
    "type": "array",
    "items": {"type": "integer", "format": "int64", "minimum": 0, "maximum": MAX_ID},
    "minItems": 1,
    "maxItems": MAX_RECIPIENTS,
    "description": f"1 to {MAX_RECIPIENTS} patients of the user's clinic; a repeated id counts "
    "once. Each gets one SMS at their first phone number.",
    "examples": [[123, 125]],
}
_VARIABLES_SCHEMA = {
    "type": ["object", "null"],
    "propertyNames": {"pattern": "^[0-9]{1,18}$"},
    "additionalProperties": {"type": "object", "additionalProperties": {"type": "string"}},
    "description": "The campaign's own placeholders, per patient id: name → value. Names are "
    "letters, digits and `_`, and not a standard placeholder. A patient without a value (or a "
    "blank one) for a placeholder the body uses gets no SMS: skipped, `missing_value:<name>`.",
    "examples": [{"123": {"appointment": "Dec 4, 10am"}, "125": {"appointment": "Dec 5, 9am"}}],
}
_BODY_SCHEMA = {
    "type": "string",
    "minLength": 1,
    "maxLength": MAX_SMS_BODY_LENGTH,
    "description": "A template: "
    + ", ".join(f"`{{{{{name}}}}}`" for name in STANDARD_PLACEHOLDERS)
    + " and the campaign's `variables`. A placeholder that is none of these is refused.",
}


class _Read(BaseModel):
    # Clients may send more than we read: unknown keys are ignored.
    model_config = ConfigDict(extra="ignore")


class CampaignFields(_Read):
    model_config = ConfigDict(json_schema_extra={"required": ["name", "body", "patient_ids"]})

    name: Annotated[
        StrictStr | None,
        WithJsonSchema({"type": "string", "minLength": 1, "maxLength": MAX_NAME_LENGTH}),
    ] = Field(None, title="Name")
    body: Annotated[StrictStr | None, WithJsonSchema(_BODY_SCHEMA)] = Field(None, title="Body")
    patient_ids: Annotated[
        tuple[int, ...] | None, PlainValidator(_patient_ids), WithJsonSchema(_PATIENT_IDS_SCHEMA)
    ] = Field(None, title="patient_ids")
    send_at: Annotated[
        StrictStr | None,
        send_at_schema("Absent or null: as soon as the sending limits allow."),
    ] = Field(None, title="send_at")
    variables: Annotated[
        dict[int, dict[str, str]] | None,
        PlainValidator(_variables),
        WithJsonSchema(_VARIABLES_SCHEMA),
    ] = Field(None, title="variables")


class CreateCampaignRequest(_Read):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "campaign": {
                        "name": "December reminders",
                        "body": _EXAMPLE_BODY,
                        "patient_ids": [123, 125],
                        "send_at": "2026-12-04T17:00:00Z",
                        "variables": {
                            "123": {"appointment": "Dec 4, 10am"},
                            "125": {"appointment": "Dec 5, 9am"},
                        },
                    }
                }
            ]
        }
    )

    campaign: CampaignFields = Field(title='"campaign"')


class CampaignCountsBody(Answer):
    """Every recipient once, by outcome."""

    scheduled: int = Field(
        ge=0, description="Not handed to Twilio yet: waiting for its time, its window or a worker."
    )
    sent: int = Field(
        ge=0, description="Handed to Twilio, whatever its delivery status is now (`GET …/sms`)."
    )
    skipped: int = Field(ge=0, description="Not sent: the recipients' `skip_reason` says why.")
    failed: int = Field(ge=0, description="Refused by Twilio, or out of retries.")
    canceled: int = Field(ge=0)

    @classmethod
    def of(cls, counts: CampaignCounts) -> CampaignCountsBody:
        return cls.model_validate(counts, from_attributes=True)


class CampaignBody(Answer):
    """A campaign and where its recipients stand."""

    id: Id
    name: str
    status: CampaignStatus = Field(
        description="`scheduled` until the first SMS is handed to Twilio, `sending` while some "
        "are left, `completed` when none is scheduled, `canceled` once canceled."
    )
    total: int = Field(ge=0, description="Recipients: the distinct patients.")
    max_segments: int = Field(
        ge=0, description="The most segments any recipient's message costs; 0 when none has one."
    )
    counts: CampaignCountsBody
    send_at: Timestamp | None = Field(description="When it was asked to go out; null: at once.")
    created_at: Timestamp

    @classmethod
    def of(cls, summary: CampaignSummary) -> CampaignBody:
        campaign = summary.campaign
        assert campaign.id is not None, "a stored campaign"
        return cls(
            id=campaign.id,
            name=campaign.name,
            status=summary.status,
            total=campaign.total,
            max_segments=campaign.max_segments,
            counts=CampaignCountsBody.of(summary.counts),
            send_at=campaign.send_at,
            created_at=campaign.created_at,
        )


class CampaignScheduled(Answer):
    message: Literal["Campaign scheduled"] = "Campaign scheduled"
    campaign: CampaignBody

    @classmethod
    def of(cls, summary: CampaignSummary) -> CampaignScheduled:
        return cls(campaign=CampaignBody.of(summary))


class CampaignRead(Answer):
    campaign: CampaignBody

    @classmethod
    def of(cls, summary: CampaignSummary) -> CampaignRead:
        return cls(campaign=CampaignBody.of(summary))


class CampaignCanceled(Answer):
    message: Literal["Campaign canceled"] = "Campaign canceled"
    campaign: CampaignBody

    @classmethod
    def of(cls, summary: CampaignSummary) -> CampaignCanceled:
        return cls(campaign=CampaignBody.of(summary))


class RecipientBody(Answer):
    """One patient of a campaign and the outcome of their SMS."""

    patient_id: int
    sms_id: int | None = Field(
        description="Their SMS (`GET …/sms/{id}`); null when none could be written (no phone "
        "number, a missing template value)."
    )
    status: Outcome
    skip_reason: str | None = Field(
        description="Why it was skipped: `no_phone_number`, `opted_out`, `frequency_cap`, "
        "`body_too_long` or `missing_value:<name>`; null unless skipped."
    )

    @classmethod
    def of(cls, recipient: Recipient) -> RecipientBody:
        return cls(
            patient_id=recipient.patient_id,
            sms_id=recipient.sms_id,
            status=recipient.outcome,
            skip_reason=recipient.skip_reason,
        )


class RecipientsPage(Answer):
    recipients: list[RecipientBody] = Field(description="In the order the patients were given.")
    pagination: Pagination

    @classmethod
    def of(cls, page: Page[Recipient]) -> RecipientsPage:
        return cls(
            recipients=[RecipientBody.of(recipient) for recipient in page.items],
            pagination=Pagination.of(page),
        )
