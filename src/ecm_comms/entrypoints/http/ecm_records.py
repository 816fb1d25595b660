"""GET …/patients/{patient_id}/activities and …/events: a patient's ECM record, in pages."""

from __future__ import annotations

from flask import Blueprint, Response

from ecm_comms.domain.commands import ListActivities, ListEvents
from ecm_comms.entrypoints.http.answers import answer
from ecm_comms.entrypoints.http.auth import current_user
from ecm_comms.entrypoints.http.errors import register_error_handlers
from ecm_comms.entrypoints.http.payloads import patient_id_from_path, query
from ecm_comms.entrypoints.http.schemas.requests import ActivitiesQuery, EventsQuery
from ecm_comms.entrypoints.http.schemas.responses import ActivitiesPage, EventsPage
from ecm_comms.entrypoints.http.services import container

ecm_records = Blueprint("ecm_records", __name__)
register_error_handlers(ecm_records)


@ecm_records.get("/patients/<patient_id>/activities")
def list_activities(patient_id: str) -> Response:
    user = current_user()
    patient = patient_id_from_path(patient_id)  # an unknown patient before a bad parameter
    asked = query(ActivitiesQuery)
    page = container().list_activities()(
        ListActivities(
            patient_id=patient,
            requested_by=user,
            page=asked.page,
            page_size=asked.page_size,
            activity_type=asked.activity_type,
            assigned_to_id=asked.assigned_to_id,
            status=asked.status,
        )
    )
    return answer(ActivitiesPage.of(page))


@ecm_records.get("/patients/<patient_id>/events")
def list_events(patient_id: str) -> Response:
    user = current_user()
    patient = patient_id_from_path(patient_id)
    asked = query(EventsQuery)
    page = container().list_events()(
        ListEvents(
            patient_id=patient,
            requested_by=user,
            page=asked.page,
            per_page=asked.per_page,
            event_type=asked.event_type,
            start_date=asked.start_date,
            end_date=asked.end_date,
        )
    )
    return answer(EventsPage.of(page))
