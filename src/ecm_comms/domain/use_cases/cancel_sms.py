from __future__ import annotations

from ecm_comms.domain.commands import CancelSms
from ecm_comms.domain.communications import TextMessage
from ecm_comms.domain.errors import NotScheduled, RecordNotFound
from ecm_comms.ports.clock import Clock
from ecm_comms.ports.unit_of_work import UnitOfWork


class CancelSmsHandler:
    """A scheduled SMS that has not gone to the provider yet is canceled, and stays on record."""

    def __init__(self, uow: UnitOfWork, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    def __call__(self, command: CancelSms) -> TextMessage:
        now = self._clock.now()
        with self._uow as uow:
            # The automated SMS first: the worker locks it before sending, so the two take turns.
            automated = uow.automated.lock_by_sms(command.sms_id)
            message = uow.messages.get(command.sms_id)
            if message is None or message.clinic_id != command.requested_by.clinic_id:
                raise RecordNotFound()
            if automated is None or not automated.is_scheduled:
                raise NotScheduled()
            automated.cancel()
            message.cancel(now)
            uow.automated.update(automated)
            uow.messages.update(message)
            uow.commit()
        return message
