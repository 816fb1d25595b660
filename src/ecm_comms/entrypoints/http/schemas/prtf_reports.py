"""The PRTF report endpoints' request body and answers."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictStr, WithJsonSchema

from ecm_comms.domain.prtf import MAX_PROVIDER_NAME_LENGTH, PrtfReport
from ecm_comms.entrypoints.http.schemas.fields import Timestamp
from ecm_comms.entrypoints.http.schemas.responses import Answer, Id

_DAY = {"type": "string", "format": "date", "examples": ["2024-07-01"]}


def _day(description: str) -> object:
    return WithJsonSchema({**_DAY, "description": description + " `YYYY-MM-DD`."})


class GeneratePrtfReportRequest(BaseModel):
    """The period (calendar days in the clinic's time zone, both included) and, optionally, the
    provider to name instead of the clinic."""

    # Unknown keys are ignored.
    model_config = ConfigDict(
        extra="ignore",
        json_schema_extra={
            "required": ["start_date", "end_date"],
            "examples": [{"start_date": "2024-07-01", "end_date": "2024-07-31"}],
        },
    )

    start_date: Annotated[StrictStr | None, _day("The period's first day.")] = Field(
        None, title="start_date"
    )
    end_date: Annotated[StrictStr | None, _day("The period's last day.")] = Field(
        None, title="end_date"
    )
    provider_npi: Annotated[
        StrictStr | None,
        WithJsonSchema(
            {
                "type": ["string", "null"],
                "description": "10 digits with a valid check digit; absent or blank: the "
                "clinic's NPI.",
                "examples": ["1234567893"],
            }
        ),
    ] = Field(None, title="provider_npi")
    provider_name: Annotated[
        StrictStr | None,
        WithJsonSchema(
            {
                "type": ["string", "null"],
                "maxLength": MAX_PROVIDER_NAME_LENGTH,
                "description": "Absent or blank: the clinic's name.",
            }
        ),
    ] = Field(None, title="provider_name")
    provider_phone: Annotated[
        StrictStr | None,
        WithJsonSchema(
            {
                "type": ["string", "null"],
                "description": "A phone number (E.164 recommended); absent or blank: the "
                "clinic's main line. Written in E.164.",
            }
        ),
    ] = Field(None, title="provider_phone")


class PrtfReportBody(Answer):
    """A PRTF report as kept: what it covers, whom it names, and where its file is."""

    id: Id
    filename: str = Field(
        description="`PRTF_{NPI}_{MMYYYY of start_date}_{MMDDYYYY generated, in the clinic's "
        "time zone}.csv`.",
        examples=["PRTF_1234567893_072024_08012024.csv"],
    )
    start_date: date
    end_date: date
    provider_npi: str
    provider_name: str | None
    provider_phone: str | None = Field(description="E.164.")
    patient_count: int = Field(ge=0, description="Rows of the file: patients with events.")
    url: str = Field(
        description="Where its file is downloaded: absolute when the service knows its public "
        "URL (ECM_PUBLIC_BASE_URL), else the path."
    )
    created_at: Timestamp

    @classmethod
    def of(cls, report: PrtfReport, url_of: Callable[[int], str]) -> PrtfReportBody:
        assert report.id is not None
        return cls(
            id=report.id,
            filename=report.filename,
            start_date=report.start_date,
            end_date=report.end_date,
            provider_npi=report.provider_npi,
            provider_name=report.provider_name,
            provider_phone=report.provider_phone,
            patient_count=report.patient_count,
            url=url_of(report.id),
            created_at=report.created_at,
        )


class PrtfReportGenerated(Answer):
    message: Literal["PRTF report generated successfully"] = "PRTF report generated successfully"
    prtf_report: PrtfReportBody


class PrtfReportRead(Answer):
    prtf_report: PrtfReportBody


class PrtfReportList(Answer):
    prtf_reports: list[PrtfReportBody] = Field(description="Newest first.")
