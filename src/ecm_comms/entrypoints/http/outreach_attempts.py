"""GET /v1/admin/clinic/ecm/outreach_attempts.csv: every event of the admin's clinic in a period,
one CSV row each, streamed as it is read.

Everything that can refuse the request (the token, the admin role, the dates, the database) is
checked before the first byte is sent, so a refusal is still a JSON answer.
"""

from __future__ import annotations

from flask import Blueprint, Response, stream_with_context

from ecm_comms.domain.commands import GetOutreachDetail
from ecm_comms.domain.csv_text import csv_chunks
from ecm_comms.domain.use_cases.outreach_detail import HEADER
from ecm_comms.entrypoints.http.auth import current_user
from ecm_comms.entrypoints.http.errors import register_error_handlers
from ecm_comms.entrypoints.http.payloads import query
from ecm_comms.entrypoints.http.schemas.requests import OutreachAttemptsQuery
from ecm_comms.entrypoints.http.services import container

outreach_attempts = Blueprint("ecm_outreach_attempts", __name__)
register_error_handlers(outreach_attempts)


@outreach_attempts.get("/outreach_attempts.csv")
def outreach_attempts_csv() -> Response:
    user = current_user()
    asked = query(OutreachAttemptsQuery)
    detail = container().outreach_detail()(
        GetOutreachDetail(user.clinic_id, asked.start_date, asked.end_date, requested_by=user)
    )
    period = detail.period
    filename = f"outreach_attempts_{period.start.isoformat()}_{period.end.isoformat()}.csv"
    response = Response(stream_with_context(csv_chunks(HEADER, detail.rows)), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
