"""The API's operations, described once: paths, prose, parameters, and which model answers
which status. ``openapi.py`` turns this and the models' schemas into the OpenAPI document."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from ecm_comms.domain import automated_sms
from ecm_comms.domain.ecm_records import DEFAULT_PER_PAGE, MAX_PER_PAGE
from ecm_comms.domain.prtf import COLUMNS
from ecm_comms.domain.use_cases import campaigns as campaign_rules
from ecm_comms.domain.use_cases import prtf_reports as prtf
from ecm_comms.entrypoints.http.campaigns import MAX_CAMPAIGN_BYTES
from ecm_comms.entrypoints.http.health import HEALTHZ, METRICS, METRICS_TOKEN_REQUIRED, READYZ
from ecm_comms.entrypoints.http.paths import ADMIN_PREFIX, API_PREFIX, ECM_PREFIX
from ecm_comms.entrypoints.http.schemas import (
    campaigns,
    prtf_reports,
    requests,
    responses,
    twilio_forms,
)
from ecm_comms.entrypoints.http.schemas.json_schema import DocumentSchema
from ecm_comms.webhook_routes import (
    CALL_STATUS,
    INBOUND_CALL,
    INBOUND_SMS,
    SMS_STATUS,
    WEBHOOK_PREFIX,
)

Fragment = dict[str, Any]

# Whose schemas go into the document's components, as read and as written.
REQUEST_MODELS: list[type[BaseModel]] = [
    requests.SendSmsRequest,
    requests.InitiateCallRequest,
    requests.RecordConsentRequest,
    campaigns.CreateCampaignRequest,
    prtf_reports.GeneratePrtfReportRequest,
    twilio_forms.InboundSmsForm,
    twilio_forms.InboundCallForm,
    twilio_forms.SmsStatusForm,
    twilio_forms.CallStatusForm,
]
ANSWER_MODELS: list[type[BaseModel]] = [
    responses.SmsSent,
    responses.SmsScheduled,
    responses.SmsCanceled,
    responses.CallInitiated,
    responses.SmsRead,
    responses.CallRead,
    responses.CommunicationsPage,
    responses.ConsentRead,
    responses.ActivitiesPage,
    responses.EventsPage,
    campaigns.CampaignScheduled,
    campaigns.CampaignRead,
    campaigns.RecipientsPage,
    campaigns.CampaignCanceled,
    prtf_reports.PrtfReportGenerated,
    prtf_reports.PrtfReportRead,
    prtf_reports.PrtfReportList,
    responses.ErrorBody,
]

INFO = {
    "title": "ECM Communications API",
    "version": "0.1.0",
    "description": "Clinic endpoints for sending SMS messages and initiating phone calls to ECM "
    "patients, reading them back, and Twilio's webhooks. Every outreach is recorded with an ECM "
    "activity and an ECM event for PRTF reporting.\n\nEvery response body is JSON except TwiML "
    'answers to Twilio. Every error is `{"errors": ["…"]}`. Unknown routes are 404 `Not found`, '
    "wrong methods 405 `Method not allowed`, bodies over 64 KiB (2 MiB for a new campaign) 413 "
    "`Request body is too large`. Timestamps are UTC ISO 8601 with milliseconds "
    "(`2024-11-27T10:00:00.000Z`); ids are integers.",
    "license": {"name": "Apache-2.0", "identifier": "Apache-2.0"},
}
TAGS = [
    {
        "name": "Communications",
        "description": "Outbound SMS and calls. An SMS may be scheduled instead: a worker sends "
        "it at its time within the limits every automated SMS obeys (08:00-21:00 in the "
        "patient's time zone, at most 1 a day and 3 in 7 days per patient unless the clinic "
        "says otherwise, opt-out checked again), or skips it, with its reason.",
    },
    {
        "name": "Campaigns",
        "description": "One templated SMS to many patients of the user's clinic, each sent by a "
        "worker as an automated SMS (see Communications), scoped to the user's clinic.",
    },
    {"name": "Records", "description": "Reading the record, scoped to the user's clinic."},
    {
        "name": "Consent",
        "description": "A patient number's SMS consent with the user's clinic, kept as a ledger: "
        "STOP and START texts, Twilio's refusals of opted-out numbers, and opt-outs staff record.",
    },
    {
        "name": "ECM records",
        "description": "A patient's ECM activities and events (what PRTF reporting counts), "
        "newest first, in numbered pages, scoped to the user's clinic.",
    },
    {
        "name": "Reports",
        "description": "A clinic's compliance record, for its admins (`ecm-comms users set-role "
        "--role admin`); a coordinator's token is refused (403). Dates are calendar days in the "
        "clinic's time zone (its record's, else America/Los_Angeles), both ends included.",
    },
    {
        "name": "PRTF reports",
        "description": "The Provider Reporting Template File a clinic hands its health plan: "
        "produced from the clinic's ECM events of a period and kept exactly as produced. For the "
        "clinic's admins only.",
    },
    {"name": "Twilio webhooks", "description": "Called by Twilio, signed with X-Twilio-Signature."},
    {"name": "Meta"},
    {
        "name": "Operations",
        "description": "For load balancers and Prometheus: no user token, no clinic data.",
    },
]
SECURITY_SCHEMES = {
    "UserToken": {
        "type": "apiKey",
        "in": "header",
        "name": "X-User-Token",
        "description": "A user's API token (`ecm-comms users create` / `users token`).",
    },
    "TwilioSignature": {
        "type": "apiKey",
        "in": "header",
        "name": "X-Twilio-Signature",
        "description": "Twilio's signature over ECM_PUBLIC_BASE_URL + path + query string and the "
        "form, checked with TWILIO_AUTH_TOKEN unless ECM_INSECURE_SKIP_TWILIO_SIGNATURES is set.",
    },
    "MetricsToken": {
        "type": "http",
        "scheme": "bearer",
        "description": "ECM_METRICS_TOKEN; without it set, /metrics asks for no token.",
    },
}
USER: list[dict[str, list[str]]] = [{"UserToken": []}]
TWILIO: list[dict[str, list[str]]] = [{"TwilioSignature": []}]


def ref(kind: str, name: str) -> Fragment:
    return {"$ref": f"#/components/{kind}/{name}"}


def model_ref(model: type[BaseModel]) -> Fragment:
    return ref("schemas", model.__name__)


def errors(description: str, *messages: str | tuple[str, ...]) -> Fragment:
    """An error answer and the messages it can carry (a tuple: several in one answer)."""
    examples = {
        f"e{number}": {"summary": "; ".join(listed), "value": {"errors": list(listed)}}
        for number, message in enumerate(messages, start=1)
        for listed in [(message,) if isinstance(message, str) else message]
    }
    content = {"schema": model_ref(responses.ErrorBody), "examples": examples}
    return {"description": description, "content": {"application/json": content}}


def json_answer(model: type[BaseModel], description: str, **extra: Any) -> Fragment:
    return {
        "description": description,
        "content": {"application/json": {"schema": model_ref(model)}},
    } | extra


def twiml(description: str, example: str) -> Fragment:
    schema = {"type": "string", "description": "A TwiML document."}
    return {
        "description": description,
        "content": {"text/xml": {"schema": schema, "example": example}},
    }


def body(model: type[BaseModel], media_type: str = "application/json", **extra: Any) -> Fragment:
    return {"required": True, "content": {media_type: {"schema": model_ref(model)}}} | extra


def path_id(name: str, description: str, example: int) -> Fragment:
    schema = {"type": "integer", "format": "int64"}
    return {
        "name": name,
        "in": "path",
        "required": True,
        "description": description,
        "schema": schema,
        "example": example,
    }


IN_PROGRESS = "A request with this Idempotency-Key is still in progress; retry it shortly"
SHARED_RESPONSES = {
    "Unauthorized": errors(
        "Missing or unknown `X-User-Token`.",
        "X-User-Token header is required",
        "Invalid user token",
    ),
    "PatientNotFound": errors(
        "Unknown patient, another clinic's patient, or a non-integer id.", "Patient not found"
    ),
    "RecordNotFound": errors("Unknown record, or another clinic's.", "Not found"),
    "CampaignNotFound": errors(
        "Unknown campaign, another clinic's, or an id that is not an integer.", "Campaign not found"
    ),
    "AdminRequired": errors("The user is not an admin of the clinic.", "Admin role required"),
    "ReportNotFound": errors(
        "Unknown report, another clinic's, or an id that is not an integer.", "Not found"
    ),
    "BadJson": errors(
        "The body is not JSON, or not a JSON object.",
        "Request body must be valid JSON",
        "Request body must be a JSON object",
    ),
    "TooLarge": errors("The request body is over 64 KiB.", "Request body is too large"),
    "InProgress": errors(
        "A request with this `Idempotency-Key` is still in progress, or died unfinished.",
        IN_PROGRESS,
    ),
    "StorageUnavailable": errors(
        "The database is unavailable; nothing was done.",
        "The database is unavailable; please retry shortly",
    ),
    "TwilioForbidden": errors(
        "Missing or invalid `X-Twilio-Signature`, or `TWILIO_AUTH_TOKEN` is not set; nothing "
        "written.",
        "X-Twilio-Signature header is required",
        "Invalid Twilio signature",
        "Twilio webhooks are refused: TWILIO_AUTH_TOKEN is not set",
    ),
}

PATIENT_ID = path_id(
    "patient_id",
    "The patient's id. An unknown id, another clinic's patient or a value that is not an integer "
    "of at most 18 digits: 404 `Patient not found`.",
    123,
)
SMS_ID = path_id(
    "sms_id",
    "The SMS record's id (another clinic's record, or a value that is not an integer: 404 "
    "`Not found`).",
    456,
)
IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": "Makes the POST safe to retry; kept per user for 24 hours. The same key with "
    "the same request (method, path and JSON body) replays the first answer, errors included, and "
    "sends nothing (`Idempotent-Replayed: true`); with a different request it is 422; while the "
    "first is still running, 409. Answers 500 and 503 are not kept. A key that is not 1 to 255 "
    "printable ASCII characters is 422. A UUID per logical request serves well.",
    "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[\\x20-\\x7E]+$"},
}
REPLAYED = {
    "Idempotent-Replayed": {
        "description": "`true` when this answer replays an earlier request with the same "
        "`Idempotency-Key`.",
        "schema": {"type": "string", "enum": ["true"]},
    }
}
ORDER_OF_CHECKS = (
    "Checks run in this order: authentication, the request's shape, the patient, then the "
    "fields; a request refused at any step records nothing and sends nothing."
)
FIELD_ERRORS = ("Phone number is required", "Invalid phone number")
SEND_AT_ERRORS = (
    automated_sms.SEND_AT_FORMAT,
    automated_sms.SEND_AT_PAST,
    automated_sms.SEND_AT_TOO_FAR,
)
KEY_INVALID = "Idempotency-Key must be 1 to 255 printable ASCII characters"
KEY_REUSED = "Idempotency-Key was already used for a different request"
TWILIO_DOWN = (
    "Twilio unavailable (5xx, timeout, unreachable). The record stays queued: if Twilio did act, "
    "its status callback completes it."
)
SHAPE_ERRORS = (
    "Wrong shapes, invalid fields (every message that applies), an invalid or reused "
    "`Idempotency-Key`, or Twilio refused it (4xx). Nothing was sent."
)
CONSENT_FIELD_ERRORS = (
    *FIELD_ERRORS,
    "Action must be opt_out or opt_in",
    "Note must be at most 500 characters",
    "Note contains characters that cannot be stored",
)
PAGES = (
    f"`page` counts from 1 (default 1), with 1 to {MAX_PER_PAGE} per page (default "
    f"{DEFAULT_PER_PAGE}); a page past the end is an empty list with the same `pagination`. An "
    "empty parameter counts as absent. Checks run in this order: authentication, a patient id "
    "that is not an integer, the parameters, then the patient."
)
WEBHOOK_400 = "A required field is missing, empty, or not as Twilio sends it."
STORAGE = {"503": ref("responses", "StorageUnavailable")}
ADMIN_ONLY = errors("The user is not an admin of their clinic.", "Admin role required")
OUTREACH_ATTEMPTS_EXAMPLE = (
    "Event ID,Activity ID,Patient ID,Member CIN,Date,Time,Method,Direction,PRTF Category,"
    "Status,Duration Seconds,Performed By,Assigned To\r\n"
    "41,41,123,91234567A,2024-07-02,09:15,Telephonic,Outbound,Telehealth Encounter,completed,"
    "312,Dana Coordinator,Dana Coordinator\r\n"
    "42,42,123,91234567A,2024-07-02,10:03,Text,Inbound,Member Response,received,,,"
    "Dana Coordinator\r\n"
)
COMMON_POST = {
    "400": ref("responses", "BadJson"),
    "401": ref("responses", "Unauthorized"),
    "404": ref("responses", "PatientNotFound"),
    "409": ref("responses", "InProgress"),
    "413": ref("responses", "TooLarge"),
}
WEBHOOK_COMMON = {"403": ref("responses", "TwilioForbidden"), "413": ref("responses", "TooLarge")}
APPLIED = {
    "204": {"description": "Applied, or logged when no record matches (Twilio stops retrying)."}
}


def operations() -> dict[str, dict[str, Fragment]]:
    """Every operation, by path and method."""
    return {
        f"{API_PREFIX}/patients/{{patient_id}}/sms": {
            "post": {
                "tags": ["Communications"],
                "operationId": "sendSms",
                "summary": "Send an SMS to a patient, now or later",
                "description": (
                    "Sends an SMS via Twilio and records it with an ECM activity and an ECM event. "
                    "With `sms.send_at` it is scheduled instead (202): on record now, status "
                    "`scheduled`; a worker sends it at that time within the sending limits, "
                    "and only then are its activity and event recorded (performed by the user "
                    "who scheduled it). Every check of a direct send applies when scheduling. "
                )
                + ORDER_OF_CHECKS,
                "security": USER,
                "parameters": [PATIENT_ID, IDEMPOTENCY_KEY],
                "requestBody": body(
                    requests.SendSmsRequest,
                    description="JSON; read whatever the Content-Type says.",
                ),
                "responses": {
                    "201": json_answer(
                        responses.SmsSent,
                        "Sent (the record, its activity and event are stored).",
                        headers=REPLAYED,
                    ),
                    "202": json_answer(
                        responses.SmsScheduled,
                        "Scheduled (`send_at` given): on record, waiting for a worker.",
                        headers=REPLAYED,
                    ),
                    **COMMON_POST,
                    "422": errors(
                        SHAPE_ERRORS,
                        *FIELD_ERRORS,
                        ("Phone number is required", "Body is required"),
                        "Body is too long (maximum is 1600 characters)",
                        '"sms" is required',
                        '"sms" must be an object',
                        ("Phone number must be a string", "Body must be a string"),
                        "Failed to send SMS: The 'To' number is not a valid phone number",
                        "Failed to send SMS: The recipient has opted out of SMS (replied STOP)",
                        *SEND_AT_ERRORS,
                        "send_at must be a string",
                        KEY_REUSED,
                    ),
                    "502": errors(
                        TWILIO_DOWN,
                        "Failed to send SMS: Twilio did not answer in time",
                        "Failed to send SMS: Twilio could not be reached",
                    ),
                    **STORAGE,
                },
            }
        },
        f"{API_PREFIX}/patients/{{patient_id}}/call": {
            "post": {
                "tags": ["Communications"],
                "operationId": "initiateCall",
                "summary": "Call a patient",
                "description": (
                    "Places a call via Twilio and records it with an ECM activity and an ECM "
                    "event. "
                )
                + ORDER_OF_CHECKS,
                "security": USER,
                "parameters": [PATIENT_ID, IDEMPOTENCY_KEY],
                "requestBody": body(
                    requests.InitiateCallRequest,
                    description="JSON; read whatever the Content-Type says.",
                ),
                "responses": {
                    "201": json_answer(responses.CallInitiated, "Initiated.", headers=REPLAYED),
                    **COMMON_POST,
                    "422": errors(
                        SHAPE_ERRORS,
                        *FIELD_ERRORS,
                        '"call" is required',
                        '"call" must be an object',
                        "Phone number must be a string",
                        "Failed to initiate call: The 'To' number is not a valid phone number",
                        KEY_REUSED,
                    ),
                    "502": errors(
                        TWILIO_DOWN,
                        "Failed to initiate call: Twilio did not answer in time",
                        "Failed to initiate call: Twilio could not be reached",
                    ),
                    **STORAGE,
                },
            }
        },
        f"{API_PREFIX}/sms/{{sms_id}}": {
            "get": {
                "tags": ["Records"],
                "operationId": "getSms",
                "summary": "One SMS and its activity",
                "security": USER,
                "parameters": [SMS_ID],
                "responses": {
                    "200": json_answer(responses.SmsRead, "Found."),
                    "401": ref("responses", "Unauthorized"),
                    "404": ref("responses", "RecordNotFound"),
                    **STORAGE,
                },
            }
        },
        f"{API_PREFIX}/sms/{{sms_id}}/cancel": {
            "post": {
                "tags": ["Communications"],
                "operationId": "cancelSms",
                "summary": "Cancel a scheduled SMS",
                "description": (
                    "An SMS still `scheduled` (not handed to Twilio yet) becomes `canceled` and "
                    "stays on record, with no activity and no event. Checks run in this order: "
                    "authentication, the id, then the SMS's status."
                ),
                "security": USER,
                "parameters": [
                    SMS_ID,
                    IDEMPOTENCY_KEY,
                ],
                "responses": {
                    "200": json_answer(
                        responses.SmsCanceled, "Canceled: the SMS as it stands.", headers=REPLAYED
                    ),
                    "401": ref("responses", "Unauthorized"),
                    "404": ref("responses", "RecordNotFound"),
                    "409": errors(
                        "The SMS is not scheduled any more (sent, skipped, canceled, or never "
                        "scheduled), or a request with this `Idempotency-Key` is in progress.",
                        "Only a scheduled SMS can be canceled",
                        IN_PROGRESS,
                    ),
                    "422": errors(
                        "An invalid or reused `Idempotency-Key`.", KEY_INVALID, KEY_REUSED
                    ),
                    **STORAGE,
                },
            }
        },
        f"{API_PREFIX}/calls/{{call_id}}": {
            "get": {
                "tags": ["Records"],
                "operationId": "getCall",
                "summary": "One call and its activity",
                "security": USER,
                "parameters": [
                    path_id(
                        "call_id",
                        (
                            "The call record's id (another clinic's record, or a value that is "
                            "not an integer: 404 `Not found`)."
                        ),
                        457,
                    )
                ],
                "responses": {
                    "200": json_answer(responses.CallRead, "Found."),
                    "401": ref("responses", "Unauthorized"),
                    "404": ref("responses", "RecordNotFound"),
                    **STORAGE,
                },
            }
        },
        f"{API_PREFIX}/patients/{{patient_id}}/communications": {
            "get": {
                "tags": ["Records"],
                "operationId": "listCommunications",
                "summary": "A patient's SMS and calls, newest first",
                "description": (
                    "Inbound and outbound SMS and calls together, with keyset pagination."
                ),
                "security": USER,
                "parameters": [PATIENT_ID, *query_parameters(requests.HistoryQuery)],
                "responses": {
                    "200": json_answer(responses.CommunicationsPage, "Found."),
                    "401": ref("responses", "Unauthorized"),
                    "404": ref("responses", "PatientNotFound"),
                    "422": errors(
                        "A bad `limit` or `cursor`.",
                        "limit must be a positive integer",
                        "limit must be between 1 and 200",
                        "Invalid cursor",
                    ),
                    **STORAGE,
                },
            }
        },
        f"{API_PREFIX}/consent": {
            "get": {
                "tags": ["Consent"],
                "operationId": "getConsent",
                "summary": "A number's SMS consent with the user's clinic",
                "description": (
                    "Whether SMS to the number are refused as opted out, and every consent entry "
                    "behind that, newest first. Consent is kept per clinic when the clinic texts "
                    "from Twilio numbers of its own, else with the shared number it texts from. "
                    "A number never seen is not opted out and has no history."
                ),
                "security": USER,
                "parameters": query_parameters(requests.ConsentQuery),
                "responses": {
                    "200": json_answer(responses.ConsentRead, "The number's consent."),
                    "401": ref("responses", "Unauthorized"),
                    "422": errors("A missing or invalid `phone_number`.", *FIELD_ERRORS),
                    **STORAGE,
                },
            },
            "post": {
                "tags": ["Consent"],
                "operationId": "recordConsent",
                "summary": "Record a patient's opt-out of SMS",
                "description": (
                    "Staff record an opt-out the patient asked for another way (by phone, in "
                    "person): SMS to the number from the user's clinic are refused from then on. "
                    "Only the patient can opt back in, by texting START. Checks run in this "
                    "order: authentication, the request's shape, then the fields; a request "
                    "refused at any step records nothing."
                ),
                "security": USER,
                "parameters": [IDEMPOTENCY_KEY],
                "requestBody": body(
                    requests.RecordConsentRequest,
                    description="JSON; read whatever the Content-Type says.",
                ),
                "responses": {
                    "201": json_answer(
                        responses.ConsentRead,
                        "Recorded; the number's consent with the entry.",
                        headers=REPLAYED,
                    ),
                    "400": ref("responses", "BadJson"),
                    "401": ref("responses", "Unauthorized"),
                    "409": ref("responses", "InProgress"),
                    "413": ref("responses", "TooLarge"),
                    "422": errors(
                        "Wrong shapes, invalid fields (every message that applies), a staff "
                        "opt-in, or an invalid or reused `Idempotency-Key`. Nothing was recorded.",
                        *CONSENT_FIELD_ERRORS,
                        ("Phone number is required", "Action must be opt_out or opt_in"),
                        "Only the patient can opt back in, by texting START",
                        '"consent" is required',
                        '"consent" must be an object',
                        ("Phone number must be a string", "Action must be a string"),
                        "Note must be a string",
                        KEY_REUSED,
                    ),
                    **STORAGE,
                },
            },
        },
        f"{ECM_PREFIX}/patients/{{patient_id}}/activities": {
            "get": {
                "tags": ["ECM records"],
                "operationId": "listEcmActivities",
                "summary": "A patient's ECM activities, newest first",
                "description": (
                    "One activity per SMS or call with the patient, inbound and outbound, with "
                    "the communication's direction, the SMS's text and when its event occurred. "
                )
                + PAGES,
                "security": USER,
                "parameters": [PATIENT_ID, *query_parameters(requests.ActivitiesQuery)],
                "responses": {
                    "200": json_answer(responses.ActivitiesPage, "Found."),
                    "401": ref("responses", "Unauthorized"),
                    "404": ref("responses", "PatientNotFound"),
                    "422": errors(
                        "A bad parameter (every message that applies).",
                        "page must be a positive integer",
                        "page must be 1 or more",
                        f"page_size must be between 1 and {MAX_PER_PAGE}",
                        "activity_type must be sms or call",
                        "status must be created, complete or cancelled",
                        "assigned_to_id must be a positive integer",
                    ),
                    **STORAGE,
                },
            }
        },
        f"{ECM_PREFIX}/patients/{{patient_id}}/events": {
            "get": {
                "tags": ["ECM records"],
                "operationId": "listEcmEvents",
                "summary": "A patient's ECM events, newest first, with their PRTF category",
                "description": (
                    "One event per SMS or call with the patient. `start_date` and `end_date` are "
                    "calendar days in the clinic's time zone (the clinic record's, else "
                    "America/Los_Angeles), both included; either may be left out. "
                )
                + PAGES,
                "security": USER,
                "parameters": [PATIENT_ID, *query_parameters(requests.EventsQuery)],
                "responses": {
                    "200": json_answer(responses.EventsPage, "Found."),
                    "401": ref("responses", "Unauthorized"),
                    "404": ref("responses", "PatientNotFound"),
                    "422": errors(
                        "A bad parameter (every message that applies).",
                        "page must be a positive integer",
                        "page must be 1 or more",
                        f"per_page must be between 1 and {MAX_PER_PAGE}",
                        "event_type must be sms or call",
                        "start_date must be a date as YYYY-MM-DD",
                        "start_date must not be after end_date",
                        ("page must be 1 or more", "end_date must be a date as YYYY-MM-DD"),
                    ),
                    **STORAGE,
                },
            }
        },
        f"{ADMIN_PREFIX}/outreach_attempts.csv": {
            "get": {
                "tags": ["Reports"],
                "operationId": "getOutreachAttempts",
                "summary": "The outreach detail: every event of a period, as CSV",
                "description": (
                    "One row per ECM event of the admin's clinic in the period, oldest first, "
                    "streamed as it is read. Columns: `Event ID, Activity ID, Patient ID, Member "
                    "CIN, Date, Time, Method, Direction, PRTF Category, Status, Duration Seconds, "
                    "Performed By, Assigned To`. `Date` (`YYYY-MM-DD`) and `Time` (`HH:MM`) are "
                    "in the clinic's time zone; `Method` is `Text` or `Telephonic`; `Direction` "
                    "`Outbound` or `Inbound`; `Status` the SMS's or call's current status; "
                    "`Duration Seconds` a call's, once Twilio reported it; users by name. A cell "
                    "whose value is unknown is empty; a name or CIN starting with `=`, `+`, `-`, "
                    "`@`, a tab or a carriage return gets a leading `'`. UTF-8 without a byte-"
                    "order mark, RFC 4180 quoting, CRLF line ends. Checks run in this order: "
                    "authentication, the admin role, the dates; a refusal is JSON."
                ),
                "security": USER,
                "parameters": query_parameters(requests.OutreachAttemptsQuery),
                "responses": {
                    "200": {
                        "description": "The CSV: a header row, then one row per event.",
                        "headers": {
                            "Content-Disposition": {
                                "description": '`attachment; filename="outreach_attempts_'
                                '{start_date}_{end_date}.csv"`.',
                                "schema": {"type": "string"},
                            }
                        },
                        "content": {
                            "text/csv": {
                                "schema": {"type": "string"},
                                "example": OUTREACH_ATTEMPTS_EXAMPLE,
                            }
                        },
                    },
                    "401": ref("responses", "Unauthorized"),
                    "403": ADMIN_ONLY,
                    "422": errors(
                        "A missing or bad date, or a period that ends before it starts.",
                        ("start_date is required", "end_date is required"),
                        "start_date must be a date as YYYY-MM-DD",
                        "end_date must be a date as YYYY-MM-DD",
                        "start_date must not be after end_date",
                    ),
                    **STORAGE,
                },
            }
        },
        **campaign_operations(),
        **prtf_report_operations(),
        **health_operations(),
        f"{WEBHOOK_PREFIX}{INBOUND_SMS}": {
            "post": {
                "tags": ["Twilio webhooks"],
                "operationId": "twilioInboundSms",
                "summary": "Inbound SMS (Twilio)",
                "description": (
                    "Records the SMS, matched to a patient by the sender's number (or stored "
                    "unmatched), with an activity and event when matched; applies opt-out "
                    "keywords. A repeat of a sid records nothing new."
                ),
                "security": TWILIO,
                "requestBody": body(twilio_forms.InboundSmsForm, FORM),
                "responses": {
                    "200": twiml(
                        "An empty TwiML response: no automatic reply.",
                        '<?xml version="1.0" encoding="UTF-8"?><Response />',
                    ),
                    "400": errors(
                        WEBHOOK_400, "MessageSid is required", "MessageSid is not one Twilio sends"
                    ),
                    **WEBHOOK_COMMON,
                    **STORAGE,
                },
            }
        },
        f"{WEBHOOK_PREFIX}{INBOUND_CALL}": {
            "post": {
                "tags": ["Twilio webhooks"],
                "operationId": "twilioInboundCall",
                "summary": "Inbound call (Twilio)",
                "description": (
                    "Records the call like an inbound SMS and answers with TwiML that dials the "
                    "user the activity is assigned to, else the clinic's number, else says a "
                    "message and hangs up."
                ),
                "security": TWILIO,
                "requestBody": body(twilio_forms.InboundCallForm, FORM),
                "responses": {
                    "200": twiml(
                        "TwiML: `<Dial>`, or `<Say>` then `<Hangup>`.",
                        (
                            '<?xml version="1.0" encoding="UTF-8"?><Response>'
                            "<Dial>+18055550101</Dial></Response>"
                        ),
                    ),
                    "400": errors(WEBHOOK_400, "CallSid is required", "From is required"),
                    **WEBHOOK_COMMON,
                    **STORAGE,
                },
            }
        },
        f"{WEBHOOK_PREFIX}{SMS_STATUS}": {
            "post": {
                "tags": ["Twilio webhooks"],
                "operationId": "twilioSmsStatus",
                "summary": "SMS status callback (Twilio)",
                "description": (
                    "Moves the SMS's status forward only, keeps `ErrorCode`/`ErrorMessage`, logs "
                    "every callback. Error 21610 marks the number opted out."
                ),
                "security": TWILIO,
                "parameters": query_parameters(twilio_forms.StatusCallbackQuery),
                "requestBody": body(twilio_forms.SmsStatusForm, FORM),
                "responses": {
                    **APPLIED,
                    "400": errors(
                        WEBHOOK_400,
                        "MessageSid is required",
                        "MessageStatus is not one Twilio sends",
                    ),
                    **WEBHOOK_COMMON,
                    **STORAGE,
                },
            }
        },
        f"{WEBHOOK_PREFIX}{CALL_STATUS}": {
            "post": {
                "tags": ["Twilio webhooks"],
                "operationId": "twilioCallStatus",
                "summary": "Call status callback (Twilio)",
                "description": (
                    "Moves the call's status forward only, keeps `CallDuration`, logs every "
                    "callback."
                ),
                "security": TWILIO,
                "parameters": query_parameters(twilio_forms.StatusCallbackQuery),
                "requestBody": body(twilio_forms.CallStatusForm, FORM),
                "responses": {
                    **APPLIED,
                    "400": errors(WEBHOOK_400, "CallSid is required", "CallStatus is required"),
                    **WEBHOOK_COMMON,
                    **STORAGE,
                },
            }
        },
        "/openapi.json": {
            "get": {
                "tags": ["Meta"],
                "operationId": "getOpenApiDocument",
                "summary": "This document",
                "security": [],
                "responses": {
                    "200": {
                        "description": (
                            "The OpenAPI document. Mounted below a host's prefix, `servers` names"
                            " that prefix."
                        ),
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "required": ["openapi", "info", "paths"],
                                }
                            }
                        },
                    }
                },
            }
        },
    }


FORM = "application/x-www-form-urlencoded"
CAMPAIGNS = f"{API_PREFIX}/campaigns"
CAMPAIGN_ID = path_id(
    "campaign_id",
    "The campaign's id (another clinic's campaign, or a value that is not an integer: 404 "
    "`Campaign not found`).",
    12,
)
CAMPAIGN_READ = {
    "401": ref("responses", "Unauthorized"),
    "404": ref("responses", "CampaignNotFound"),
}


def campaign_operations() -> dict[str, dict[str, Fragment]]:
    """Campaigns: created, read, listed by recipient and canceled, in the user's clinic."""
    return {
        CAMPAIGNS: {
            "post": {
                "tags": ["Campaigns"],
                "operationId": "createCampaign",
                "summary": "Text many patients of the clinic from one template",
                "description": (
                    "Writes one SMS per patient, at their first phone number, from the template "
                    "(`body`), all `scheduled`; the workers send them at `send_at` (absent: at "
                    "once) within the sending limits. A patient without a phone number, without "
                    "a value for a placeholder, or whose number opted out is a recipient all the "
                    "same, `skipped` with the reason. Checks run in this order: authentication, "
                    "the request's shape, the fields (every message that applies), then the "
                    "patients; a request refused at any step records nothing. The body may be "
                    "up to 2 MiB."
                ),
                "security": USER,
                "parameters": [IDEMPOTENCY_KEY],
                "requestBody": body(
                    campaigns.CreateCampaignRequest,
                    description="JSON; read whatever the Content-Type says.",
                ),
                "responses": {
                    "202": json_answer(
                        campaigns.CampaignScheduled,
                        "Scheduled: every recipient's SMS is on record.",
                        headers=REPLAYED,
                    ),
                    "400": ref("responses", "BadJson"),
                    "401": ref("responses", "Unauthorized"),
                    "409": ref("responses", "InProgress"),
                    "413": errors(
                        f"The request body is over {MAX_CAMPAIGN_BYTES // (1024 * 1024)} MiB.",
                        "Request body is too large",
                    ),
                    "422": errors(
                        "Wrong shapes, invalid fields (every message that applies), patients "
                        "that are not the clinic's, or an invalid or reused `Idempotency-Key`. "
                        "Nothing was recorded.",
                        '"campaign" is required',
                        '"campaign" must be an object',
                        (campaign_rules.NAME_REQUIRED, "Body is required"),
                        campaign_rules.NAME_TOO_LONG,
                        campaign_rules.NAME_UNSTORABLE,
                        campaign_rules.RECIPIENT_COUNT,
                        "Patients not found: 999, 1000 (and 12 more)",
                        "Body has unknown placeholders: {{room}}",
                        *SEND_AT_ERRORS,
                        campaigns.PATIENT_IDS_SHAPE,
                        campaigns.VARIABLES_SHAPE,
                        campaigns.VARIABLES_KEYS,
                        ("Name must be a string", "send_at must be a string"),
                        KEY_INVALID,
                        KEY_REUSED,
                    ),
                    **STORAGE,
                },
            }
        },
        f"{CAMPAIGNS}/{{campaign_id}}": {
            "get": {
                "tags": ["Campaigns"],
                "operationId": "getCampaign",
                "summary": "A campaign and its counts",
                "description": "The counts move as the workers send.",
                "security": USER,
                "parameters": [CAMPAIGN_ID],
                "responses": {
                    "200": json_answer(campaigns.CampaignRead, "Found."),
                    **CAMPAIGN_READ,
                    **STORAGE,
                },
            }
        },
        f"{CAMPAIGNS}/{{campaign_id}}/recipients": {
            "get": {
                "tags": ["Campaigns"],
                "operationId": "listCampaignRecipients",
                "summary": "A campaign's recipients and the outcome of each one's SMS",
                "description": (
                    "In the order the patients were given. "
                    f"`page` counts from 1 (default 1), with 1 to {MAX_PER_PAGE} per page "
                    f"(default {DEFAULT_PER_PAGE}); a page past the end is an empty list with "
                    "the same `pagination`. An empty parameter counts as absent. Checks run in "
                    "this order: authentication, a campaign id that is not an integer, the "
                    "parameters, then the campaign."
                ),
                "security": USER,
                "parameters": [CAMPAIGN_ID, *query_parameters(requests.RecipientsQuery)],
                "responses": {
                    "200": json_answer(campaigns.RecipientsPage, "Found."),
                    **CAMPAIGN_READ,
                    "422": errors(
                        "A bad parameter (every message that applies).",
                        "page must be a positive integer",
                        "page must be 1 or more",
                        f"per_page must be between 1 and {MAX_PER_PAGE}",
                    ),
                    **STORAGE,
                },
            }
        },
        f"{CAMPAIGNS}/{{campaign_id}}/cancel": {
            "post": {
                "tags": ["Campaigns"],
                "operationId": "cancelCampaign",
                "summary": "Cancel what a campaign has not sent yet",
                "description": (
                    "Every recipient still `scheduled` becomes `canceled` (their SMS too); what "
                    "was handed to Twilio, skipped or failed stays as it is. Canceling a "
                    "campaign with nothing left to cancel changes nothing and answers the same."
                ),
                "security": USER,
                "parameters": [CAMPAIGN_ID, IDEMPOTENCY_KEY],
                "responses": {
                    "200": json_answer(
                        campaigns.CampaignCanceled,
                        "The campaign as it stands now.",
                        headers=REPLAYED,
                    ),
                    **CAMPAIGN_READ,
                    "409": ref("responses", "InProgress"),
                    "422": errors(
                        "An invalid or reused `Idempotency-Key`.", KEY_INVALID, KEY_REUSED
                    ),
                    **STORAGE,
                },
            }
        },
    }


PRTF_REPORTS = f"{ADMIN_PREFIX}/prtf_reports"
REPORT_ID = path_id(
    "report_id",
    "The report's id (another clinic's report, or a value that is not an integer: 404 "
    "`Not found`).",
    1,
)
PRTF_FIELD_ERRORS = (
    "start_date is required",
    "start_date must be a date as YYYY-MM-DD",
    "start_date must not be after end_date",
    prtf.NPI_REQUIRED,
    prtf.INVALID_NPI,
    prtf.INVALID_PHONE,
    prtf.NAME_TOO_LONG,
    prtf.NAME_UNSTORABLE,
)
ADMIN_READ = {
    "401": ref("responses", "Unauthorized"),
    "403": ref("responses", "AdminRequired"),
}
CSV = "text/csv"


def prtf_report_operations() -> dict[str, dict[str, Fragment]]:
    """The PRTF reports: for the clinic's admins, scoped to the user's clinic."""
    return {
        PRTF_REPORTS: {
            "post": {
                "tags": ["PRTF reports"],
                "operationId": "generatePrtfReport",
                "summary": "Produce the clinic's PRTF for a period",
                "description": (
                    "One row per patient of the clinic with at least one ECM event in the period "
                    "(calendar days in the clinic's time zone, both included), ordered by Member "
                    "CIN then patient id. The provider fields default to the clinic's NPI, name "
                    "and main line; a report needs an NPI. The file is kept exactly as produced. "
                    "Checks run in this order: authentication, the admin role, the request's "
                    "shape, then the fields (every message that applies); a refused request "
                    "keeps nothing."
                ),
                "security": USER,
                "parameters": [IDEMPOTENCY_KEY],
                "requestBody": body(
                    prtf_reports.GeneratePrtfReportRequest,
                    description="JSON; read whatever the Content-Type says.",
                ),
                "responses": {
                    "201": json_answer(
                        prtf_reports.PrtfReportGenerated,
                        "Produced and kept.",
                        headers=REPLAYED,
                    ),
                    "400": ref("responses", "BadJson"),
                    **ADMIN_READ,
                    "409": ref("responses", "InProgress"),
                    "413": ref("responses", "TooLarge"),
                    "422": errors(
                        "Missing or bad dates, no NPI or a bad one, a bad provider phone or "
                        "name, a field that is not a string, or an invalid or reused "
                        "`Idempotency-Key`. Nothing was kept.",
                        *PRTF_FIELD_ERRORS,
                        ("start_date is required", "end_date is required"),
                        "start_date must be a string",
                        KEY_REUSED,
                    ),
                    **STORAGE,
                },
            },
            "get": {
                "tags": ["PRTF reports"],
                "operationId": "listPrtfReports",
                "summary": "The clinic's PRTF reports, newest first",
                "security": USER,
                "responses": {
                    "200": json_answer(prtf_reports.PrtfReportList, "The clinic's reports."),
                    **ADMIN_READ,
                    **STORAGE,
                },
            },
        },
        f"{PRTF_REPORTS}/{{report_id}}": {
            "get": {
                "tags": ["PRTF reports"],
                "operationId": "getPrtfReport",
                "summary": "One PRTF report",
                "security": USER,
                "parameters": [REPORT_ID],
                "responses": {
                    "200": json_answer(prtf_reports.PrtfReportRead, "Found."),
                    **ADMIN_READ,
                    "404": ref("responses", "ReportNotFound"),
                    **STORAGE,
                },
            }
        },
        f"{PRTF_REPORTS}/{{report_id}}/download": {
            "get": {
                "tags": ["PRTF reports"],
                "operationId": "downloadPrtfReport",
                "summary": "A PRTF report's file",
                "description": (
                    "The CSV exactly as produced: UTF-8 without a byte-order mark, RFC 4180, a "
                    "header row then one row per patient. A free-text cell that would start a "
                    "spreadsheet formula (`=`, `+`, `-`, `@`, a tab, a carriage return) starts "
                    "with `'`."
                ),
                "security": USER,
                "parameters": [REPORT_ID],
                "responses": {
                    "200": {
                        "description": "The file, as an attachment under its file name.",
                        "headers": {
                            "Content-Disposition": {
                                "description": 'attachment; filename="PRTF_…csv"',
                                "required": True,
                                "schema": {"type": "string"},
                            }
                        },
                        "content": {
                            CSV: {
                                "schema": {"type": "string"},
                                "example": ",".join(COLUMNS) + "\r\n",
                            }
                        },
                    },
                    **ADMIN_READ,
                    "404": ref("responses", "ReportNotFound"),
                    **STORAGE,
                },
            }
        },
    }


def query_parameters(model: type[BaseModel]) -> list[Fragment]:
    """The query parameters ``model`` reads, as the document lists them."""
    schema = model.model_json_schema(schema_generator=DocumentSchema, by_alias=True)
    return [
        {
            "name": name,
            "in": "query",
            "required": name in schema.get("required", []),
            "description": property_schema.pop("description", ""),
            "schema": property_schema,
        }
        for name, property_schema in schema["properties"].items()
    ]


READINESS_SCHEMA = {
    "type": "object",
    "required": ["status", "checks"],
    "properties": {
        "status": {"type": "string", "enum": ["ready", "not_ready"]},
        "checks": {
            "type": "object",
            "required": ["database", "migrations"],
            "properties": {
                "database": {"type": "string", "enum": ["ok", "unavailable"]},
                "migrations": {"type": "string", "enum": ["ok", "behind", "ahead", "unknown"]},
            },
        },
    },
}


def health_operations() -> dict[str, dict[str, Fragment]]:
    """Liveness, readiness and metrics: at the root, whatever the API's prefix."""
    return {
        HEALTHZ: {
            "get": {
                "tags": ["Operations"],
                "operationId": "getLiveness",
                "summary": "Liveness: the process answers",
                "description": "Asks nothing of the database: an outage is no reason to restart.",
                "security": [],
                "responses": {
                    "200": {
                        "description": "Alive.",
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "required": ["status"],
                                    "properties": {"status": {"const": "ok"}},
                                },
                                "example": {"status": "ok"},
                            }
                        },
                    }
                },
            }
        },
        READYZ: {
            "get": {
                "tags": ["Operations"],
                "operationId": "getReadiness",
                "summary": "Readiness: the database answers and its schema is current",
                "description": (
                    "`migrations` is `behind` when `ecm-comms db upgrade` has not been run for "
                    "this version, `ahead` (still ready) when a newer version migrated first."
                ),
                "security": [],
                "responses": {
                    "200": {
                        "description": "Ready for requests.",
                        "content": {
                            "application/json": {
                                "schema": READINESS_SCHEMA,
                                "example": {
                                    "status": "ready",
                                    "checks": {"database": "ok", "migrations": "ok"},
                                },
                            }
                        },
                    },
                    "503": {
                        "description": "Not ready: the failing check is named.",
                        "content": {
                            "application/json": {
                                "schema": READINESS_SCHEMA,
                                "example": {
                                    "status": "not_ready",
                                    "checks": {"database": "unavailable", "migrations": "unknown"},
                                },
                            }
                        },
                    },
                },
            }
        },
        METRICS: {
            "get": {
                "tags": ["Operations"],
                "operationId": "getMetrics",
                "summary": "Metrics in Prometheus' text format",
                "security": [{}, {"MetricsToken": []}],
                "responses": {
                    "200": {
                        "description": "Every worker's counts, added up.",
                        "content": {"text/plain": {"schema": {"type": "string"}}},
                    },
                    "401": errors(
                        "ECM_METRICS_TOKEN is set and the request did not bear it.",
                        METRICS_TOKEN_REQUIRED,
                    ),
                    "404": errors("ECM_METRICS=off.", "Not found"),
                },
            }
        },
    }
