"""Reading the record: one SMS or call, a patient's history. Scoped to the reader's clinic.

Reads go through the views, never the unit of work: they open no writing transaction.
"""

from __future__ import annotations

from ecm_comms.domain.commands import GetCommunication, ListCommunications
from ecm_comms.domain.errors import RecordNotFound
from ecm_comms.domain.history import HistoryItem, HistoryPage, Position, page_size
from ecm_comms.domain.use_cases.outbound_inputs import find_patient
from ecm_comms.ports.directories import PatientDirectory
from ecm_comms.ports.views import CommunicationViews


class GetCommunicationHandler:
    def __init__(self, views: CommunicationViews) -> None:
        self._views = views

    def __call__(self, query: GetCommunication) -> HistoryItem:
        found = self._views.find(query.channel, query.record_id)
        # Another clinic's SMS or call, or an unmatched one, does not exist for this reader.
        if found is None or found.record.clinic_id != query.requested_by.clinic_id:
            raise RecordNotFound()
        return found


class ListCommunicationsHandler:
    """A page of a patient's SMS and calls, inbound and outbound, newest first."""

    def __init__(self, views: CommunicationViews, patients: PatientDirectory) -> None:
        self._views = views
        self._patients = patients

    def __call__(self, query: ListCommunications) -> HistoryPage:
        limit = page_size(query.limit)
        after = Position.decode(query.cursor) if query.cursor else None
        patient = find_patient(self._patients, query.patient_id, query.requested_by)
        # One more than asked: whether it exists says if there is a next page.
        items = self._views.history(patient.id, limit + 1, after)
        more = len(items) > limit
        items = items[:limit]
        return HistoryPage(items, Position.of(items[-1]).encode() if more else None)
