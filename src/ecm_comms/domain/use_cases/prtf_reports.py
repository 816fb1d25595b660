"""The PRTF report: produced from a period's events and kept, then listed, read and downloaded.

Only a clinic's admins reach its reports (the operator at the command line may produce any
clinic's). Another clinic's report does not exist for the reader.
"""

from __future__ import annotations

from ecm_comms.domain.clinics import Clinic, Npi, zone_of
from ecm_comms.domain.commands import GeneratePrtfReport, GetPrtfReport, ListPrtfReports
from ecm_comms.domain.errors import (
    AdminRequired,
    InvalidInput,
    RecordNotFound,
    UnknownClinic,
    ValidationError,
)
from ecm_comms.domain.people import Patient, User
from ecm_comms.domain.phone_numbers import PhoneNumber
from ecm_comms.domain.prtf import (
    MAX_PROVIDER_NAME_LENGTH,
    Provider,
    PrtfFile,
    PrtfReport,
    prtf_csv,
    prtf_filename,
    prtf_rows,
    tally,
)
from ecm_comms.domain.reporting import ReportingPeriod
from ecm_comms.domain.sms_bodies import storable_text
from ecm_comms.ports.clinics import ClinicDirectory
from ecm_comms.ports.clock import Clock
from ecm_comms.ports.directories import PatientDirectory, UserDirectory
from ecm_comms.ports.prtf_reports import PrtfReports
from ecm_comms.ports.views import ReportViews

NPI_REQUIRED = "Provider NPI is required"
INVALID_NPI = "Invalid provider NPI"
INVALID_PHONE = "Invalid provider phone number"
NAME_TOO_LONG = f"Provider name is too long (maximum is {MAX_PROVIDER_NAME_LENGTH} characters)"
NAME_UNSTORABLE = "Provider name contains characters that cannot be stored"


class GeneratePrtfReportHandler:
    def __init__(
        self,
        views: ReportViews,
        reports: PrtfReports,
        clinics: ClinicDirectory,
        patients: PatientDirectory,
        users: UserDirectory,
        clock: Clock,
        encounter_min_call_seconds: int,
        default_region: str = "US",
    ) -> None:
        self._views = views
        self._reports = reports
        self._clinics = clinics
        self._patients = patients
        self._users = users
        self._clock = clock
        self._encounter_seconds = encounter_min_call_seconds
        self._region = default_region

    def __call__(self, command: GeneratePrtfReport) -> PrtfFile:
        user = command.requested_by
        if user is not None:
            _require_admin_of(user, command.clinic_id)
        clinic = self._clinics.get(command.clinic_id)
        if clinic is None and user is None:  # the operator named a clinic that has no record
            raise UnknownClinic([f"Clinic {command.clinic_id} not found"])
        period, provider = self._inputs(command, clinic)

        # The events are read as a stream and tallied as they come, before any other lookup.
        events = self._views.events(command.clinic_id, *period.utc_bounds())
        tallies = tally(events, self._encounter_seconds)
        patients = {p.id: p for p in self._patients.find_many(list(tallies), command.clinic_id)}
        rows = prtf_rows(period, provider, tallies, patients, self._coordinators(patients))
        now = self._clock.now()
        report = PrtfReport(
            clinic_id=command.clinic_id,
            filename=prtf_filename(provider.npi, period.start, period.local_day(now)),
            start_date=period.start,
            end_date=period.end,
            provider_npi=provider.npi.value,
            provider_name=provider.name,
            provider_phone=provider.phone.e164 if provider.phone else None,
            patient_count=len(rows),
            created_by_id=user.id if user is not None else None,
            created_at=now,
        )
        content = prtf_csv(rows)
        return PrtfFile(self._reports.add(report, content), content)

    def _inputs(
        self, command: GeneratePrtfReport, clinic: Clinic | None
    ) -> tuple[ReportingPeriod, Provider]:
        """The period and the provider; every problem with them reported at once."""
        problems: dict[str, str] = {}
        fields: list[str | None] = []
        messages: list[str] = []
        period = None
        try:
            period = ReportingPeriod.parse(
                command.start_date, command.end_date, zone_of(clinic), command.period_fields
            )
        except InvalidInput as invalid:
            messages += invalid.messages
            fields += invalid.fields
        npi = self._npi(command.provider_npi, clinic, problems)
        name = _provider_name(command.provider_name, clinic, problems)
        phone = self._phone(command.provider_phone, clinic, problems)
        messages += problems.values()
        fields += problems
        if messages or period is None or npi is None:
            raise InvalidInput(messages, fields)
        return period, Provider(npi, name, phone)

    @staticmethod
    def _npi(raw: str | None, clinic: Clinic | None, problems: dict[str, str]) -> Npi | None:
        if raw is None or not raw.strip():
            if clinic is None or clinic.npi is None:
                problems["provider_npi"] = NPI_REQUIRED
            return clinic.npi if clinic else None
        try:
            return Npi.parse(raw)
        except ValidationError:
            problems["provider_npi"] = INVALID_NPI
            return None

    def _phone(
        self, raw: str | None, clinic: Clinic | None, problems: dict[str, str]
    ) -> PhoneNumber | None:
        if raw is None or not raw.strip():
            return clinic.phone if clinic else None
        try:
            return PhoneNumber.parse(raw, self._region)
        except ValidationError:
            problems["provider_phone"] = INVALID_PHONE
            return None

    def _coordinators(self, patients: dict[int, Patient]) -> dict[int, str]:
        """The names of the patients' coordinators (Lead Care Managers), by id: only users of
        the patient's own clinic."""
        clinics = {p.coordinator_id: p.clinic_id for p in patients.values() if p.coordinator_id}
        found = self._users.get_many(list(clinics)) if clinics else []
        return {u.id: u.name for u in found if clinics.get(u.id) == u.clinic_id}


class ListPrtfReportsHandler:
    def __init__(self, reports: PrtfReports) -> None:
        self._reports = reports

    def __call__(self, query: ListPrtfReports) -> list[PrtfReport]:
        user = query.requested_by
        user.require_admin()
        return list(self._reports.for_clinic(user.clinic_id))


class GetPrtfReportHandler:
    def __init__(self, reports: PrtfReports) -> None:
        self._reports = reports

    def __call__(self, query: GetPrtfReport) -> PrtfReport:
        user = query.requested_by
        user.require_admin()
        found = None
        if query.report_id is not None:
            found = self._reports.get(query.report_id, user.clinic_id)
        if found is None:
            raise RecordNotFound()
        return found


class DownloadPrtfReportHandler:
    """The report with its file, exactly as produced."""

    def __init__(self, reports: PrtfReports) -> None:
        self._reports = reports

    def __call__(self, query: GetPrtfReport) -> PrtfFile:
        user = query.requested_by
        user.require_admin()
        found = None
        if query.report_id is not None:
            found = self._reports.file(query.report_id, user.clinic_id)
        if found is None:
            raise RecordNotFound()
        return found


def _require_admin_of(user: User, clinic_id: int) -> None:
    user.require_admin()
    if user.clinic_id != clinic_id:  # an admin of another clinic is no admin of this one
        raise AdminRequired()


def _provider_name(raw: str | None, clinic: Clinic | None, problems: dict[str, str]) -> str | None:
    name = (raw or "").strip()
    if not name:
        return clinic.name if clinic else None
    if len(name) > MAX_PROVIDER_NAME_LENGTH:
        problems["provider_name"] = NAME_TOO_LONG
    elif not storable_text(name):
        problems["provider_name"] = NAME_UNSTORABLE
    return name
