"""…/campaigns: one templated SMS to many patients of the clinic, sent by the workers; read
back with its counts and its recipients, and canceled."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

from flask import Blueprint, Response, request

from ecm_comms.domain.commands import (
    CancelCampaign,
    CreateCampaign,
    GetCampaign,
    ListCampaignRecipients,
)
from ecm_comms.entrypoints.http.answers import answer
from ecm_comms.entrypoints.http.auth import current_user
from ecm_comms.entrypoints.http.errors import register_error_handlers
from ecm_comms.entrypoints.http.idempotency import idempotent
from ecm_comms.entrypoints.http.payloads import campaign_id_from_path, json_body, query
from ecm_comms.entrypoints.http.schemas.campaigns import (
    CampaignCanceled,
    CampaignRead,
    CampaignScheduled,
    CreateCampaignRequest,
    RecipientsPage,
)
from ecm_comms.entrypoints.http.schemas.requests import RecipientsQuery
from ecm_comms.entrypoints.http.services import container

campaigns = Blueprint("ecm_campaigns", __name__)
register_error_handlers(campaigns)

# Ten thousand patient ids, and their variables, do not fit in the service's usual limit.
MAX_CAMPAIGN_BYTES = 2 * 1024 * 1024

View = TypeVar("View", bound=Callable[..., Any])


def larger_body(view: View) -> View:
    """Let ``view``'s request body be up to ``MAX_CAMPAIGN_BYTES``, before anything reads it (the
    idempotency check reads it first)."""

    @wraps(view)
    def with_larger_body(**arguments: Any) -> Any:
        request.max_content_length = MAX_CAMPAIGN_BYTES
        return view(**arguments)

    return cast(View, with_larger_body)


@campaigns.post("/campaigns")
@larger_body
@idempotent
def create_campaign() -> Response:
    user = current_user()
    fields = json_body(CreateCampaignRequest).campaign
    summary = container().create_campaign()(
        CreateCampaign(
            name=fields.name,
            body=fields.body,
            patient_ids=fields.patient_ids or (),
            performed_by=user,
            send_at=fields.send_at,
            variables=fields.variables,
        )
    )
    return answer(CampaignScheduled.of(summary), 202)


@campaigns.get("/campaigns/<campaign_id>")
def get_campaign(campaign_id: str) -> Response:
    user = current_user()
    found = container().get_campaign()(GetCampaign(campaign_id_from_path(campaign_id), user))
    return answer(CampaignRead.of(found))


@campaigns.get("/campaigns/<campaign_id>/recipients")
def list_campaign_recipients(campaign_id: str) -> Response:
    user = current_user()
    campaign = campaign_id_from_path(campaign_id)  # an id that is none before a bad parameter
    asked = query(RecipientsQuery)
    page = container().list_campaign_recipients()(
        ListCampaignRecipients(campaign, user, page=asked.page, per_page=asked.per_page)
    )
    return answer(RecipientsPage.of(page))


@campaigns.post("/campaigns/<campaign_id>/cancel")
@idempotent
def cancel_campaign(campaign_id: str) -> Response:
    user = current_user()
    canceled = container().cancel_campaign()(
        CancelCampaign(campaign_id_from_path(campaign_id), user)
    )
    return answer(CampaignCanceled.of(canceled))
