"""What sending an SMS and placing a call share: on record before the provider is asked, and the
provider's answer on record after, so a crash in between loses nothing."""

from __future__ import annotations

from datetime import datetime

from ecm_comms.domain.activities import Activity, Event
from ecm_comms.domain.clinics import Sender
from ecm_comms.domain.communications import TextMessage, VoiceCall
from ecm_comms.domain.consent import ConsentEntry
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
    record: Record,
    receipt: SmsReceipt | CallReceipt,
    at: datetime,
) -> tuple[Record, Activity, Event]:
    """The provider took the write-ahead ``record``: its sid and status, its activity and its
    event, together."""
    assert record.id is not None
    record.accept(receipt.sid, receipt.status, receipt.sender, at)  # type: ignore[arg-type]
    with uow:
        records: CommunicationRepository[Record] = uow.records(record.CHANNEL)
        if not records.update_unsent(record):  # its status callback came first and completed it
            return _completed_elsewhere(uow, records, record.id)
        activity, event = record_outreach(uow, record)
        uow.commit()
    return record, activity, event


def _completed_elsewhere(
    uow: UnitOfWork, records: CommunicationRepository[Record], record_id: int
) -> tuple[Record, Activity, Event]:
    """A record whose status callback arrived first and completed it (see ``ApplyStatus``)."""
    record = records.get(record_id)
    assert record is not None, "a write-ahead record is never deleted"
    activity = uow.activities.for_record(record.CHANNEL, record_id)
    event = uow.events.for_activity(activity.id) if activity and activity.id else None
    assert activity is not None, "a completed record has its activity"
    assert event is not None, "an activity has its event"
    return record, activity, event


def record_refusal(
    uow: UnitOfWork,
    record: Record,
    sender: Sender,
    error: GatewayError,
    at: datetime,
) -> bool:
    """Keep a refused send on record as failed, with the provider's code and words; False if
    nothing was written.

    When the provider may have acted (a timeout, a 5xx), the record stays queued: its status
    callback, matched by the record id in the callback URL, will tell what happened.
    """
    if error.outcome_unknown:
        return False
    with uow:
        if not note_refusal(uow, record, sender, error, at):
            return False
        uow.commit()
    return True


def note_refusal(
    uow: UnitOfWork, record: Record, sender: Sender, error: GatewayError, at: datetime
) -> bool:
    """``record_refusal``'s writes, inside the caller's transaction; False if a status callback
    completed the record meanwhile (nothing written)."""
    record.refuse(error.code, error.reason, at)
    if not uow.records(record.CHANNEL).update_unsent(record):
        return False
    if refusal_opts_out(record, error):
        assert isinstance(record, TextMessage)
        uow.consent.append(ConsentEntry.carrier_opt_out(record, sender.clinic_id, at))
    return True


def refusal_opts_out(record: Record, error: GatewayError) -> bool:
    """Whether the provider's refusal of ``record`` says its recipient opted out of SMS: the
    refusal, once noted, records a carrier opt-out."""
    return error.code == OPTED_OUT_ERROR_CODE and isinstance(record, TextMessage)
