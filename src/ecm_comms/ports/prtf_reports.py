"""Where the PRTF reports produced are kept, each file exactly as it was handed out."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from ecm_comms.domain.prtf import PrtfFile, PrtfReport


class PrtfReports(Protocol):
    def add(self, report: PrtfReport, content: bytes) -> PrtfReport:
        """Keep the report with its file, in one transaction; the report with its new id."""

    def get(self, report_id: int, clinic_id: int) -> PrtfReport | None:
        """The report if it is this clinic's, else None."""

    def file(self, report_id: int, clinic_id: int) -> PrtfFile | None:
        """The report with its file if it is this clinic's, else None."""

    def for_clinic(self, clinic_id: int) -> Sequence[PrtfReport]:
        """The clinic's reports, newest first, without their files."""
