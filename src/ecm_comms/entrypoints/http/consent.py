"""GET and POST …/consent: a patient number's SMS consent with the user's clinic."""

from __future__ import annotations

from flask import Blueprint, Response

from ecm_comms.domain.commands import GetConsent, RecordConsent
from ecm_comms.entrypoints.http.answers import answer
from ecm_comms.entrypoints.http.auth import current_user
from ecm_comms.entrypoints.http.errors import register_error_handlers
from ecm_comms.entrypoints.http.idempotency import idempotent
from ecm_comms.entrypoints.http.payloads import json_body, query
from ecm_comms.entrypoints.http.schemas.requests import ConsentQuery, RecordConsentRequest
from ecm_comms.entrypoints.http.schemas.responses import ConsentRead
from ecm_comms.entrypoints.http.services import container

consent = Blueprint("ecm_consent", __name__)
register_error_handlers(consent)


@consent.get("/consent")
def get_consent() -> Response:
    user = current_user()
    asked = query(ConsentQuery)
    found = container().get_consent()(GetConsent(asked.phone_number, requested_by=user))
    return answer(ConsentRead.of(found))


@consent.post("/consent")
@idempotent
def record_consent() -> Response:
    user = current_user()
    fields = json_body(RecordConsentRequest).consent
    command = RecordConsent(
        phone_number=fields.phone_number,
        action=fields.action,
        requested_by=user,
        note=fields.note,
    )
    recorded = container().record_consent()(command)
    return answer(ConsentRead.of(recorded), 201)
