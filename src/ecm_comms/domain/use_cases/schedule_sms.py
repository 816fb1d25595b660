from __future__ import annotations

from ecm_comms.domain.automated_sms import AutomatedSms, parse_send_at
from ecm_comms.domain.clinics import sender_for
from ecm_comms.domain.commands import ScheduleSms
from ecm_comms.domain.communications import TextMessage
from ecm_comms.domain.errors import InvalidInput, RecipientOptedOut, ValidationError
from ecm_comms.domain.use_cases.outbound_inputs import find_patient, parse_sms
from ecm_comms.ports.clinics import ClinicDirectory
from ecm_comms.ports.clock import Clock
from ecm_comms.ports.directories import PatientDirectory
from ecm_comms.ports.gateway import MessagingGateway
from ecm_comms.ports.metrics import UNCOUNTED, AutomatedOrigin, OutreachMetrics
from ecm_comms.ports.send_queue import SendQueue
from ecm_comms.ports.unit_of_work import UnitOfWork


class ScheduleSmsHandler:
    """Text a patient later: the SMS is on record now, ``scheduled``; a worker sends it at its
    time, within the sending limits, and only then are its activity and event recorded.

    Every check of a direct send (patient, number, body, opt-out) applies now as well.
    """

    def __init__(
        self,
        uow: UnitOfWork,
        patients: PatientDirectory,
        clinics: ClinicDirectory,
        gateway: MessagingGateway,
        queue: SendQueue,
        clock: Clock,
        default_region: str = "US",
        metrics: OutreachMetrics = UNCOUNTED,
    ) -> None:
        self._uow = uow
        self._patients = patients
        self._clinics = clinics
        self._gateway = gateway
        self._queue = queue
        self._clock = clock
        self._region = default_region
        self._metrics = metrics

    def __call__(self, command: ScheduleSms) -> TextMessage:
        now = self._clock.now()
        patient = find_patient(self._patients, command.patient_id, command.performed_by)
        messages: list[str] = []
        fields: list[str | None] = []
        try:
            to, body = parse_sms(command.phone_number, command.body, self._region)
        except InvalidInput as problems:
            messages, fields = problems.messages, problems.fields
        try:
            send_at = parse_send_at(command.send_at, now)
        except ValidationError as problem:
            messages, fields = [*messages, problem.message], [*fields, "send_at"]
        if messages:
            raise InvalidInput(messages, fields)

        sender = sender_for(self._clinics.get(patient.clinic_id), self._gateway.sender)
        message = TextMessage.outbound(
            clinic_id=patient.clinic_id,
            patient_id=patient.id,
            to=to,
            from_=sender.number,
            body=body,
            sent_by_id=command.performed_by.id,
            at=now,
            send_at=send_at,
        )
        with self._uow as uow:
            if not uow.messages.add_unless_opted_out(message, sender.clinic_id):
                raise RecipientOptedOut()
            automated = AutomatedSms(
                clinic_id=patient.clinic_id, patient_id=patient.id, sms_id=message.id, due_at=now
            )
            automated.wait_until(send_at)
            uow.automated.add_many([automated])
            uow.commit()
        assert automated.id is not None
        # After the commit: a process that dies here loses nothing, the sweep queues it.
        self._queue.enqueue([automated.id], eta=send_at)
        self._metrics.automated_sms_scheduled(AutomatedOrigin.SCHEDULED_SMS, 1)
        return message
