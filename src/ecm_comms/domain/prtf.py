"""The PRTF (Provider Reporting Template File) a clinic hands its health plan each month: one row
per patient of the clinic with at least one event in the period, and the file it is written to.

Pure rules: the events arrive as ``EventRow``s, the patients and their coordinators' names from
the directories; the file is built in memory, as bytes, exactly as it is kept.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from ecm_comms.domain.channels import Channel, Direction
from ecm_comms.domain.clinics import Npi
from ecm_comms.domain.csv_text import csv_chunks
from ecm_comms.domain.people import Patient
from ecm_comms.domain.phone_numbers import PhoneNumber
from ecm_comms.domain.reporting import EventRow, PrtfCategory, ReportingPeriod, spreadsheet_safe

COLUMNS = (
    "Reporting Period Start",
    "Reporting Period End",
    "ECM Provider Name",
    "ECM Provider NPI",
    "ECM Provider Phone",
    "Patient ID",
    "Member CIN",
    "Member Last Name",
    "Member First Name",
    "Member Date of Birth",
    "Lead Care Manager",
    "Telehealth Outreach Count",
    "Telehealth Encounter Count",
    "Member Response Count",
    "Successful Contact",
    "First Outreach Date",
    "Last Outreach Date",
    "Last Encounter Date",
    "Outreach Methods",
)
# A spreadsheet runs a cell that starts with one of these as a formula.
# The database keeps a provider name of at most this many characters.
MAX_PROVIDER_NAME_LENGTH = 200
# How the plan names the methods of the clinic's outreach, in the order they are listed.
_METHODS = {Channel.SMS: "Text", Channel.CALL: "Telephonic"}
_INITIATED = (PrtfCategory.OUTREACH, PrtfCategory.ENCOUNTER)


@dataclass(frozen=True, slots=True)
class Provider:
    """Who reports: the clinic's NPI, name and main line unless the request names others."""

    npi: Npi
    name: str | None = None
    phone: PhoneNumber | None = None


@dataclass(slots=True)
class PatientTally:
    """What one patient's events in the period add up to. Instants stay UTC until a row is
    written, so a month of events costs no time-zone conversion per event."""

    patient_id: int
    outreach: int = 0
    encounters: int = 0
    responses: int = 0
    first_outreach_at: datetime | None = None  # of the events the clinic initiated
    last_outreach_at: datetime | None = None
    last_encounter_at: datetime | None = None
    methods: set[Channel] = field(default_factory=set)  # of the events the clinic initiated

    def add(self, event: EventRow, category: PrtfCategory) -> None:
        at = event.occurred_at
        if category is PrtfCategory.OUTREACH:
            self.outreach += 1
        elif category is PrtfCategory.ENCOUNTER:
            self.encounters += 1
            if self.last_encounter_at is None or at > self.last_encounter_at:
                self.last_encounter_at = at
        else:
            self.responses += 1
        if event.direction is Direction.OUTBOUND and category in _INITIATED:
            if self.first_outreach_at is None or at < self.first_outreach_at:
                self.first_outreach_at = at
            if self.last_outreach_at is None or at > self.last_outreach_at:
                self.last_outreach_at = at
            self.methods.add(event.channel)

    @property
    def successful_contact(self) -> bool:
        """An encounter, or a word from the member, in the period."""
        return self.encounters > 0 or self.responses > 0

    @property
    def outreach_methods(self) -> str:
        """``Text``, ``Telephonic`` or ``Text;Telephonic``; empty when the clinic reached out to
        the patient in no way (only the patient got in touch)."""
        return ";".join(name for channel, name in _METHODS.items() if channel in self.methods)


def tally(events: Iterable[EventRow], encounter_min_call_seconds: int) -> dict[int, PatientTally]:
    """Each patient's tally, by patient id, reading ``events`` once as they come."""
    tallies: dict[int, PatientTally] = {}
    for event in events:
        patient_tally = tallies.get(event.patient_id)
        if patient_tally is None:
            patient_tally = tallies[event.patient_id] = PatientTally(event.patient_id)
        patient_tally.add(event, event.category(encounter_min_call_seconds))
    return tallies


def row_order(patient_id: int, patient: Patient | None) -> tuple[bool, str, int]:
    """By Member CIN, then patient id; patients without a CIN last."""
    member_id = patient.member_id if patient is not None else None
    return (member_id is None, member_id or "", patient_id)


def prtf_row(
    period: ReportingPeriod,
    provider: Provider,
    patient_tally: PatientTally,
    patient: Patient | None,
    lead_care_manager: str | None,
) -> list[str]:
    """One patient's row, in the order of ``COLUMNS``. ``patient`` is None when the directory
    no longer lists them in the clinic: the counts stay, the member's cells are empty."""
    zone = period.zone
    return [
        period.start.isoformat(),
        period.end.isoformat(),
        spreadsheet_safe(provider.name),
        provider.npi.value,
        provider.phone.e164 if provider.phone else "",
        str(patient_tally.patient_id),
        spreadsheet_safe(patient.member_id if patient else None),
        spreadsheet_safe(patient.last_name if patient else None),
        spreadsheet_safe(patient.first_name if patient else None),
        _day(patient.date_of_birth if patient else None),
        spreadsheet_safe(lead_care_manager),
        str(patient_tally.outreach),
        str(patient_tally.encounters),
        str(patient_tally.responses),
        "Y" if patient_tally.successful_contact else "N",
        _local_day(patient_tally.first_outreach_at, zone),
        _local_day(patient_tally.last_outreach_at, zone),
        _local_day(patient_tally.last_encounter_at, zone),
        patient_tally.outreach_methods,
    ]


def prtf_rows(
    period: ReportingPeriod,
    provider: Provider,
    tallies: Mapping[int, PatientTally],
    patients: Mapping[int, Patient],
    coordinator_names: Mapping[int, str],
) -> list[list[str]]:
    """Every patient's row, in the file's order."""
    ordered = sorted(
        tallies, key=lambda patient_id: row_order(patient_id, patients.get(patient_id))
    )
    rows = []
    for patient_id in ordered:
        patient = patients.get(patient_id)
        coordinator = patient.coordinator_id if patient else None
        manager = coordinator_names.get(coordinator) if coordinator is not None else None
        rows.append(prtf_row(period, provider, tallies[patient_id], patient, manager))
    return rows


def prtf_csv(rows: Iterable[Sequence[str]]) -> bytes:
    """The file: UTF-8 without a byte-order mark, RFC 4180 (CRLF line ends, quotes only where a
    cell needs them), the header row first."""
    text = "".join(csv_chunks(COLUMNS, rows))
    # A lone surrogate from a host's directory cannot be UTF-8: it is replaced, never a failure.
    return text.encode("utf-8", errors="replace")


def prtf_filename(npi: Npi, start: date, generated_on: date) -> str:
    """``PRTF_{NPI}_{MMYYYY of the period's start}_{MMDDYYYY generated}.csv``."""
    return (
        f"PRTF_{npi.value}_{start.month:02d}{start.year:04d}_"
        f"{generated_on.month:02d}{generated_on.day:02d}{generated_on.year:04d}.csv"
    )


@dataclass(frozen=True, slots=True)
class PrtfReport:
    """A report produced, as kept; its file is kept apart (``PrtfFile``), exactly as produced."""

    clinic_id: int
    filename: str
    start_date: date
    end_date: date
    provider_npi: str
    provider_name: str | None
    provider_phone: str | None
    patient_count: int
    created_by_id: int | None  # None: produced by the operator at the command line
    created_at: datetime
    id: int | None = None


@dataclass(frozen=True, slots=True)
class PrtfFile:
    report: PrtfReport
    content: bytes


def _day(day: date | None) -> str:
    return day.isoformat() if day is not None else ""


def _local_day(instant: datetime | None, zone: ZoneInfo) -> str:
    return instant.astimezone(zone).date().isoformat() if instant is not None else ""
