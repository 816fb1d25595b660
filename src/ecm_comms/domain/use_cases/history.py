"""Reading the record: one SMS, one call, a patient's history. Scoped to the reader's clinic."""

from __future__ import annotations

from dataclasses import dataclass

from ecm_comms.domain.activities import Activity
from ecm_comms.domain.channels import Channel
from ecm_comms.domain.commands import GetCall, GetSms, ListCommunications
from ecm_comms.domain.communications import TextMessage, VoiceCall
from ecm_comms.domain.errors import RecordNotFound
from ecm_comms.domain.history import HistoryPage, Position, page_size
from ecm_comms.domain.use_cases.outbound_inputs import find_patient
from ecm_comms.ports.directories import PatientDirectory
from ecm_comms.ports.unit_of_work import UnitOfWork


@dataclass(frozen=True, slots=True)
class SmsRecord:
    message: TextMessage
    activity: Activity | None


@dataclass(frozen=True, slots=True)
class CallRecord:
    call: VoiceCall
    activity: Activity | None


class GetSmsHandler:
    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    def __call__(self, query: GetSms) -> SmsRecord:
        with self._uow as uow:
            message = uow.messages.get(query.sms_id)
            # Another clinic's SMS, or an unmatched one, does not exist for this reader.
            if message is None or message.clinic_id != query.requested_by.clinic_id:
                raise RecordNotFound()
            return SmsRecord(message, uow.activities.for_record(Channel.SMS, query.sms_id))


class GetCallHandler:
    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    def __call__(self, query: GetCall) -> CallRecord:
        with self._uow as uow:
            call = uow.calls.get(query.call_id)
            if call is None or call.clinic_id != query.requested_by.clinic_id:
                raise RecordNotFound()
            return CallRecord(call, uow.activities.for_record(Channel.CALL, query.call_id))


class ListCommunicationsHandler:
    """A page of a patient's SMS and calls, inbound and outbound, newest first."""

    def __init__(self, uow: UnitOfWork, patients: PatientDirectory) -> None:
        self._uow = uow
        self._patients = patients

    def __call__(self, query: ListCommunications) -> HistoryPage:
        limit = page_size(query.limit)
        after = Position.decode(query.cursor) if query.cursor else None
        patient = find_patient(self._patients, query.patient_id, query.requested_by)
        with self._uow as uow:
            # One more than asked: whether it exists says if there is a next page.
            items = uow.contacts.page(patient.id, limit + 1, after)
        more = len(items) > limit
        items = items[:limit]
        return HistoryPage(items, Position.of(items[-1]).encode() if more else None)
