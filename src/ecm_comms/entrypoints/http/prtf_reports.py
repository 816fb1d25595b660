"""…/admin/clinic/ecm/prtf_reports: the clinic's PRTF reports, produced, listed, read and
downloaded by its admins."""

from __future__ import annotations

from flask import Blueprint, Response, url_for

from ecm_comms.domain.commands import GeneratePrtfReport, GetPrtfReport, ListPrtfReports
from ecm_comms.entrypoints.http.answers import answer
from ecm_comms.entrypoints.http.auth import current_user
from ecm_comms.entrypoints.http.errors import register_error_handlers
from ecm_comms.entrypoints.http.idempotency import idempotent
from ecm_comms.entrypoints.http.payloads import json_body
from ecm_comms.entrypoints.http.schemas.fields import ID
from ecm_comms.entrypoints.http.schemas.prtf_reports import (
    GeneratePrtfReportRequest,
    PrtfReportBody,
    PrtfReportGenerated,
    PrtfReportList,
    PrtfReportRead,
)
from ecm_comms.entrypoints.http.services import container, mount_prefix

prtf_reports = Blueprint("ecm_prtf_reports", __name__)
register_error_handlers(prtf_reports)

CSV_MEDIA_TYPE = "text/csv; charset=utf-8"


@prtf_reports.post("/prtf_reports")
@idempotent
def generate_prtf_report() -> Response:
    user = current_user()
    user.require_admin()  # before the body: a non-admin learns nothing of what it should hold
    fields = json_body(GeneratePrtfReportRequest)
    produced = container().generate_prtf_report()(
        GeneratePrtfReport(
            clinic_id=user.clinic_id,
            start_date=fields.start_date,
            end_date=fields.end_date,
            provider_npi=fields.provider_npi,
            provider_name=fields.provider_name,
            provider_phone=fields.provider_phone,
            requested_by=user,
        )
    )
    body = PrtfReportGenerated(prtf_report=PrtfReportBody.of(produced.report, _download_url))
    return answer(body, 201)


@prtf_reports.get("/prtf_reports")
def list_prtf_reports() -> Response:
    found = container().list_prtf_reports()(ListPrtfReports(current_user()))
    return answer(PrtfReportList(prtf_reports=[PrtfReportBody.of(r, _download_url) for r in found]))


@prtf_reports.get("/prtf_reports/<report_id>")
def get_prtf_report(report_id: str) -> Response:
    found = container().get_prtf_report()(GetPrtfReport(_id(report_id), current_user()))
    return answer(PrtfReportRead(prtf_report=PrtfReportBody.of(found, _download_url)))


@prtf_reports.get("/prtf_reports/<report_id>/download")
def download_prtf_report(report_id: str) -> Response:
    found = container().download_prtf_report()(GetPrtfReport(_id(report_id), current_user()))
    response = Response(found.content, status=200, content_type=CSV_MEDIA_TYPE)
    # The name is the NPI's digits and dates only: nothing in it needs quoting.
    response.headers["Content-Disposition"] = f'attachment; filename="{found.report.filename}"'
    return response


def _id(raw: str) -> int | None:
    """The report's id; None for what is no id at all (not found, once the role is checked)."""
    return int(raw) if ID.fullmatch(raw) else None


def _download_url(report_id: int) -> str:
    path = url_for(".download_prtf_report", report_id=report_id)
    base = container().settings().public_base_url
    # ECM_PUBLIC_BASE_URL already ends with a host app's mount prefix.
    return base + path.removeprefix(mount_prefix()) if base else path
