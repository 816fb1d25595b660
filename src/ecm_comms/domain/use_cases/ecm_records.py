"""Reading a patient's ECM activities and events, a numbered page at a time, newest first.
Scoped to the reader's clinic; every problem of the query's values is reported at once, before
the patient is looked up.

Reads go through the views, never the unit of work: they open no writing transaction.
"""

from __future__ import annotations

from ecm_comms.domain.activities import ActivityStatus
from ecm_comms.domain.channels import Channel
from ecm_comms.domain.clinics import zone_of
from ecm_comms.domain.commands import ListActivities, ListEvents
from ecm_comms.domain.ecm_records import (
    ActivityEntry,
    ActivityFilters,
    DayRange,
    EventEntry,
    EventFilters,
    Page,
    PageRequest,
    Problems,
    parse_choice,
)
from ecm_comms.domain.use_cases.outbound_inputs import find_patient
from ecm_comms.ports.clinics import ClinicDirectory
from ecm_comms.ports.directories import PatientDirectory
from ecm_comms.ports.views import ActivityViews


class ListActivitiesHandler:
    def __init__(self, views: ActivityViews, patients: PatientDirectory) -> None:
        self._views = views
        self._patients = patients

    def __call__(self, query: ListActivities) -> Page[ActivityEntry]:
        problems = Problems()
        page = PageRequest.parse(query.page, query.page_size, "page_size", problems)
        activity_type = parse_choice(query.activity_type, Channel, "activity_type", problems)
        status = parse_choice(query.status, ActivityStatus, "status", problems)
        problems.raise_any()
        patient = find_patient(self._patients, query.patient_id, query.requested_by)
        filters = ActivityFilters(activity_type, query.assigned_to_id, status)
        items, total = self._views.activities(
            patient.id, query.requested_by.clinic_id, filters, page
        )
        return Page(items, page, total)


class ListEventsHandler:
    def __init__(
        self,
        views: ActivityViews,
        patients: PatientDirectory,
        clinics: ClinicDirectory,
        encounter_min_call_seconds: int,
    ) -> None:
        self._views = views
        self._patients = patients
        self._clinics = clinics
        self._encounter_min_call_seconds = encounter_min_call_seconds

    def __call__(self, query: ListEvents) -> Page[EventEntry]:
        problems = Problems()
        page = PageRequest.parse(query.page, query.per_page, "per_page", problems)
        event_type = parse_choice(query.event_type, Channel, "event_type", problems)
        days = DayRange.parse(query.start_date, query.end_date, problems)
        problems.raise_any()
        clinic_id = query.requested_by.clinic_id
        patient = find_patient(self._patients, query.patient_id, query.requested_by)
        filters = EventFilters(event_type)
        if days.first is not None or days.last is not None:
            since, until = days.utc_bounds(zone_of(self._clinics.get(clinic_id)))
            filters = EventFilters(event_type, since, until)
        rows, total = self._views.events(patient.id, clinic_id, filters, page)
        entries = [EventEntry(row, row.category(self._encounter_min_call_seconds)) for row in rows]
        return Page(entries, page, total)
