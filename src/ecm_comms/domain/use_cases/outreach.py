"""What sending an SMS and placing a call share: on record before the provider is asked, and the
provider's answer on record after, so a crash in between loses nothing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from ecm_comms.domain.activities import Activity, Event
from ecm_comms.domain.channels import Channel
from ecm_comms.domain.communications import TextMessage, VoiceCall
from ecm_comms.domain.errors import GatewayError
from ecm_comms.domain.opt_outs import OPTED_OUT_ERROR_CODE
from ecm_comms.ports.gateway import CallReceipt, SmsReceipt
from ecm_comms.ports.unit_of_work import CommunicationRepository, Record, UnitOfWork


def record_outreach(uow: UnitOfWork, record: TextMessage | VoiceCall) -> tuple[Activity, Event]:
    """The activity and event of an SMS or call the provider accepted."""
    activity = Activity.for_communication(
        record, performed_by_id=record.sent_by_id, assigned_to_id=record.sent_by_id
    )
    uow.activities.add(activity)
    event = Event.for_activity(activity)
    uow.events.add(event)
    return activity, event


def record_acceptance(
    uow: UnitOfWork,
    records_of: Callable[[UnitOfWork], CommunicationRepository[Record]],
    record_id: int,
    receipt: SmsReceipt | CallReceipt,
    at: datetime,
) -> tuple[Record, Activity, Event]:
    """The provider took it: its sid and status, its activity and its event, together."""
    with uow:
        records = records_of(uow)
        record = records.lock(record_id=record_id)
        if record is None:  # its status callback arrived first and completed it
            return _completed_elsewhere(uow, records, record_id)
        record.accept(receipt.sid, receipt.status, receipt.sender, at)  # type: ignore[arg-type]
        records.update(record)
        activity, event = record_outreach(uow, record)
        uow.commit()
    return record, activity, event


def _completed_elsewhere(
    uow: UnitOfWork, records: CommunicationRepository[Record], record_id: int
) -> tuple[Record, Activity, Event]:
    """A record whose status callback arrived first and completed it (see ``ApplyStatus``)."""
    record = records.get(record_id)
    assert record is not None, "a write-ahead record is never deleted"
    channel = Channel.SMS if isinstance(record, TextMessage) else Channel.CALL
    activity = uow.activities.for_record(channel, record_id)
    event = uow.events.for_activity(activity.id) if activity and activity.id else None
    assert activity is not None, "a completed record has its activity"
    assert event is not None, "an activity has its event"
    return record, activity, event


def record_refusal(
    uow: UnitOfWork,
    records_of: Callable[[UnitOfWork], CommunicationRepository[Record]],
    record_id: int,
    error: GatewayError,
    at: datetime,
) -> None:
    """Keep a refused send on record as failed, with the provider's code and words.

    When the provider may have acted (a timeout, a 5xx), the record stays queued: its status
    callback, matched by the record id in the callback URL, will tell what happened.
    """
    if error.outcome_unknown:
        return
    with uow:
        records = records_of(uow)
        record = records.lock(record_id=record_id)
        if record is None:  # a status callback has already completed it
            return
        record.refuse(error.code, error.reason, at)
        records.update(record)
        if error.code == OPTED_OUT_ERROR_CODE and isinstance(record, TextMessage):
            uow.opt_outs.opt_out(record.to, at)
        uow.commit()
