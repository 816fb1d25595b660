"""Only Twilio may post to the webhooks: its signature over the URL it called and the form."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.datastructures import MultiDict

from ecm_comms.adapters.memory import FakeGateway, FixedClock
from ecm_comms.adapters.sql import tables
from ecm_comms.container import Container
from ecm_comms.domain.people import Patient
from ecm_comms.entrypoints.http.extension import init_app
from ecm_comms.webhook_routes import (
    CALL_STATUS,
    INBOUND_CALL,
    INBOUND_SMS,
    SMS_STATUS,
    status_callback_url,
)
from tests.support.webhooks import (
    AUTH_TOKEN,
    NOTHING_WRITTEN,
    OTHER_AUTH_TOKEN,
    PUBLIC_BASE_URL,
    WEBHOOK_SETTINGS,
    SignedWebhooks,
    call_status_form,
    inbound_call_form,
    inbound_sms_form,
    new_sid,
    only_row,
    signature,
    sms_status_form,
    table_counts,
    webhook_container,
)

PATIENT_PHONE = "+18051234567"


@pytest.fixture
def settings() -> dict[str, str]:
    """The service's environment; a test parametrizes it to change a setting."""
    return dict(WEBHOOK_SETTINGS)


@pytest.fixture
def container(
    database_url: str, gateway: FakeGateway, clock: FixedClock, settings: dict[str, str]
) -> Iterator[Container]:
    with webhook_container(database_url, gateway, clock, settings) as built:
        yield built


@pytest.fixture
def twilio(client: FlaskClient) -> SignedWebhooks:
    return SignedWebhooks(client)


def test_a_validly_signed_inbound_sms_is_accepted(
    twilio: SignedWebhooks, container: Container, patient: Patient
) -> None:
    response = twilio.inbound_sms(PATIENT_PHONE, "Yes, Tuesday works")

    assert response.status_code == 200, response.text
    assert table_counts(container) == NOTHING_WRITTEN | {
        "text_messages": 1,
        "activities": 1,
        "events": 1,
    }


@pytest.mark.parametrize(
    ("route", "form"),
    [
        (INBOUND_SMS, inbound_sms_form(PATIENT_PHONE, "Hello")),
        (INBOUND_CALL, inbound_call_form(PATIENT_PHONE)),
        (SMS_STATUS, sms_status_form(new_sid("SM"), "delivered")),
        (CALL_STATUS, call_status_form(new_sid("CA"), "completed", duration=30)),
    ],
    ids=["sms", "voice", "sms_status", "voice_status"],
)
def test_every_webhook_refuses_an_unsigned_request_and_writes_nothing(
    twilio: SignedWebhooks,
    container: Container,
    patient: Patient,
    route: str,
    form: dict[str, str],
) -> None:
    response = twilio.post_with_signature(route, form, None)

    assert response.status_code == 403
    assert response.mimetype == "application/json"
    assert response.get_json() == {"errors": ["X-Twilio-Signature header is required"]}
    assert table_counts(container) == NOTHING_WRITTEN


def test_a_signature_made_with_another_auth_token_is_refused_and_nothing_written(
    twilio: SignedWebhooks, container: Container, patient: Patient
) -> None:
    form = inbound_sms_form(PATIENT_PHONE, "Hello")

    forged = signature(twilio.url(INBOUND_SMS), form, OTHER_AUTH_TOKEN)
    response = twilio.post_with_signature(INBOUND_SMS, form, forged)

    assert response.status_code == 403
    assert response.get_json() == {"errors": ["Invalid Twilio signature"]}
    assert table_counts(container) == NOTHING_WRITTEN


@pytest.mark.parametrize(
    "signed_url",
    [
        PUBLIC_BASE_URL + "/v1/clinic/webhooks/twilio/voice",  # another webhook
        "https://attacker.example/v1/clinic/webhooks/twilio/sms",  # another host
        "http://comms.clinic.example/v1/clinic/webhooks/twilio/sms",  # another scheme
        PUBLIC_BASE_URL + "/v1/clinic/webhooks/twilio/sms?id=1",  # another query
    ],
    ids=["path", "host", "scheme", "query"],
)
def test_a_signature_for_another_url_is_refused_and_nothing_written(
    twilio: SignedWebhooks, container: Container, patient: Patient, signed_url: str
) -> None:
    form = inbound_sms_form(PATIENT_PHONE, "Hello")

    response = twilio.post_with_signature(INBOUND_SMS, form, signature(signed_url, form))

    assert response.status_code == 403
    assert response.get_json() == {"errors": ["Invalid Twilio signature"]}
    assert table_counts(container) == NOTHING_WRITTEN


def test_a_status_callback_signed_for_another_record_id_is_refused(
    twilio: SignedWebhooks, container: Container
) -> None:
    form = sms_status_form(new_sid("SM"), "delivered")

    signed_for_7 = signature(twilio.url(SMS_STATUS, record_id=7), form)
    response = twilio.post_with_signature(SMS_STATUS, form, signed_for_7, record_id=8)

    assert response.status_code == 403
    assert table_counts(container) == NOTHING_WRITTEN


@pytest.mark.parametrize(
    "tamper",
    ["changed value", "added field", "removed field"],
)
def test_a_signature_over_other_form_values_is_refused_and_nothing_written(
    twilio: SignedWebhooks, container: Container, patient: Patient, tamper: str
) -> None:
    signed_form = inbound_sms_form(PATIENT_PHONE, "Yes, Tuesday works")
    posted = dict(signed_form)
    if tamper == "changed value":
        posted["Body"] = "STOP"
    elif tamper == "added field":
        posted["OptOutType"] = "STOP"
    else:
        del posted["SmsStatus"]

    signed = signature(twilio.url(INBOUND_SMS), signed_form)
    response = twilio.post_with_signature(INBOUND_SMS, posted, signed)

    assert response.status_code == 403
    assert response.get_json() == {"errors": ["Invalid Twilio signature"]}
    assert table_counts(container) == NOTHING_WRITTEN


def test_a_repeated_field_signed_with_only_its_first_value_is_refused(
    twilio: SignedWebhooks, container: Container, patient: Patient
) -> None:
    sid = new_sid("SM")
    signed_form = inbound_sms_form(PATIENT_PHONE, "Hello", sid=sid)
    posted = MultiDict([*signed_form.items(), ("Body", "STOP")])

    signed = signature(twilio.url(INBOUND_SMS), signed_form)
    response = twilio.post_with_signature(INBOUND_SMS, posted, signed)

    assert response.status_code == 403
    assert table_counts(container) == NOTHING_WRITTEN


def test_a_repeated_field_signed_with_every_value_is_accepted(
    twilio: SignedWebhooks, container: Container, patient: Patient
) -> None:
    form = MultiDict(
        [
            *inbound_sms_form(PATIENT_PHONE, "Hello").items(),
            ("MediaUrl0", "https://api.twilio.com/m/1"),
            ("MediaUrl0", "https://api.twilio.com/m/2"),
        ]
    )

    response = twilio.post(INBOUND_SMS, form)

    assert response.status_code == 200, response.text
    assert table_counts(container)["text_messages"] == 1


def test_behind_a_proxy_a_signature_over_the_public_url_is_accepted(
    client: FlaskClient, container: Container, patient: Patient
) -> None:
    # The app is reached at http://10.0.0.7:8000 (the proxy's upstream) but Twilio called, and
    # signed, https://comms.clinic.example/...: ECM_PUBLIC_BASE_URL says so.
    form = inbound_sms_form(PATIENT_PHONE, "Hello")
    public = PUBLIC_BASE_URL + "/v1/clinic/webhooks/twilio/sms"

    response = client.post(
        "/v1/clinic/webhooks/twilio/sms",
        base_url="http://10.0.0.7:8000",
        data=form,
        headers={"X-Twilio-Signature": signature(public, form)},
    )

    assert response.status_code == 200, response.text
    assert table_counts(container)["text_messages"] == 1


def test_behind_a_proxy_a_signature_over_the_url_the_app_sees_is_refused(
    client: FlaskClient, container: Container, patient: Patient
) -> None:
    form = inbound_sms_form(PATIENT_PHONE, "Hello")
    internal = "http://localhost/v1/clinic/webhooks/twilio/sms"

    response = client.post(
        "/v1/clinic/webhooks/twilio/sms",
        data=form,
        headers={"X-Twilio-Signature": signature(internal, form)},
    )

    assert response.status_code == 403
    assert table_counts(container) == NOTHING_WRITTEN


@pytest.mark.parametrize("settings", [{"TWILIO_AUTH_TOKEN": AUTH_TOKEN}])
def test_without_a_public_base_url_the_signature_is_over_the_request_url(
    client: FlaskClient, container: Container, patient: Patient
) -> None:
    form = inbound_sms_form(PATIENT_PHONE, "Hello")
    seen = "http://localhost/v1/clinic/webhooks/twilio/sms"

    response = client.post(
        "/v1/clinic/webhooks/twilio/sms",
        data=form,
        headers={"X-Twilio-Signature": signature(seen, form)},
    )

    assert response.status_code == 200, response.text
    assert table_counts(container)["text_messages"] == 1


def test_a_status_callback_signed_over_its_query_is_accepted(
    twilio: SignedWebhooks, container: Container
) -> None:
    response = twilio.sms_status(new_sid("SM"), "delivered", record_id=42)

    assert response.status_code == 204
    assert only_row(container, tables.status_callbacks)["record_id"] == 42


@pytest.mark.parametrize("settings", [{"ECM_PUBLIC_BASE_URL": PUBLIC_BASE_URL}])
def test_without_an_auth_token_every_webhook_is_refused(
    twilio: SignedWebhooks, container: Container, patient: Patient
) -> None:
    # Signed with a token the service does not have: nothing can be checked, so nothing passes.
    response = twilio.inbound_sms(PATIENT_PHONE, "Hello")

    assert response.status_code == 403
    assert response.get_json() == {
        "errors": ["Twilio webhooks are refused: TWILIO_AUTH_TOKEN is not set"]
    }
    assert table_counts(container) == NOTHING_WRITTEN


@pytest.mark.parametrize("settings", [{"ECM_INSECURE_SKIP_TWILIO_SIGNATURES": "1"}])
def test_the_insecure_skip_setting_accepts_unsigned_webhooks(
    twilio: SignedWebhooks, container: Container, patient: Patient
) -> None:
    response = twilio.post_with_signature(INBOUND_SMS, inbound_sms_form(PATIENT_PHONE, "Hi"), None)

    assert response.status_code == 200, response.text
    assert table_counts(container)["text_messages"] == 1


def test_unknown_extra_form_fields_are_accepted(
    twilio: SignedWebhooks, container: Container, patient: Patient
) -> None:
    extra = {
        "NumMedia": "1",
        "NumSegments": "1",
        "MediaUrl0": "https://api.twilio.com/2010-04-01/Accounts/AC/Messages/MM/Media/ME",
        "MediaContentType0": "image/jpeg",
        "MessagingServiceSid": "MG" + "1" * 32,
        "FromCity": "SANTA BARBARA",
        "FromState": "CA",
        "FromZip": "93101",
        "FromCountry": "US",
        "ToCity": "VENTURA",
        "ToState": "CA",
        "ToZip": "93001",
        "ToCountry": "US",
        "SomeFieldTwilioAddsNextYear": "whatever",
    }

    response = twilio.inbound_sms(PATIENT_PHONE, "Photo of my prescription", **extra)

    assert response.status_code == 200, response.text
    assert only_row(container, tables.text_messages)["body"] == "Photo of my prescription"


def test_a_host_app_mounting_the_webhooks_below_a_prefix_accepts_twilios_callbacks(
    container: Container,
) -> None:
    # A host service mounts everything below /comms; as init_app says, ECM_PUBLIC_BASE_URL
    # then ends with /comms, and Twilio calls (and signs) the status-callback URL built from it.
    public_base_url = PUBLIC_BASE_URL + "/comms"
    with webhook_container(
        container.settings().database_url,
        FakeGateway(),
        FixedClock(),
        {"TWILIO_AUTH_TOKEN": AUTH_TOKEN, "ECM_PUBLIC_BASE_URL": public_base_url},
    ) as mounted:
        host = Flask("host_service")
        init_app(host, mounted, url_prefix="/comms")
        callback_url = status_callback_url(public_base_url, SMS_STATUS, 7)
        form = sms_status_form(new_sid("SM"), "delivered")

        response = host.test_client().post(
            callback_url.removeprefix(PUBLIC_BASE_URL),
            data=form,
            headers={"X-Twilio-Signature": signature(callback_url, form)},
        )

    assert callback_url == PUBLIC_BASE_URL + "/comms/v1/clinic/webhooks/twilio/sms_status?id=7"
    assert response.status_code == 204, response.text
    assert table_counts(container)["status_callbacks"] == 1
