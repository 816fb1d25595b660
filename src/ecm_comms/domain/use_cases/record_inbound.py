"""Recording what patients send and who calls: Twilio's inbound SMS and call webhooks."""

from __future__ import annotations

from dataclasses import dataclass

from ecm_comms.domain.activities import Activity, Event
from ecm_comms.domain.commands import RecordInboundCall, RecordInboundSms
from ecm_comms.domain.communications import TextMessage, VoiceCall
from ecm_comms.domain.opt_outs import OptOutRequest, opt_out_request
from ecm_comms.domain.people import Patient
from ecm_comms.domain.phone_numbers import PhoneNumber
from ecm_comms.domain.sms_bodies import SmsBody
from ecm_comms.domain.statuses import CallStatus
from ecm_comms.ports.clock import Clock
from ecm_comms.ports.directories import PatientDirectory, UserDirectory
from ecm_comms.ports.unit_of_work import CommunicationRepository, Record, UnitOfWork


@dataclass(frozen=True, slots=True)
class InboundRecorded:
    record: TextMessage | VoiceCall
    activity: Activity | None  # None when no patient matched the sender: stored as unmatched
    duplicate: bool  # Twilio sent this webhook before; nothing new was recorded
    connect_to: PhoneNumber | None = None  # calls: who should take it


def match_patient(
    uow: UnitOfWork, patients: PatientDirectory, phone: PhoneNumber
) -> Patient | None:
    """The patient at this number. Several share it (a family phone)? The one most recently
    contacted at this number; if none was, the one the directory lists first."""
    candidates = patients.find_by_phone(phone)
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


class RecordInboundSmsHandler:
    """An SMS to the clinic: on record (matched to a patient or not), and opt-out keywords kept."""

    def __init__(
        self, uow: UnitOfWork, patients: PatientDirectory, clock: Clock, default_region: str = "US"
    ) -> None:
        self._uow = uow
        self._patients = patients
        self._clock = clock
        self._region = default_region

    def __call__(self, command: RecordInboundSms) -> InboundRecorded:
        sender = PhoneNumber.as_reported(command.from_number, self._region)
        now = self._clock.now()
        with self._uow as uow:
            patient = match_patient(uow, self._patients, sender)
            message = TextMessage.inbound(
                twilio_sid=command.twilio_sid,
                clinic_id=patient.clinic_id if patient else None,
                patient_id=patient.id if patient else None,
                from_=sender,
                to=PhoneNumber.as_reported(command.to_number, self._region),
                body=SmsBody(command.body),
                at=now,
            )
            stored, activity, duplicate = _record_once(uow, uow.messages, message, patient)
            if not duplicate:
                request = opt_out_request(command.body, command.opt_out_type)
                if request is OptOutRequest.OPT_OUT:
                    uow.opt_outs.opt_out(sender, now)
                elif request is OptOutRequest.OPT_IN:
                    uow.opt_outs.opt_in(sender)
            uow.commit()
        return InboundRecorded(stored, activity, duplicate)


class RecordInboundCallHandler:
    """A call to the clinic: on record, and put through to whoever looks after the caller.

    That is the user the activity is assigned to (the patient's coordinator, else whoever last
    contacted them) if they have a phone, else the clinic's number, else no one (a message).
    """

    def __init__(
        self,
        uow: UnitOfWork,
        patients: PatientDirectory,
        users: UserDirectory,
        clock: Clock,
        default_region: str = "US",
        clinic_number: PhoneNumber | None = None,
    ) -> None:
        self._uow = uow
        self._patients = patients
        self._users = users
        self._clock = clock
        self._region = default_region
        self._clinic_number = clinic_number

    def __call__(self, command: RecordInboundCall) -> InboundRecorded:
        caller = PhoneNumber.as_reported(command.from_number, self._region)
        with self._uow as uow:
            patient = match_patient(uow, self._patients, caller)
            call = VoiceCall.inbound(
                twilio_sid=command.twilio_sid,
                clinic_id=patient.clinic_id if patient else None,
                patient_id=patient.id if patient else None,
                from_=caller,
                to=PhoneNumber.as_reported(command.to_number, self._region),
                status=_call_status(command.status),
                at=self._clock.now(),
            )
            stored, activity, duplicate = _record_once(uow, uow.calls, call, patient)
            uow.commit()
        return InboundRecorded(stored, activity, duplicate, self._who_answers(activity))

    def _who_answers(self, activity: Activity | None) -> PhoneNumber | None:
        user_id = activity.assigned_to_id if activity else None
        user = self._users.get(user_id) if user_id is not None else None
        return (user.phone if user else None) or self._clinic_number


def _call_status(reported: str) -> CallStatus:
    try:
        return CallStatus(reported)
    except ValueError:
        return CallStatus.RINGING  # what an inbound call is when its webhook arrives
