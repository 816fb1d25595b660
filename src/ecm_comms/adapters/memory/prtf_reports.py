from __future__ import annotations

from dataclasses import replace

from ecm_comms.domain.prtf import PrtfFile, PrtfReport


class InMemoryPrtfReports:
    """``PrtfReports`` kept in a dict."""

    def __init__(self) -> None:
        self.files: dict[int, PrtfFile] = {}

    def add(self, report: PrtfReport, content: bytes) -> PrtfReport:
        stored = replace(report, id=len(self.files) + 1)
        self.files[len(self.files) + 1] = PrtfFile(stored, bytes(content))
        return stored

    def get(self, report_id: int, clinic_id: int) -> PrtfReport | None:
        found = self.file(report_id, clinic_id)
        return found.report if found is not None else None

    def file(self, report_id: int, clinic_id: int) -> PrtfFile | None:
        found = self.files.get(report_id)
        return found if found is not None and found.report.clinic_id == clinic_id else None

    def for_clinic(self, clinic_id: int) -> list[PrtfReport]:
        reports = [f.report for f in self.files.values() if f.report.clinic_id == clinic_id]
        return sorted(reports, key=lambda r: (r.created_at, r.id or 0), reverse=True)
