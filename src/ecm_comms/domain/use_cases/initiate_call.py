from __future__ import annotations

from dataclasses import dataclass

from ecm_comms.domain.activities import Activity, Event
from ecm_comms.domain.channels import Channel
from ecm_comms.domain.clinics import main_line, sender_for
from ecm_comms.domain.commands import InitiateCall
from ecm_comms.domain.communications import VoiceCall
from ecm_comms.domain.errors import CommunicationFailed, GatewayError
from ecm_comms.domain.phone_numbers import PhoneNumber
from ecm_comms.domain.use_cases.outbound_inputs import find_patient, parse_recipient
from ecm_comms.domain.use_cases.outreach import record_acceptance, record_refusal
from ecm_comms.ports.clinics import ClinicDirectory
from ecm_comms.ports.clock import Clock
from ecm_comms.ports.directories import PatientDirectory
from ecm_comms.ports.gateway import MessagingGateway, OutboundCall
from ecm_comms.ports.unit_of_work import UnitOfWork


@dataclass(frozen=True, slots=True)
class CallInitiated:
    call: VoiceCall
    activity: Activity
    event: Event


class InitiateCallHandler:
    """Call a patient; the call, its activity and its event go on record (as ``SendSmsHandler``).

    It comes from the clinic's sending number, else the shared fallback number. When the patient
    answers they are connected to the coordinator who placed the call (their phone), else to the
    clinic's main line, else they hear the clinic's message.
    """

    def __init__(
        self,
        uow: UnitOfWork,
        patients: PatientDirectory,
        clinics: ClinicDirectory,
        gateway: MessagingGateway,
        clock: Clock,
        default_region: str = "US",
        clinic_number: PhoneNumber | None = None,
    ) -> None:
        self._uow = uow
        self._patients = patients
        self._clinics = clinics
        self._gateway = gateway
        self._clock = clock
        self._region = default_region
        self._clinic_number = clinic_number

    def __call__(self, command: InitiateCall) -> CallInitiated:
        caller = command.performed_by
        patient = find_patient(self._patients, command.patient_id, caller)
        to = parse_recipient(command.phone_number, self._region)
        clinic = self._clinics.get(patient.clinic_id)
        sender = sender_for(clinic, self._gateway.sender)
        call = VoiceCall.outbound(
            clinic_id=patient.clinic_id,
            patient_id=patient.id,
            to=to,
            from_=sender.number,
            sent_by_id=caller.id,
            at=self._clock.now(),
        )
        with self._uow as uow:
            uow.calls.add(call)
            uow.commit()
        assert call.id is not None

        connect_to = caller.phone or main_line(clinic, self._clinic_number)
        try:
            receipt = self._gateway.start_call(OutboundCall(call.id, to, connect_to, sender))
        except GatewayError as error:
            record_refusal(self._uow, call, sender, error, self._clock.now())
            raise CommunicationFailed(Channel.CALL, error) from error

        return CallInitiated(*record_acceptance(self._uow, call, receipt, self._clock.now()))
