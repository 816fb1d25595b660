"""The forms Twilio posts to the webhooks, and the record id our callback URLs carry.

Twilio adds fields without notice: unknown fields are accepted and ignored. Older webhooks use
older names for some fields; the first of them that is present and not empty is read.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AliasChoices, BaseModel, BeforeValidator, ConfigDict, Field

from ecm_comms.entrypoints.http.schemas.fields import (
    OptionalId,
    OptionalInt,
    OptionalText,
    Text,
    without_nul,
)
from ecm_comms.webhook_routes import RECORD_ID_PARAMETER

# Twilio's sids: two letters and 32 hex digits. Statuses: lower-case words (new ones included).
# The pattern is checked once NUL characters are gone.
Sid = Annotated[str, Field(pattern=r"^[A-Z]{2}[0-9a-fA-F]{32}$"), BeforeValidator(without_nul)]
Status = Annotated[str, Field(pattern=r"^[a-z][a-z_-]{0,31}$"), BeforeValidator(without_nul)]


class _Form(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class InboundSmsForm(_Form):
    """Twilio's inbound-message webhook. The sid is read from `MessageSid`, else `SmsMessageSid`,
    else `SmsSid`. Other fields Twilio sends (`AccountSid`, `NumMedia`, `FromCity`, …) are
    accepted and ignored."""

    message_sid: Sid = Field(
        validation_alias=AliasChoices("MessageSid", "SmsMessageSid", "SmsSid"),
        examples=["SM11111111111111111111111111111111"],
    )
    from_number: Text = Field(validation_alias="From", examples=["+18051234567"])
    to_number: Text = Field(validation_alias="To", examples=["+18059876543"])
    body: OptionalText = Field(
        None,
        validation_alias="Body",
        description="A one-word STOP/STOPALL/UNSUBSCRIBE/CANCEL/END/QUIT opts the sender out of "
        "SMS; START/YES/UNSTOP opts back in.",
    )
    opt_out_type: OptionalText = Field(
        None,
        validation_alias="OptOutType",
        description="Sent when Advanced Opt-Out is on (STOP, START, HELP); takes precedence "
        "over the body.",
    )


class InboundCallForm(_Form):
    """Twilio's incoming-call webhook. The caller is read from `From`, else `Caller`; the called
    number from `To`, else `Called`. Other fields are accepted and ignored."""

    call_sid: Sid = Field(
        validation_alias="CallSid", examples=["CA11111111111111111111111111111111"]
    )
    from_number: Text = Field(validation_alias=AliasChoices("From", "Caller"))
    to_number: Text = Field(validation_alias=AliasChoices("To", "Called"))
    call_status: OptionalText = Field(
        None,
        validation_alias="CallStatus",
        description="A status that is not a known call status is recorded as `ringing` (also "
        "the default).",
    )


class SmsStatusForm(_Form):
    """Twilio's message status callback. The sid is read from `MessageSid`, else `SmsSid`; the
    status from `MessageStatus`, else `SmsStatus`. A status this service does not know is kept
    in the status log only. Other fields are accepted and ignored."""

    message_sid: Sid = Field(validation_alias=AliasChoices("MessageSid", "SmsSid"))
    message_status: Status = Field(
        validation_alias=AliasChoices("MessageStatus", "SmsStatus"), examples=["delivered"]
    )
    error_code: OptionalInt = Field(
        None,
        validation_alias="ErrorCode",
        description="Twilio's error code; anything but an integer is ignored.",
    )
    error_message: OptionalText = Field(None, validation_alias="ErrorMessage")


class CallStatusForm(_Form):
    """Twilio's call status callback. A status this service does not know is kept in the status
    log only. Other fields are accepted and ignored."""

    call_sid: Sid = Field(validation_alias="CallSid")
    call_status: Status = Field(validation_alias="CallStatus", examples=["completed"])
    call_duration: OptionalInt = Field(
        None,
        validation_alias="CallDuration",
        description="Seconds, on completion; anything but an integer is ignored.",
    )
    error_code: OptionalInt = Field(
        None, validation_alias="ErrorCode", description="Anything but an integer is ignored."
    )
    error_message: OptionalText = Field(None, validation_alias="ErrorMessage")


class StatusCallbackQuery(_Form):
    record_id: OptionalId = Field(
        None,
        validation_alias=RECORD_ID_PARAMETER,
        description="Our record's id, put into the callback URL given to Twilio; anything but "
        "an integer is ignored.",
    )
