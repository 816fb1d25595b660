"""GET /openapi.json: a valid OpenAPI document, generated from the payload models, that documents
every route the app has, and that real answers of the service conform to."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from flask import Flask
from flask.testing import FlaskClient
from schemathesis.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from werkzeug.routing import Rule
from werkzeug.test import TestResponse

from ecm_comms.adapters.memory import FakeGateway, FixedClock
from ecm_comms.container import Container, create_container
from ecm_comms.domain.people import Patient
from ecm_comms.entrypoints.http import create_app, init_app
from ecm_comms.entrypoints.http.errors import register_error_handlers
from ecm_comms.entrypoints.http.openapi import document
from ecm_comms.webhook_routes import CALL_STATUS, INBOUND_CALL, INBOUND_SMS, SMS_STATUS
from tests.conftest import Staff
from tests.support.webhooks import (
    API,
    CLINIC_NUMBER,
    WEBHOOK_SETTINGS,
    SignedWebhooks,
    inbound_sms_form,
    new_sid,
    sent_sms,
    started_call,
    webhook_container,
    webhook_path,
)

DOCUMENT_PATH = "/openapi.json"
HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}
# Flask adds these to every rule by itself; the document lists what the service implements.
IMPLICIT_METHODS = {"HEAD", "OPTIONS"}
# Flask's own route for static files: the package has no static folder, so it answers 404.
FLASK_STATIC_ENDPOINT = "static"
CHECKS = [
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
PATIENT_PHONE = "+18051234567"


def generated_document() -> dict[str, Any]:
    """The document as a client reads it: through JSON."""
    loaded: dict[str, Any] = json.loads(json.dumps(document()))
    return loaded


SCHEMA = schemathesis.openapi.from_dict(generated_document())


@pytest.fixture
def bare_app() -> Iterator[Flask]:
    """The app on a database it never opens: enough for the document and the routes."""
    container = create_container(environ={}, database_url="sqlite://")
    yield create_app(container)
    container.engine().dispose()


def openapi_path(rule: Rule) -> str:
    """A werkzeug rule as an OpenAPI path: ``/patients/<patient_id>/sms`` → ``{patient_id}``."""
    return re.sub(r"<(?:[^<>:]+:)?([^<>]+)>", r"{\1}", rule.rule)


def app_operations(app: Flask, prefix: str = "") -> set[tuple[str, str]]:
    """Every (method, path) the app routes, below ``prefix``."""
    return {
        (method, openapi_path(rule).removeprefix(prefix))
        for rule in app.url_map.iter_rules()
        if rule.endpoint != FLASK_STATIC_ENDPOINT
        for method in (rule.methods or set()) - IMPLICIT_METHODS
    }


def documented_operations(doc: dict[str, Any]) -> set[tuple[str, str]]:
    return {
        (method.upper(), path)
        for path, item in doc["paths"].items()
        for method in item
        if method in HTTP_METHODS
    }


def assert_conforms(method: str, path: str, response: TestResponse) -> None:
    """``response`` has a status the operation at ``path`` documents, with that status's content
    type, headers and body schema."""
    template = re.escape(path).replace(r"\{", "{").replace(r"\}", "}")
    pattern = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", template)
    sent = re.fullmatch(pattern, response.request.path)
    assert sent is not None, f"{response.request.path} is not {path}"
    case = SCHEMA[path][method].Case(path_parameters=sent.groupdict())
    case.validate_response(response, checks=CHECKS)


# --- the document -------------------------------------------------------------------------------


def test_the_document_is_valid_openapi(bare_app: Flask) -> None:
    served = bare_app.test_client().get(DOCUMENT_PATH).get_json()
    try:
        from openapi_spec_validator import validate
    except ImportError:  # not installed: schemathesis's validation below still applies
        pass
    else:
        validate(served)
    loaded = schemathesis.openapi.from_dict(served)
    loaded.validate()  # against the OpenAPI meta-schema of its version
    assert served["openapi"].startswith("3.")
    broken = [str(result.err()) for result in loaded.get_all_operations() if not _ok(result)]
    assert broken == []


def _ok(result: object) -> bool:
    return type(result).__name__ == "Ok"


def test_every_reference_resolves_and_every_component_is_used() -> None:
    doc = generated_document()
    references = set(_references(doc))
    for reference in references:
        assert reference.startswith("#/"), reference
        node: Any = doc
        for part in reference[2:].split("/"):
            assert isinstance(node, dict), f"unresolved {reference}"
            assert part in node, f"unresolved {reference}"
            node = node[part]
    defined = {
        f"#/components/{kind}/{name}"
        for kind, entries in doc["components"].items()
        if kind != "securitySchemes"
        for name in entries
    }
    assert defined - references == set(), "components nothing refers to"


def _references(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield value
            else:
                yield from _references(value)
    elif isinstance(node, list):
        for item in node:
            yield from _references(item)


def test_it_is_served_as_json_exactly_as_generated(bare_app: Flask) -> None:
    response = bare_app.test_client().get(DOCUMENT_PATH)

    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.get_json() == generated_document()
    assert "servers" not in response.get_json()
    assert document() is document()  # built once


def test_every_route_of_the_app_is_documented_and_nothing_else(bare_app: Flask) -> None:
    routes = app_operations(bare_app)

    assert routes == documented_operations(generated_document())
    assert ("GET", DOCUMENT_PATH) in routes


def test_every_operation_is_secured_as_documented() -> None:
    doc = generated_document()
    schemes = doc["components"]["securitySchemes"]
    assert schemes["UserToken"] == schemes["UserToken"] | {
        "type": "apiKey",
        "in": "header",
        "name": "X-User-Token",
    }
    assert schemes["TwilioSignature"]["name"] == "X-Twilio-Signature"
    own_security = {  # the rest need a user's token or Twilio's signature
        DOCUMENT_PATH: [],
        "/healthz": [],
        "/readyz": [],
        "/metrics": [{}, {"MetricsToken": []}],
    }
    for path, item in doc["paths"].items():
        guard = [{"TwilioSignature": []}] if "/webhooks/twilio/" in path else [{"UserToken": []}]
        for method, operation in item.items():
            expected = own_security.get(path, guard)
            assert operation["security"] == expected, (method, path)
            if path not in (DOCUMENT_PATH, "/healthz", "/metrics"):
                assert "503" in operation["responses"], (method, path)


def test_mounted_below_a_prefix_the_document_names_it_as_its_server(
    bare_app: Flask,
) -> None:
    host = Flask("host")
    register_error_handlers(host)
    init_app(host, bare_app.extensions["ecm_comms"], url_prefix="/comms")

    served = host.test_client().get("/comms" + DOCUMENT_PATH).get_json()

    assert served["servers"] == [{"url": "/comms"}]
    assert served["paths"] == generated_document()["paths"]
    assert app_operations(host, prefix="/comms") == documented_operations(served)
    assert "servers" not in document()  # the shared document is left as it is


# --- real answers conform -----------------------------------------------------------------------


@pytest.fixture
def container(database_url: str, gateway: FakeGateway, clock: FixedClock) -> Iterator[Container]:
    """The real container, validating webhooks as in production."""
    with webhook_container(database_url, gateway, clock, WEBHOOK_SETTINGS) as built:
        yield built


SMS = "/v1/clinic/ecm/communications/patients/{patient_id}/sms"
CALL = "/v1/clinic/ecm/communications/patients/{patient_id}/call"
GET_SMS = "/v1/clinic/ecm/communications/sms/{sms_id}"
GET_CALL = "/v1/clinic/ecm/communications/calls/{call_id}"
HISTORY = "/v1/clinic/ecm/communications/patients/{patient_id}/communications"
CONSENT = "/v1/clinic/ecm/communications/consent"
HOOKS = "/v1/clinic/webhooks/twilio"


def test_answers_of_the_clinic_api_conform(
    client: FlaskClient, coordinator: Staff, patient: Patient
) -> None:
    headers = coordinator.headers
    sms_body = {"sms": {"phone_number": "(805) 123-4567", "body": "See you Tuesday"}}
    sms_url = f"{API}/patients/123/sms"
    answers: list[tuple[str, str, TestResponse, int]] = []

    def answer(method: str, path: str, response: TestResponse, status: int) -> None:
        assert response.status_code == status, response.get_data(as_text=True)
        answers.append((method, path, response, status))

    sms = sent_sms(client, headers)
    call = started_call(client, headers)
    keyed = {**headers, "Idempotency-Key": "retry-1"}
    answer("POST", SMS, client.post(sms_url, json=sms_body, headers=keyed), 201)
    replayed = client.post(sms_url, json=sms_body, headers=keyed)
    answer("POST", SMS, replayed, 201)
    assert replayed.headers["Idempotent-Replayed"] == "true"
    other_body = {"sms": {**sms_body["sms"], "body": "Other"}}
    answer("POST", SMS, client.post(sms_url, json=other_body, headers=keyed), 422)
    call_body = {"call": {"phone_number": PATIENT_PHONE}}
    answer(
        "POST", CALL, client.post(f"{API}/patients/123/call", json=call_body, headers=headers), 201
    )
    answer("POST", SMS, client.post(sms_url, json=sms_body), 401)
    answer("POST", SMS, client.post(sms_url, data="{", headers=headers), 400)
    answer("POST", SMS, client.post(sms_url, json=[], headers=headers), 400)
    answer("POST", SMS, client.post(f"{API}/patients/999/sms", json=sms_body, headers=headers), 404)
    blank = {"sms": {"phone_number": " ", "body": ""}}
    answer("POST", SMS, client.post(sms_url, json=blank, headers=headers), 422)
    huge = {"sms": {"phone_number": PATIENT_PHONE, "body": "x" * 70_000}}
    answer("POST", SMS, client.post(sms_url, json=huge, headers=headers), 413)
    invalid = {"call": {"phone_number": "12"}}
    answer(
        "POST", CALL, client.post(f"{API}/patients/123/call", json=invalid, headers=headers), 422
    )

    answer("GET", GET_SMS, client.get(f"{API}/sms/{sms['id']}", headers=headers), 200)
    answer("GET", GET_SMS, client.get(f"{API}/sms/999", headers=headers), 404)
    answer("GET", GET_CALL, client.get(f"{API}/calls/{call['id']}", headers=headers), 200)
    answer("GET", GET_CALL, client.get(f"{API}/calls/abc", headers=headers), 404)
    answer("GET", GET_CALL, client.get(f"{API}/calls/{call['id']}"), 401)
    history_url = f"{API}/patients/123/communications"
    first_page = client.get(history_url, query_string={"limit": 2}, headers=headers)
    answer("GET", HISTORY, first_page, 200)
    cursor = first_page.get_json()["next_cursor"]
    assert isinstance(cursor, str)
    next_page = client.get(history_url, query_string={"cursor": cursor}, headers=headers)
    answer("GET", HISTORY, next_page, 200)
    answer("GET", HISTORY, client.get(history_url, query_string={"limit": 0}, headers=headers), 422)
    answer(
        "GET", HISTORY, client.get(history_url, query_string={"cursor": "x"}, headers=headers), 422
    )
    answer("GET", HISTORY, client.get(f"{API}/patients/9/communications", headers=headers), 404)
    opt_out = {"consent": {"phone_number": PATIENT_PHONE, "action": "opt_out", "note": "By phone"}}
    consent_key = {**headers, "Idempotency-Key": "consent-1"}
    answer("POST", CONSENT, client.post(CONSENT, json=opt_out, headers=consent_key), 201)
    replayed = client.post(CONSENT, json=opt_out, headers=consent_key)
    answer("POST", CONSENT, replayed, 201)
    assert replayed.headers["Idempotent-Replayed"] == "true"
    opt_in = {"consent": {"phone_number": PATIENT_PHONE, "action": "opt_in"}}
    answer("POST", CONSENT, client.post(CONSENT, json=opt_in, headers=headers), 422)
    answer("POST", CONSENT, client.post(CONSENT, data="{", headers=headers), 400)
    answer("POST", CONSENT, client.post(CONSENT, json=opt_out), 401)
    phone = {"phone_number": PATIENT_PHONE}
    answer("GET", CONSENT, client.get(CONSENT, query_string=phone, headers=headers), 200)
    answer("GET", CONSENT, client.get(CONSENT, headers=headers), 422)
    answer("GET", CONSENT, client.get(CONSENT, query_string=phone), 401)
    answer("GET", DOCUMENT_PATH, client.get(DOCUMENT_PATH), 200)

    for method, path, response, _ in answers:
        assert_conforms(method, path, response)


def test_answers_to_twilio_conform(
    client: FlaskClient, coordinator: Staff, patient: Patient
) -> None:
    twilio = SignedWebhooks(client)
    sms = sent_sms(client, coordinator.headers)
    call = started_call(client, coordinator.headers)
    answers = [
        ("sms", twilio.inbound_sms(PATIENT_PHONE, "Yes, thank you"), 200),
        ("voice", twilio.inbound_call(PATIENT_PHONE), 200),
        ("voice", twilio.inbound_call("+18055550199"), 200),  # nobody to put it through to
        ("sms_status", twilio.sms_status(sms["twilio_sid"], "delivered", record_id=sms["id"]), 204),
        ("sms_status", twilio.sms_status(new_sid("SM"), "sent"), 204),  # unknown sid: logged
        ("voice_status", twilio.call_status(call["twilio_sid"], "completed", duration=42), 204),
        ("sms", twilio.post(INBOUND_SMS, {"From": PATIENT_PHONE, "To": CLINIC_NUMBER}), 400),
        ("voice", twilio.post(INBOUND_CALL, {"CallSid": new_sid("CA")}), 400),
        ("sms_status", twilio.post(SMS_STATUS, {"MessageSid": sms["twilio_sid"]}), 400),
        ("voice_status", twilio.post(CALL_STATUS, {"CallStatus": "completed"}), 400),
        ("sms", client.post(webhook_path(INBOUND_SMS), data=inbound_sms_form("+1805", "hi")), 403),
        ("voice", twilio.post_with_signature(INBOUND_CALL, {"CallSid": "CA1"}, "forged"), 403),
        ("sms", twilio.post(INBOUND_SMS, {"Body": "y" * 70_000}), 413),
    ]
    for route, response, status in answers:
        assert response.status_code == status, (route, response.get_data(as_text=True))
        assert_conforms("POST", f"{HOOKS}/{route}", response)


def test_answers_without_a_database_conform(tmp_path: Any) -> None:
    """A database that cannot be opened: 503 wherever storage is touched."""
    unreachable = f"sqlite:///{tmp_path}/missing/directory/ecm.sqlite3"
    built = create_container(
        environ={"ECM_INSECURE_SKIP_TWILIO_SIGNATURES": "1"}, database_url=unreachable
    )
    client = create_app(built).test_client()
    token = {"X-User-Token": "any"}
    answers = [
        ("POST", SMS, client.post(f"{API}/patients/1/sms", json={}, headers=token)),
        ("POST", CALL, client.post(f"{API}/patients/1/call", json={}, headers=token)),
        ("GET", GET_SMS, client.get(f"{API}/sms/1", headers=token)),
        ("GET", GET_CALL, client.get(f"{API}/calls/1", headers=token)),
        ("GET", HISTORY, client.get(f"{API}/patients/1/communications", headers=token)),
        (
            "GET",
            CONSENT,
            client.get(CONSENT, query_string={"phone_number": PATIENT_PHONE}, headers=token),
        ),
        ("POST", CONSENT, client.post(CONSENT, json={}, headers=token)),
        (
            "POST",
            f"{HOOKS}/sms",
            client.post(webhook_path(INBOUND_SMS), data=inbound_sms_form(PATIENT_PHONE, "hi")),
        ),
        (
            "POST",
            f"{HOOKS}/sms_status",
            client.post(
                webhook_path(SMS_STATUS),
                data={"MessageSid": "SM" + "1" * 32, "MessageStatus": "sent"},
            ),
        ),
    ]
    for method, path, response in answers:
        assert response.status_code == 503, (path, response.get_data(as_text=True))
        assert_conforms(method, path, response)
    built.engine().dispose()
