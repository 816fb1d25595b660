"""Twilio's side of the webhooks: forms as Twilio posts them, signed with the account's token.

Signatures come from twilio-python's own ``RequestValidator.compute_signature`` over the URL
Twilio called (scheme, host, path and query) and the form, never from a hand-rolled HMAC, so the
tests agree with Twilio by construction.
"""

from __future__ import annotations

import secrets
import xml.etree.ElementTree as ElementTree
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import requests
from flask.testing import FlaskClient
from sqlalchemy import RowMapping, Table, func, select
from twilio.request_validator import RequestValidator
from werkzeug.datastructures import MultiDict
from werkzeug.test import TestResponse

from ecm_comms.adapters.memory import FakeGateway, FixedClock
from ecm_comms.adapters.sql import tables
from ecm_comms.container import Container, create_container
from ecm_comms.webhook_routes import (
    CALL_STATUS,
    INBOUND_CALL,
    INBOUND_SMS,
    RECORD_ID_PARAMETER,
    SMS_STATUS,
    WEBHOOK_PREFIX,
)

# Shaped like Twilio's (32 hex digits), and known to nobody but these tests.
AUTH_TOKEN = "5f0c2a9e8b7d4c3e1a2b3c4d5e6f7a8b"
OTHER_AUTH_TOKEN = "0a1b2c3d4e5f60718293a4b5c6d7e8f9"
ACCOUNT_SID = "AC" + "7" * 32
# Where Twilio reaches the service: a TLS-terminating proxy in front of the app.
PUBLIC_BASE_URL = "https://comms.clinic.example"
CLINIC_NUMBER = "+18059876543"  # the FakeGateway's sender: where patients text and call
SIGNATURE_HEADER = "X-Twilio-Signature"

API = "/v1/clinic/ecm/communications"

# Settings of a service that validates webhooks as it would in production.
WEBHOOK_SETTINGS: dict[str, str] = {
    "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
    "ECM_PUBLIC_BASE_URL": PUBLIC_BASE_URL,
}

Form = Mapping[str, str] | MultiDict[str, str]

# Every table a webhook may write to.
WRITTEN_TABLES: tuple[Table, ...] = (
    tables.text_messages,
    tables.voice_calls,
    tables.activities,
    tables.events,
    tables.status_callbacks,
    tables.consent_entries,
)
NOTHING_WRITTEN: dict[str, int] = {table.name: 0 for table in WRITTEN_TABLES}


@contextmanager
def webhook_container(
    database_url: str,
    gateway: FakeGateway,
    clock: FixedClock,
    settings: Mapping[str, str] = WEBHOOK_SETTINGS,
) -> Iterator[Container]:
    """The real container on ``database_url`` configured by ``settings`` (environment
    variables), with the gateway and the clock swapped for fakes."""
    built = create_container(environ={"ECM_DATABASE_URL": database_url, **settings})
    built.gateway.override(gateway)
    built.clock.override(clock)
    try:
        yield built
    finally:
        built.engine().dispose()


def new_sid(prefix: str) -> str:
    """A sid as Twilio makes them: two letters and 32 hex digits."""
    return prefix + secrets.token_hex(16)


def webhook_path(route: str, record_id: int | None = None) -> str:
    """The path (and query) of a webhook; status callbacks carry our record's id."""
    path = WEBHOOK_PREFIX + route
    if record_id is None:
        return path
    return f"{path}?{urlencode({RECORD_ID_PARAMETER: record_id})}"


def signature(url: str, form: Form, auth_token: str = AUTH_TOKEN) -> str:
    """What Twilio puts in X-Twilio-Signature for a POST of ``form`` to ``url``."""
    return str(RequestValidator(auth_token).compute_signature(url, form))


# --- forms, as Twilio posts them --------------------------------------------------------------


def inbound_sms_form(
    from_: str, body: str, *, sid: str | None = None, to: str = CLINIC_NUMBER, **extra: str
) -> dict[str, str]:
    sid = sid or new_sid("SM")
    return {
        "MessageSid": sid,
        "SmsSid": sid,
        "SmsMessageSid": sid,
        "AccountSid": ACCOUNT_SID,
        "From": from_,
        "To": to,
        "Body": body,
        "SmsStatus": "received",
        "ApiVersion": "2010-04-01",
        **extra,
    }


def inbound_call_form(
    from_: str, *, sid: str | None = None, to: str = CLINIC_NUMBER, **extra: str
) -> dict[str, str]:
    sid = sid or new_sid("CA")
    return {
        "CallSid": sid,
        "AccountSid": ACCOUNT_SID,
        "From": from_,
        "To": to,
        "Caller": from_,
        "Called": to,
        "CallStatus": "ringing",
        "Direction": "inbound",
        "ApiVersion": "2010-04-01",
        **extra,
    }


def sms_status_form(
    sid: str,
    status: str,
    *,
    to: str = "+18051234567",
    error_code: int | None = None,
    error_message: str | None = None,
) -> dict[str, str]:
    form = {
        "MessageSid": sid,
        "SmsSid": sid,
        "MessageStatus": status,
        "SmsStatus": status,
        "AccountSid": ACCOUNT_SID,
        "From": CLINIC_NUMBER,
        "To": to,
        "ApiVersion": "2010-04-01",
    }
    if error_code is not None:
        form["ErrorCode"] = str(error_code)
    if error_message is not None:
        form["ErrorMessage"] = error_message
    return form


def call_status_form(
    sid: str,
    status: str,
    *,
    to: str = "+18051234567",
    duration: int | None = None,
    sequence_number: int = 0,
) -> dict[str, str]:
    form = {
        "CallSid": sid,
        "CallStatus": status,
        "AccountSid": ACCOUNT_SID,
        "From": CLINIC_NUMBER,
        "To": to,
        "Direction": "outbound-api",
        "ApiVersion": "2010-04-01",
        "SequenceNumber": str(sequence_number),
        "CallbackSource": "call-progress-events",
        "Timestamp": "Wed, 27 Nov 2024 10:00:05 +0000",
    }
    if duration is not None:
        form["CallDuration"] = str(duration)
    return form


# --- posting them -------------------------------------------------------------------------------


@dataclass(frozen=True)
class SignedWebhooks:
    """Twilio posting to a Flask test client: the app sees ``http://localhost/...`` while the
    signature is over ``public_base_url`` (the proxy's URL, which Twilio called)."""

    client: FlaskClient
    public_base_url: str = PUBLIC_BASE_URL
    auth_token: str = AUTH_TOKEN

    def url(self, route: str, record_id: int | None = None) -> str:
        return self.public_base_url + webhook_path(route, record_id)

    def post(self, route: str, form: Form, *, record_id: int | None = None) -> TestResponse:
        signed = signature(self.url(route, record_id), form, self.auth_token)
        return self.post_with_signature(route, form, signed, record_id=record_id)

    def post_with_signature(
        self, route: str, form: Form, signed: str | None, *, record_id: int | None = None
    ) -> TestResponse:
        """``form`` with the given signature header (none when ``signed`` is None)."""
        headers = {} if signed is None else {SIGNATURE_HEADER: signed}
        return self.client.post(webhook_path(route, record_id), data=form, headers=headers)

    def inbound_sms(self, from_: str, body: str, **fields: str) -> TestResponse:
        return self.post(INBOUND_SMS, inbound_sms_form(from_, body, **fields))

    def inbound_call(self, from_: str, **fields: str) -> TestResponse:
        return self.post(INBOUND_CALL, inbound_call_form(from_, **fields))

    def sms_status(
        self, sid: str, status: str, *, record_id: int | None = None, **fields: Any
    ) -> TestResponse:
        return self.post(SMS_STATUS, sms_status_form(sid, status, **fields), record_id=record_id)

    def call_status(
        self, sid: str, status: str, *, record_id: int | None = None, **fields: Any
    ) -> TestResponse:
        return self.post(CALL_STATUS, call_status_form(sid, status, **fields), record_id=record_id)


def post_signed(
    url: str, form: Form, *, auth_token: str = AUTH_TOKEN, timeout: float = 10
) -> requests.Response:
    """Twilio posting ``form`` to a served instance at ``url``, over a real socket."""
    headers = {SIGNATURE_HEADER: signature(url, form, auth_token)}
    return requests.post(url, data=form, headers=headers, timeout=timeout)


# --- what the service answered and wrote --------------------------------------------------------


def twiml(response: TestResponse | requests.Response) -> list[tuple[str, str | None]]:
    """A TwiML answer as its verbs, in order: ``[("Dial", "+1805…")]``; [] for ``<Response/>``."""
    text = response.text
    root = ElementTree.fromstring(text)
    assert root.tag == "Response", text
    return [(verb.tag, verb.text) for verb in root]


def table_counts(container: Container) -> dict[str, int]:
    """The number of rows in each table a webhook may write to, by table name."""
    with container.engine().connect() as connection:
        return {
            table.name: connection.execute(select(func.count()).select_from(table)).scalar_one()
            for table in WRITTEN_TABLES
        }


def rows(container: Container, table: Table) -> list[RowMapping]:
    """Every row of ``table``, oldest first."""
    with container.engine().connect() as connection:
        return list(connection.execute(select(table).order_by(table.c.id)).mappings())


def only_row(container: Container, table: Table) -> RowMapping:
    found = rows(container, table)
    assert len(found) == 1, f"{table.name}: {len(found)} rows, expected exactly one"
    return found[0]


# --- the clinic API, as a front end uses it ------------------------------------------------------


def send_sms(
    client: FlaskClient,
    headers: Mapping[str, str],
    *,
    patient_id: int = 123,
    phone_number: str = "+18051234567",
    body: str = "Reminder: your appointment is Tuesday at 10am.",
) -> TestResponse:
    return client.post(
        f"{API}/patients/{patient_id}/sms",
        json={"sms": {"phone_number": phone_number, "body": body}},
        headers=dict(headers),
    )


def start_call(
    client: FlaskClient,
    headers: Mapping[str, str],
    *,
    patient_id: int = 123,
    phone_number: str = "+18051234567",
) -> TestResponse:
    return client.post(
        f"{API}/patients/{patient_id}/call",
        json={"call": {"phone_number": phone_number}},
        headers=dict(headers),
    )


def sent_sms(client: FlaskClient, headers: Mapping[str, str], **options: Any) -> dict[str, Any]:
    """The ``sms`` of a send that must succeed."""
    response = send_sms(client, headers, **options)
    assert response.status_code == 201, response.get_json()
    body: dict[str, Any] = response.get_json()
    return dict(body["sms"])


def started_call(client: FlaskClient, headers: Mapping[str, str], **options: Any) -> dict[str, Any]:
    """The ``call`` of a call that must start."""
    response = start_call(client, headers, **options)
    assert response.status_code == 201, response.get_json()
    body: dict[str, Any] = response.get_json()
    return dict(body["call"])


def history(
    client: FlaskClient, headers: Mapping[str, str], patient_id: int = 123, **query: Any
) -> TestResponse:
    return client.get(
        f"{API}/patients/{patient_id}/communications",
        query_string=query,
        headers=dict(headers),
    )
