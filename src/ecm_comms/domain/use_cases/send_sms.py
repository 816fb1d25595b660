from __future__ import annotations

from dataclasses import dataclass

from ecm_comms.domain.activities import Activity, Event
from ecm_comms.domain.channels import Channel
from ecm_comms.domain.clinics import sender_for
from ecm_comms.domain.commands import SendSms
from ecm_comms.domain.communications import TextMessage
from ecm_comms.domain.consent import ConsentSource
from ecm_comms.domain.errors import CommunicationFailed, GatewayError, RecipientOptedOut
from ecm_comms.domain.use_cases.outbound_inputs import find_patient, parse_sms
from ecm_comms.domain.use_cases.outreach import (
    record_acceptance,
    record_refusal,
    refusal_opts_out,
)
from ecm_comms.ports.clinics import ClinicDirectory
from ecm_comms.ports.clock import Clock
from ecm_comms.ports.directories import PatientDirectory
from ecm_comms.ports.gateway import MessagingGateway, OutboundSms
from ecm_comms.ports.metrics import UNCOUNTED, OutreachMetrics
from ecm_comms.ports.unit_of_work import UnitOfWork


@dataclass(frozen=True, slots=True)
class SmsSent:
    message: TextMessage
    activity: Activity
    event: Event


class SendSmsHandler:
    """Text a patient; the SMS, its activity and its event go on record.

    It goes from the patient's clinic's sending number (or its Messaging Service), else from
    the shared fallback number. The SMS is recorded (queued, no sid) before the provider is
    asked, so that a crash after the provider accepted it loses nothing; the provider's answer,
    the activity and the event are then recorded together. A refused SMS stays on record as
    failed, with no activity or event.
    """

    def __init__(
        self,
        uow: UnitOfWork,
        patients: PatientDirectory,
        clinics: ClinicDirectory,
        gateway: MessagingGateway,
        clock: Clock,
        default_region: str = "US",
        metrics: OutreachMetrics = UNCOUNTED,
    ) -> None:
        self._uow = uow
        self._patients = patients
        self._clinics = clinics
        self._gateway = gateway
        self._clock = clock
        self._region = default_region
        self._metrics = metrics

    def __call__(self, command: SendSms) -> SmsSent:
        patient = find_patient(self._patients, command.patient_id, command.performed_by)
        to, body = parse_sms(command.phone_number, command.body, self._region)
        sender = sender_for(self._clinics.get(patient.clinic_id), self._gateway.sender)
        message = TextMessage.outbound(
            clinic_id=patient.clinic_id,
            patient_id=patient.id,
            to=to,
            from_=sender.number,
            body=body,
            sent_by_id=command.performed_by.id,
            at=self._clock.now(),
        )
        with self._uow as uow:
            if not uow.messages.add_unless_opted_out(message, sender.clinic_id):
                raise RecipientOptedOut()
            uow.commit()
        assert message.id is not None

        try:
            receipt = self._gateway.send_sms(OutboundSms(message.id, to, body, sender))
        except GatewayError as error:
            noted = record_refusal(self._uow, message, sender, error, self._clock.now())
            if noted and refusal_opts_out(message, error):
                self._metrics.opt_out_recorded(ConsentSource.CARRIER)
            raise CommunicationFailed(Channel.SMS, error) from error

        return SmsSent(*record_acceptance(self._uow, message, receipt, self._clock.now()))
