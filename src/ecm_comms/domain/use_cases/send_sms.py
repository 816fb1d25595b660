from __future__ import annotations

from dataclasses import dataclass

from ecm_comms.domain.activities import Activity, Event
from ecm_comms.domain.channels import Channel
from ecm_comms.domain.commands import SendSms
from ecm_comms.domain.communications import TextMessage
from ecm_comms.domain.errors import CommunicationFailed, GatewayError
from ecm_comms.domain.use_cases.outbound_inputs import find_patient, parse_sms
from ecm_comms.ports.clock import Clock
from ecm_comms.ports.directories import PatientDirectory
from ecm_comms.ports.gateway import MessagingGateway
from ecm_comms.ports.unit_of_work import UnitOfWork


@dataclass(frozen=True, slots=True)
class SmsSent:
    message: TextMessage
    activity: Activity
    event: Event


class SendSmsHandler:
    """Text a patient, and put the SMS, its activity and its event on record together."""

    def __init__(
        self,
        uow: UnitOfWork,
        patients: PatientDirectory,
        gateway: MessagingGateway,
        clock: Clock,
        default_region: str = "US",
    ) -> None:
        self._uow = uow
        self._patients = patients
        self._gateway = gateway
        self._clock = clock
        self._region = default_region

    def __call__(self, command: SendSms) -> SmsSent:
        user = command.performed_by
        patient = find_patient(self._patients, command.patient_id, user)
        to, body = parse_sms(command.phone_number, command.body, self._region)
        try:
            receipt = self._gateway.send_sms(to, body)
        except GatewayError as error:
            raise CommunicationFailed(Channel.SMS, error) from error

        with self._uow as uow:
            message = TextMessage.outbound(
                clinic_id=patient.clinic_id,
                patient_id=patient.id,
                to=to,
                from_=receipt.sender,
                body=body,
                status=receipt.status,
                twilio_sid=receipt.sid,
                at=self._clock.now(),
            )
            uow.messages.add(message)
            activity = Activity.for_text_message(
                message, performed_by_id=user.id, assigned_to_id=user.id
            )
            uow.activities.add(activity)
            event = Event.for_activity(activity)
            uow.events.add(event)
            uow.commit()
        return SmsSent(message, activity, event)
