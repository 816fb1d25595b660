"""Recording what patients send and who calls: Twilio's inbound SMS and call webhooks."""

from __future__ import annotations

from dataclasses import dataclass

from ecm_comms.domain.activities import Activity, Event
from ecm_comms.domain.clinics import Clinic, main_line
from ecm_comms.domain.commands import RecordInboundCall, RecordInboundSms
from ecm_comms.domain.communications import TextMessage, VoiceCall
from ecm_comms.domain.consent import ConsentAction, ConsentEntry
from ecm_comms.domain.opt_outs import OptOutRequest, opt_out_request
from ecm_comms.domain.people import Patient
from ecm_comms.domain.phone_numbers import PhoneNumber
from ecm_comms.domain.sms_bodies import SmsBody
from ecm_comms.domain.statuses import CallStatus
from ecm_comms.ports.clinics import ClinicDirectory
from ecm_comms.ports.clock import Clock
from ecm_comms.ports.directories import PatientDirectory, UserDirectory
from ecm_comms.ports.metrics import UNCOUNTED, OutreachMetrics
from ecm_comms.ports.unit_of_work import CommunicationRepository, Record, UnitOfWork


@dataclass(frozen=True, slots=True)
class InboundRecorded:
    record: TextMessage | VoiceCall
    activity: Activity | None  # None when no patient matched the sender: stored as unmatched
    duplicate: bool  # Twilio sent this webhook before; nothing new was recorded
    connect_to: PhoneNumber | None = None  # calls: who should take it

    def counted_in(self, metrics: OutreachMetrics) -> InboundRecorded:
        """Tell ``metrics`` of a first webhook from a number no patient of the clinic has."""
        if self.record.patient_id is None and not self.duplicate:
            metrics.inbound_unmatched(self.record.CHANNEL)
        return self


def match_patient(
    uow: UnitOfWork, patients: PatientDirectory, phone: PhoneNumber, clinic: Clinic | None
) -> Patient | None:
    """The patient at this number, among the patients of the clinic whose number was called
    (of every clinic, when it was the shared number). Several share it (a family phone)? The one
    most recently contacted at this number; if none was, the one the directory lists first."""
    candidates = patients.find_by_phone(phone, clinic.id if clinic else None)
    if len(candidates) <= 1:
        return candidates[0] if candidates else None
    latest = uow.contacts.most_recently_contacted([p.id for p in candidates], phone)
    return next((p for p in candidates if p.id == latest), candidates[0])


def _record_once(
    uow: UnitOfWork,
    records: CommunicationRepository[Record],
    record: Record,
    patient: Patient | None,
) -> tuple[Record, Activity | None, bool]:
    """Store an inbound record unless Twilio sent it before; its activity and event if matched."""
    assert record.twilio_sid is not None
    if not records.add_if_new(record):
        existing = records.get_by_sid(record.twilio_sid)
        assert existing is not None
        assert existing.id is not None
        return existing, uow.activities.for_record(existing.CHANNEL, existing.id), True
    if patient is None:
        return record, None, False
    assigned_to = patient.coordinator_id or uow.activities.last_performer(patient.id)
    # Inbound: performed by the system, assigned to whoever looks after the patient.
    activity = Activity.for_communication(record, performed_by_id=None, assigned_to_id=assigned_to)
    uow.activities.add(activity)
    uow.events.add(Event.for_activity(activity))
    return record, activity, False


def _clinic_of(clinic: Clinic | None, patient: Patient | None) -> int | None:
    """Whose record an inbound SMS or call is: the patient's clinic, else the clinic whose
    number was called (stored unmatched for it), else no one's."""
    if patient is not None:
        return patient.clinic_id
    return clinic.id if clinic else None


class RecordInboundSmsHandler:
    """An SMS to a clinic: on record (matched to a patient or not), and opt-out keywords kept in
    the consent ledger of the clinic whose number it was sent to (or of the shared number)."""

    def __init__(
        self,
        uow: UnitOfWork,
        patients: PatientDirectory,
        clinics: ClinicDirectory,
        clock: Clock,
        default_region: str = "US",
        metrics: OutreachMetrics = UNCOUNTED,
    ) -> None:
        self._uow = uow
        self._patients = patients
        self._clinics = clinics
        self._clock = clock
        self._region = default_region
        self._metrics = metrics

    def __call__(self, command: RecordInboundSms) -> InboundRecorded:
        sender = PhoneNumber.as_reported(command.from_number, self._region)
        to = PhoneNumber.as_reported(command.to_number, self._region)
        clinic = self._clinics.holding(to)
        with self._uow as uow:
            patient = match_patient(uow, self._patients, sender, clinic)
            message = TextMessage.inbound(
                twilio_sid=command.twilio_sid,
                clinic_id=_clinic_of(clinic, patient),
                patient_id=patient.id if patient else None,
                from_=sender,
                to=to,
                body=SmsBody(command.body),
                at=self._clock.now(),
            )
            stored, activity, duplicate = _record_once(uow, uow.messages, message, patient)
            request = opt_out_request(command.body, command.opt_out_type)
            action = _CONSENT.get(request) if request else None
            entry = None
            if action is not None and not duplicate:
                entry = ConsentEntry.keyword(stored, clinic.id if clinic else None, action)
                uow.consent.append(entry)
            uow.commit()
        if entry is not None and entry.action is ConsentAction.OPT_OUT:
            self._metrics.opt_out_recorded(entry.source)
        return InboundRecorded(stored, activity, duplicate).counted_in(self._metrics)


class RecordInboundCallHandler:
    """A call to the clinic: on record, and put through to whoever looks after the caller.

    The patient is looked for among the patients of the clinic whose number was called. The call
    goes to the user the activity is assigned to (the patient's coordinator, else whoever last
    contacted them) if they have a phone, else the main line of the caller's clinic (the
    patient's, also when they called the shared number; else the clinic called), else the
    settings' main line, else no one (a message).
    """

    def __init__(
        self,
        uow: UnitOfWork,
        patients: PatientDirectory,
        clinics: ClinicDirectory,
        users: UserDirectory,
        clock: Clock,
        default_region: str = "US",
        clinic_number: PhoneNumber | None = None,
        metrics: OutreachMetrics = UNCOUNTED,
    ) -> None:
        self._uow = uow
        self._patients = patients
        self._clinics = clinics
        self._users = users
        self._clock = clock
        self._region = default_region
        self._clinic_number = clinic_number
        self._metrics = metrics

    def __call__(self, command: RecordInboundCall) -> InboundRecorded:
        caller = PhoneNumber.as_reported(command.from_number, self._region)
        to = PhoneNumber.as_reported(command.to_number, self._region)
        clinic = self._clinics.holding(to)
        with self._uow as uow:
            patient = match_patient(uow, self._patients, caller, clinic)
            call = VoiceCall.inbound(
                twilio_sid=command.twilio_sid,
                clinic_id=_clinic_of(clinic, patient),
                patient_id=patient.id if patient else None,
                from_=caller,
                to=to,
                status=_call_status(command.status),
                at=self._clock.now(),
            )
            stored, activity, duplicate = _record_once(uow, uow.calls, call, patient)
            uow.commit()
        connect_to = self._who_answers(activity, clinic, patient)
        return InboundRecorded(stored, activity, duplicate, connect_to).counted_in(self._metrics)

    def _who_answers(
        self, activity: Activity | None, clinic: Clinic | None, patient: Patient | None
    ) -> PhoneNumber | None:
        user_id = activity.assigned_to_id if activity else None
        user = self._users.get(user_id) if user_id is not None else None
        if user is not None and user.phone is not None:
            return user.phone
        return main_line(self._callers_clinic(clinic, patient), self._clinic_number)

    def _callers_clinic(self, called: Clinic | None, patient: Patient | None) -> Clinic | None:
        """The caller's clinic: the patient's (a call to the shared number is matched across
        clinics), else the clinic whose number was called."""
        if patient is None or (called is not None and called.id == patient.clinic_id):
            return called
        return self._clinics.get(patient.clinic_id)


_CONSENT = {
    OptOutRequest.OPT_OUT: ConsentAction.OPT_OUT,
    OptOutRequest.OPT_IN: ConsentAction.OPT_IN,
}


def _call_status(reported: str) -> CallStatus:
    try:
        return CallStatus(reported)
    except ValueError:
        return CallStatus.RINGING  # what an inbound call is when its webhook arrives
