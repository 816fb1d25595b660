"""The PRTF reports produced, in the service's database; each file kept as the bytes produced."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from sqlalchemy import Engine, bindparam, insert, select

from ecm_comms.adapters.sql import tables
from ecm_comms.adapters.sql.engine import begin, reading
from ecm_comms.domain.prtf import PrtfFile, PrtfReport

_r = tables.prtf_reports
_DESCRIBED = (
    _r.c.id,
    _r.c.clinic_id,
    _r.c.filename,
    _r.c.start_date,
    _r.c.end_date,
    _r.c.provider_npi,
    _r.c.provider_name,
    _r.c.provider_phone,
    _r.c.patient_count,
    _r.c.created_by_id,
    _r.c.created_at,
)
_ADD = insert(_r).returning(_r.c.id)
_THIS = (_r.c.id == bindparam("id"), _r.c.clinic_id == bindparam("clinic_id"))
_REPORT = select(*_DESCRIBED).where(*_THIS)
_FILE = select(*_DESCRIBED, _r.c.content).where(*_THIS)
_OF_CLINIC = (
    select(*_DESCRIBED)
    .where(_r.c.clinic_id == bindparam("clinic_id"))
    .order_by(_r.c.created_at.desc(), _r.c.id.desc())
)


class SqlPrtfReports:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def add(self, report: PrtfReport, content: bytes) -> PrtfReport:
        values = {
            "clinic_id": report.clinic_id,
            "filename": report.filename,
            "start_date": report.start_date,
            "end_date": report.end_date,
            "provider_npi": report.provider_npi,
            "provider_name": report.provider_name,
            "provider_phone": report.provider_phone,
            "patient_count": report.patient_count,
            "content": content,
            "created_by_id": report.created_by_id,
            "created_at": report.created_at,
        }
        with begin(self._engine) as connection:
            new_id = connection.execute(_ADD, values).scalar_one()
        return replace(report, id=new_id)

    def get(self, report_id: int, clinic_id: int) -> PrtfReport | None:
        with reading(self._engine) as connection:
            row = connection.execute(_REPORT, {"id": report_id, "clinic_id": clinic_id}).first()
        return None if row is None else _report(row)

    def file(self, report_id: int, clinic_id: int) -> PrtfFile | None:
        with reading(self._engine) as connection:
            row = connection.execute(_FILE, {"id": report_id, "clinic_id": clinic_id}).first()
        return None if row is None else PrtfFile(_report(row), bytes(row.content))

    def for_clinic(self, clinic_id: int) -> list[PrtfReport]:
        with reading(self._engine) as connection:
            rows = connection.execute(_OF_CLINIC, {"clinic_id": clinic_id}).all()
        return [_report(row) for row in rows]


def _report(row: Any) -> PrtfReport:
    return PrtfReport(
        id=row.id,
        clinic_id=row.clinic_id,
        filename=row.filename,
        start_date=row.start_date,
        end_date=row.end_date,
        provider_npi=row.provider_npi,
        provider_name=row.provider_name,
        provider_phone=row.provider_phone,
        patient_count=row.patient_count,
        created_by_id=row.created_by_id,
        created_at=row.created_at,
    )
