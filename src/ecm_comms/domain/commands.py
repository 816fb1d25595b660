"""What callers ask the service to do. Fields hold what the caller sent, still unchecked."""

from __future__ import annotations

from dataclasses import dataclass

from ecm_comms.domain.channels import Channel
from ecm_comms.domain.people import User


@dataclass(frozen=True, slots=True)
class SendSms:
    patient_id: int
    phone_number: str | None
    body: str | None
    performed_by: User


@dataclass(frozen=True, slots=True)
class InitiateCall:
    patient_id: int
    phone_number: str | None
    performed_by: User


@dataclass(frozen=True, slots=True)
class Authenticate:
    token: str | None


@dataclass(frozen=True, slots=True)
class RegisterUser:
    user_id: int
    clinic_id: int
    name: str
    phone_number: str | None = None
    role: str | None = None  # coordinator (the default) or admin


@dataclass(frozen=True, slots=True)
class IssueToken:
    """Give an existing user a new API token; the old one stops working."""

    user_id: int


@dataclass(frozen=True, slots=True)
class RevokeToken:
    """The user's token stops working at once; they have none until one is issued."""

    user_id: int


@dataclass(frozen=True, slots=True)
class SetUserRole:
    user_id: int
    role: str


@dataclass(frozen=True, slots=True)
class UpsertPatient:
    patient_id: int
    clinic_id: int
    phone_numbers: tuple[str, ...] = ()
    name: str | None = None
    coordinator_id: int | None = None
    member_id: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    date_of_birth: str | None = None  # YYYY-MM-DD
    timezone: str | None = None  # IANA name; None: their clinic's


@dataclass(frozen=True, slots=True)
class RecordInboundSms:
    """Twilio's inbound SMS webhook: a patient (or anyone) texted the clinic."""

    twilio_sid: str
    from_number: str
    to_number: str
    body: str
    opt_out_type: str | None = None


@dataclass(frozen=True, slots=True)
class RecordInboundCall:
    """Twilio's inbound call webhook: someone is calling the clinic."""

    twilio_sid: str
    from_number: str
    to_number: str
    status: str


@dataclass(frozen=True, slots=True)
class ApplyStatus:
    """Twilio's status callback of an SMS or a call. ``record_id`` rides in the callback URL."""

    channel: Channel
    twilio_sid: str
    status: str
    record_id: int | None = None
    error_code: int | None = None
    error_message: str | None = None
    duration_seconds: int | None = None  # calls, once completed


@dataclass(frozen=True, slots=True)
class GetCommunication:
    channel: Channel
    record_id: int
    requested_by: User


@dataclass(frozen=True, slots=True)
class ListCommunications:
    patient_id: int
    requested_by: User
    limit: int | None = None
    cursor: str | None = None


@dataclass(frozen=True, slots=True)
class GetConsent:
    phone_number: str | None
    requested_by: User


@dataclass(frozen=True, slots=True)
class RecordConsent:
    """Staff record what a patient asked another way (only an opt-out may be recorded)."""

    phone_number: str | None
    action: str | None
    requested_by: User
    note: str | None = None


@dataclass(frozen=True, slots=True)
class UpsertClinic:
    clinic_id: int
    name: str
    npi: str | None = None
    phone_number: str | None = None
    timezone: str | None = None
    send_window: str | None = None  # HH:MM-HH:MM, within 08:00-21:00
    daily_cap: int | None = None
    weekly_cap: int | None = None


@dataclass(frozen=True, slots=True)
class AddClinicNumber:
    clinic_id: int
    number: str
    messaging_service_sid: str | None = None
    default: bool = False


@dataclass(frozen=True, slots=True)
class RemoveClinicNumber:
    number: str


@dataclass(frozen=True, slots=True)
class ListActivities:
    """A page of a patient's ECM activities, newest first; the filters as the caller sent them."""

    patient_id: int
    requested_by: User
    page: int | None = None
    page_size: int | None = None
    activity_type: str | None = None  # sms or call
    assigned_to_id: int | None = None
    status: str | None = None  # created, complete or cancelled


@dataclass(frozen=True, slots=True)
class ListEvents:
    """A page of a patient's ECM events, newest first; days are the clinic's calendar days."""

    patient_id: int
    requested_by: User
    page: int | None = None
    per_page: int | None = None
    event_type: str | None = None  # sms or call
    start_date: str | None = None  # YYYY-MM-DD
    end_date: str | None = None  # YYYY-MM-DD


@dataclass(frozen=True, slots=True)
class GetOutreachDetail:
    """Every event of a clinic in a period of days, one row each.

    ``requested_by`` is the admin asking over the API; None is the operator at the command line.
    ``fields`` are the caller's names for the two days, for the messages that refuse them.
    """

    clinic_id: int
    start_date: str | None
    end_date: str | None
    requested_by: User | None = None
    fields: tuple[str, str] = ("start_date", "end_date")


@dataclass(frozen=True, slots=True)
class AuditRecord:
    """Check that every communication on record has its activity and event, and back.
    ``clinic_id`` None: every clinic."""

    clinic_id: int | None = None


@dataclass(frozen=True, slots=True)
class GeneratePrtfReport:
    """Produce and keep a clinic's PRTF for a period of days (``YYYY-MM-DD``, both included).

    The provider fields default to the clinic's NPI, name and main line. ``requested_by`` must be
    an admin of the clinic; None is the operator at the command line. ``period_fields`` are what
    the caller calls the two days, for the messages about them.
    """

    clinic_id: int
    start_date: str | None
    end_date: str | None
    provider_npi: str | None = None
    provider_name: str | None = None
    provider_phone: str | None = None
    requested_by: User | None = None
    period_fields: tuple[str, str] = ("start_date", "end_date")


@dataclass(frozen=True, slots=True)
class ListPrtfReports:
    requested_by: User


@dataclass(frozen=True, slots=True)
class GetPrtfReport:
    """One report of the user's clinic; ``report_id`` None: not an id at all (not found)."""

    report_id: int | None
    requested_by: User


@dataclass(frozen=True, slots=True)
class ScheduleSms:
    """An SMS to one patient, sent by the worker at ``send_at`` within the sending limits."""

    patient_id: int
    phone_number: str | None
    body: str | None
    send_at: str  # ISO 8601 with a zone
    performed_by: User


@dataclass(frozen=True, slots=True)
class CancelSms:
    sms_id: int
    requested_by: User


@dataclass(frozen=True, slots=True)
class CreateCampaign:
    name: str | None
    body: str | None  # a template: {{first_name}}, {{clinic_name}}, the campaign's variables…
    patient_ids: tuple[int, ...]
    performed_by: User
    send_at: str | None = None  # ISO 8601 with a zone; None: as soon as the limits allow
    variables: dict[int, dict[str, str]] | None = None  # per patient id: name → value


@dataclass(frozen=True, slots=True)
class GetCampaign:
    campaign_id: int
    requested_by: User


@dataclass(frozen=True, slots=True)
class ListCampaignRecipients:
    campaign_id: int
    requested_by: User
    page: int | None = None
    per_page: int | None = None


@dataclass(frozen=True, slots=True)
class CancelCampaign:
    campaign_id: int
    requested_by: User


@dataclass(frozen=True, slots=True)
class SendAutomatedSms:
    """The worker's job: send one automated SMS if the sending limits let it out now."""

    automated_sms_id: int
