"""The outreach detail: every event of a clinic in a period of days, one row each, oldest first.

The request is checked (an admin of the clinic, a valid period) before anything is read; the rows
are then produced one at a time from the report view's stream, so a period of any size is read
and written in constant memory.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Generic, TypeVar
from zoneinfo import ZoneInfo

from ecm_comms.domain.channels import Channel, Direction
from ecm_comms.domain.clinics import zone_of
from ecm_comms.domain.commands import GetOutreachDetail
from ecm_comms.domain.errors import AdminRequired
from ecm_comms.domain.reporting import EventRow, ReportingPeriod, spreadsheet_safe
from ecm_comms.ports.clinics import ClinicDirectory
from ecm_comms.ports.directories import PatientDirectory, UserDirectory
from ecm_comms.ports.views import ReportViews

HEADER = (
    "Event ID",
    "Activity ID",
    "Patient ID",
    "Member CIN",
    "Date",
    "Time",
    "Method",
    "Direction",
    "PRTF Category",
    "Status",
    "Duration Seconds",
    "Performed By",
    "Assigned To",
)
METHODS = {Channel.SMS: "Text", Channel.CALL: "Telephonic"}
DIRECTIONS = {Direction.OUTBOUND: "Outbound", Direction.INBOUND: "Inbound"}
# A spreadsheet runs a cell starting with one of these as a formula.
# Patients and users looked up by id, at most this many remembered at a time.
_REMEMBERED = 4096

Key = TypeVar("Key")
Value = TypeVar("Value")


@dataclass(frozen=True, slots=True)
class OutreachDetail:
    period: ReportingPeriod
    rows: Iterator[list[str]]  # the cells of each event, in ``HEADER``'s order; read once


class OutreachDetailHandler:
    """Checks the request, then hands back the period and its rows, produced as they are read.

    The patient's Member CIN and the users' names come with each event where the view could
    read them; where it could not (a host's own directories), they are looked up once per id.
    """

    def __init__(
        self,
        views: ReportViews,
        clinics: ClinicDirectory,
        patients: PatientDirectory,
        users: UserDirectory,
        encounter_min_call_seconds: int,
    ) -> None:
        self._views = views
        self._clinics = clinics
        self._patients = patients
        self._users = users
        self._min_seconds = encounter_min_call_seconds

    def __call__(self, query: GetOutreachDetail) -> OutreachDetail:
        asker = query.requested_by
        if asker is not None:
            asker.require_admin()
            if asker.clinic_id != query.clinic_id:  # an admin of another clinic is not one here
                raise AdminRequired()
        zone = zone_of(self._clinics.get(query.clinic_id))
        period = ReportingPeriod.parse(query.start_date, query.end_date, zone, query.fields)
        since, until = period.utc_bounds()
        events = self._views.events(query.clinic_id, since, until)
        # The first batch is read now, so a database that cannot be read is refused before
        # any of the answer is written.
        first = next(events, None)
        return OutreachDetail(period, self._rows(first, events, zone, query.clinic_id))

    def _rows(
        self, first: EventRow | None, rest: Iterator[EventRow], zone: ZoneInfo, clinic_id: int
    ) -> Iterator[list[str]]:
        member_ids: _Remembered[int, str | None] = _Remembered(
            lambda patient_id: self._member_id(patient_id, clinic_id)
        )
        names: _Remembered[int, str | None] = _Remembered(self._name)
        if first is None:
            return
        yield self._cells(first, zone, member_ids, names)
        for event in rest:
            yield self._cells(event, zone, member_ids, names)

    def _cells(
        self,
        event: EventRow,
        zone: ZoneInfo,
        member_ids: _Remembered[int, str | None],
        names: _Remembered[int, str | None],
    ) -> list[str]:
        local = event.occurred_at.astimezone(zone)
        member_id = event.member_id or member_ids(event.patient_id)
        performer = _name(event.performed_by_name, event.performed_by_id, names)
        assignee = _name(event.assigned_to_name, event.assigned_to_id, names)
        duration = event.duration_seconds
        return [
            str(event.event_id),
            str(event.activity_id),
            str(event.patient_id),
            spreadsheet_safe(member_id),
            local.date().isoformat(),
            f"{local.hour:02d}:{local.minute:02d}",
            METHODS[event.channel],
            DIRECTIONS[event.direction],
            event.category(self._min_seconds).value,
            event.status,
            "" if duration is None else str(duration),
            spreadsheet_safe(performer),
            spreadsheet_safe(assignee),
        ]

    def _member_id(self, patient_id: int, clinic_id: int) -> str | None:
        patient = self._patients.find(patient_id, clinic_id)
        return patient.member_id if patient else None

    def _name(self, user_id: int) -> str | None:
        user = self._users.get(user_id)
        return user.name if user else None


def _name(read: str | None, user_id: int | None, names: _Remembered[int, str | None]) -> str | None:
    if read is not None or user_id is None:
        return read
    return names(user_id)


class _Remembered(Generic[Key, Value]):
    """``look_up``'s answers by key, forgotten all at once when there are too many."""

    def __init__(self, look_up: Callable[[Key], Value]) -> None:
        self._look_up = look_up
        self._known: dict[Key, Value] = {}

    def __call__(self, key: Key) -> Value:
        if key in self._known:
            return self._known[key]
        if len(self._known) >= _REMEMBERED:
            self._known.clear()
        value = self._known[key] = self._look_up(key)
        return value
