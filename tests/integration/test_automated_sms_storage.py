"""Where automated SMS, campaigns and the sending limits are kept: one contract for the in-memory
fakes, SQLite and PostgreSQL, then what only a database shows (statements, locks, NULLs)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, insert, select, text

from ecm_comms.adapters.memory import (
    InMemoryCampaignViews,
    InMemoryClinicDirectory,
    InMemoryPatientDirectory,
    InMemoryStore,
    InMemoryUnitOfWork,
)
from ecm_comms.adapters.sql import tables
from ecm_comms.adapters.sql.automated_sms import PATIENT_LOCK_SPACE
from ecm_comms.adapters.sql.repositories import VALUES_PER_QUERY
from ecm_comms.container import Container, create_container
from ecm_comms.domain.automated_sms import AutomatedSms, Outcome, SkipReason
from ecm_comms.domain.campaigns import Campaign, CampaignCounts, Recipient
from ecm_comms.domain.clinics import Clinic
from ecm_comms.domain.communications import TextMessage
from ecm_comms.domain.consent import ConsentAction, ConsentEntry, ConsentSource
from ecm_comms.domain.ecm_records import PageRequest
from ecm_comms.domain.people import Patient
from ecm_comms.domain.phone_numbers import PhoneNumber
from ecm_comms.domain.sending_limits import FrequencyCaps, SendWindow
from ecm_comms.domain.sms_bodies import SmsBody
from ecm_comms.domain.statuses import SmsStatus
from ecm_comms.ports.clinics import ClinicRegistry
from ecm_comms.ports.directories import PatientRegistry
from ecm_comms.ports.unit_of_work import UnitOfWork
from ecm_comms.ports.views import CampaignViews
from tests.conftest import _empty_postgres
from tests.support.statements import counting_statements

NOW = datetime(2026, 12, 3, 17, 0, 0, 123000, tzinfo=UTC)
LEASE = timedelta(minutes=5)
WEEK_AGO = NOW - timedelta(days=7)
PATIENT_PHONE = PhoneNumber("+18051234567")
CLINIC_NUMBER = PhoneNumber("+18059876543")


@dataclass
class Storage:
    uow: Callable[[], UnitOfWork]
    campaign_views: CampaignViews
    patients: PatientRegistry
    clinics: ClinicRegistry


@pytest.fixture(params=["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def storage(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Storage]:
    """The in-memory fakes, or the SQL adapters on an empty migrated database."""
    if request.param == "memory":
        store = InMemoryStore()
        yield Storage(
            lambda: InMemoryUnitOfWork(store),
            InMemoryCampaignViews(store),
            InMemoryPatientDirectory(),
            InMemoryClinicDirectory(),
        )
        return
    if request.param == "sqlite":
        url: str = request.getfixturevalue("database_url")
    else:
        url = request.getfixturevalue("postgres_database")
        _empty_postgres(url)
    container = create_container(environ={}, database_url=url)
    yield Storage(
        container.uow, container.campaign_views(), container.sql_patients(), container.sql_clinics()
    )
    container.engine().dispose()


def a_message(patient_id: int = 123, body: str = "Your appointment is tomorrow") -> TextMessage:
    return TextMessage.outbound(
        clinic_id=1,
        patient_id=patient_id,
        to=PATIENT_PHONE,
        from_=CLINIC_NUMBER,
        body=SmsBody(body),
        sent_by_id=101,
        at=NOW - timedelta(days=1),
        send_at=NOW,
    )


def schedule(
    storage: Storage,
    *due_at: datetime,
    patient_id: int = 123,
    campaign_id: int | None = None,
    clinic_id: int = 1,
) -> list[AutomatedSms]:
    """One scheduled SMS per ``due_at``, each with its text message, in one unit of work."""
    messages = [a_message(patient_id, f"Reminder {n}") for n in range(len(due_at))]
    with storage.uow() as uow:
        uow.messages.add_many(messages)
        sends = [
            AutomatedSms(
                clinic_id=clinic_id,
                patient_id=patient_id,
                sms_id=message.id,
                campaign_id=campaign_id,
                due_at=due,
            )
            for message, due in zip(messages, due_at, strict=True)
        ]
        uow.automated.add_many(sends)
        uow.commit()
    return sends


def a_campaign(storage: Storage, clinic_id: int = 1) -> Campaign:
    campaign = Campaign(
        clinic_id=clinic_id,
        name="December reminders",
        body="Hi {{first_name}}, see you {{appointment}}. Reply STOP to opt out.",
        send_at=NOW,
        total=3,
        max_segments=1,
        created_by_id=101,
        created_at=NOW - timedelta(days=1),
    )
    with storage.uow() as uow:
        uow.campaigns.add(campaign)
        uow.commit()
    return campaign


def change(storage: Storage, send: AutomatedSms, move: Callable[[AutomatedSms], None]) -> None:
    """Lock ``send``, apply ``move`` to it and write it back, in a unit of work of its own."""
    assert send.id is not None
    with storage.uow() as uow:
        locked = uow.automated.lock(send.id)
        assert locked is not None
        move(locked)
        uow.automated.update(locked)
        uow.commit()


def locked(storage: Storage, automated_sms_id: int | None) -> AutomatedSms:
    assert automated_sms_id is not None
    with storage.uow() as uow:
        found = uow.automated.lock(automated_sms_id)
    assert found is not None
    return found


def message(storage: Storage, sms_id: int | None) -> TextMessage:
    assert sms_id is not None
    with storage.uow() as uow:
        found = uow.messages.get(sms_id)
    assert found is not None
    return found


def take_due(storage: Storage, now: datetime = NOW, limit: int = 10) -> list[int]:
    with storage.uow() as uow:
        taken = uow.automated.take_due(now, now - LEASE, limit)
        uow.commit()
    return taken


def ids(sends: list[AutomatedSms]) -> list[int | None]:
    return [send.id for send in sends]


# --- text messages added together ----------------------------------------------------------------


def test_messages_added_together_get_ids_in_order_each_naming_its_own_message(
    storage: Storage,
) -> None:
    earlier = a_message(100)
    together = [a_message(200 + n, f"Reminder {n}") for n in range(5)]

    with storage.uow() as uow:
        uow.messages.add(earlier)
        uow.messages.add_many(together)
        uow.commit()

    assert earlier.id is not None
    assert [m.id for m in together] == list(range(earlier.id + 1, earlier.id + 6))
    for added in together:
        read = message(storage, added.id)
        assert (read.patient_id, read.body, read.status, read.send_at) == (
            added.patient_id,
            added.body,
            SmsStatus.SCHEDULED,
            NOW,
        )


def test_adding_no_messages_or_sends_together_stores_nothing(storage: Storage) -> None:
    with storage.uow() as uow:
        uow.messages.add_many([])
        uow.automated.add_many([])
        uow.commit()

    assert schedule(storage, NOW)[0].id == 1


# --- opt-outs of many numbers at once ------------------------------------------------------------

A, B, C, D, E, F = (PhoneNumber(f"+1805555010{n}") for n in range(6))


def record_consent(storage: Storage) -> None:
    """A opted out of clinic 1; B opted out then in; C never said anything; D opted out of
    clinic 2 only; E out of the shared number; F opted in, then out."""
    entries = [
        (A, 1, ConsentAction.OPT_OUT),
        (B, 1, ConsentAction.OPT_OUT),
        (B, 1, ConsentAction.OPT_IN),
        (D, 2, ConsentAction.OPT_OUT),
        (E, None, ConsentAction.OPT_OUT),
        (F, 1, ConsentAction.OPT_IN),
        (F, 1, ConsentAction.OPT_OUT),
    ]
    with storage.uow() as uow:
        for n, (phone, clinic_id, action) in enumerate(entries):
            uow.consent.append(
                ConsentEntry(
                    phone, clinic_id, action, ConsentSource.KEYWORD, NOW + timedelta(minutes=n)
                )
            )
        uow.commit()


def test_opted_out_names_the_numbers_whose_latest_entry_with_the_clinic_is_an_opt_out(
    storage: Storage,
) -> None:
    record_consent(storage)

    with storage.uow() as uow:
        of_clinic = uow.consent.opted_out([A, B, C, D, E, F], 1)
        of_shared_number = uow.consent.opted_out([A, B, C, D, E, F], None)
        of_none = uow.consent.opted_out([], 1)

    assert (of_clinic, of_shared_number, of_none) == ({A, F}, {E}, set())


@pytest.mark.parametrize("clinic_id", [1, None])
def test_opted_out_agrees_with_the_check_of_a_single_send(
    storage: Storage, clinic_id: int | None
) -> None:
    record_consent(storage)

    with storage.uow() as uow:
        opted_out = uow.consent.opted_out([A, B, C, D, E, F], clinic_id)
        sendable = set()
        for phone in (A, B, C, D, E, F):
            sms = TextMessage.outbound(
                clinic_id=1,
                patient_id=123,
                to=phone,
                from_=CLINIC_NUMBER,
                body=SmsBody("Hello"),
                sent_by_id=101,
                at=NOW,
            )
            if uow.messages.add_unless_opted_out(sms, clinic_id):
                sendable.add(phone)

    assert sendable == {A, B, C, D, E, F} - opted_out


# --- automated SMS -------------------------------------------------------------------------------


def test_automated_sms_added_together_read_back_as_added(storage: Storage) -> None:
    campaign = a_campaign(storage)
    sends = schedule(storage, NOW, NOW + timedelta(hours=1), campaign_id=campaign.id)

    with storage.uow() as uow:
        by_id = [uow.automated.lock(send.id or 0) for send in sends]
        by_sms = [uow.automated.lock_by_sms(send.sms_id or 0) for send in sends]

    assert [vars(found) for found in by_id] == [vars(send) for send in sends]
    assert [vars(found) for found in by_sms] == [vars(send) for send in sends]


def test_an_update_writes_back_what_the_worker_changed(storage: Storage) -> None:
    (send,) = schedule(storage, NOW)

    def handed_then_retried(s: AutomatedSms) -> None:
        s.hand_over(NOW)
        s.retry_later(NOW)  # scheduled again, in half a minute, and on no queue
        s.hand_over(NOW + timedelta(minutes=1))
        s.dispatched_at = NOW

    change(storage, send, handed_then_retried)

    found = locked(storage, send.id)
    assert (
        found.outcome,
        found.attempts,
        found.handed_at,
        found.due_at,
        found.dispatched_at,
    ) == (Outcome.SENT, 2, NOW + timedelta(minutes=1), NOW + timedelta(seconds=30), NOW)


def test_a_skip_is_written_back_with_its_reason(storage: Storage) -> None:
    (send,) = schedule(storage, NOW)

    change(storage, send, lambda s: s.skip(SkipReason.FREQUENCY_CAP))

    found = locked(storage, send.id)
    assert (found.outcome, found.skip_reason) == (Outcome.SKIPPED, "frequency_cap")


def test_a_change_not_written_back_is_not_kept(storage: Storage) -> None:
    (send,) = schedule(storage, NOW)
    assert send.id is not None

    with storage.uow() as uow:
        found = uow.automated.lock(send.id)
        assert found is not None
        found.cancel()
        uow.commit()

    assert locked(storage, send.id).outcome is Outcome.SCHEDULED


def test_nothing_is_locked_for_an_unknown_id_or_sms(storage: Storage) -> None:
    schedule(storage, NOW)

    with storage.uow() as uow:
        assert (uow.automated.lock(999), uow.automated.lock_by_sms(999)) == (None, None)


def test_handed_since_lists_the_patients_hand_overs_since_then_not_those_refused(
    storage: Storage,
) -> None:
    yesterday, old, refused, _waiting, week_ago = schedule(storage, *[NOW] * 5)
    (someone_elses,) = schedule(storage, NOW, patient_id=124)
    change(storage, yesterday, lambda s: s.hand_over(NOW - timedelta(days=1)))
    change(storage, old, lambda s: s.hand_over(WEEK_AGO - timedelta(seconds=1)))
    change(storage, refused, lambda s: (s.hand_over(NOW - timedelta(hours=2)), s.fail()))
    change(storage, week_ago, lambda s: s.hand_over(WEEK_AGO))
    change(storage, someone_elses, lambda s: s.hand_over(NOW - timedelta(hours=1)))

    with storage.uow() as uow:
        handed = uow.automated.handed_since(123, WEEK_AGO)

    assert handed == [WEEK_AGO, NOW - timedelta(days=1)]


# --- taking due ones for the queue ---------------------------------------------------------------


def test_take_due_takes_the_scheduled_ones_due_and_on_no_queue_oldest_first(
    storage: Storage,
) -> None:
    hours = [NOW - timedelta(hours=h) for h in range(6)]
    just_due, an_hour, _not_due, queued, lease_expired, skipped = schedule(
        storage, NOW, hours[1], NOW + timedelta(hours=1), hours[3], hours[4], hours[5]
    )
    change(storage, queued, lambda s: setattr(s, "dispatched_at", NOW - timedelta(minutes=1)))
    change(storage, lease_expired, lambda s: setattr(s, "dispatched_at", NOW - LEASE * 2))
    change(storage, skipped, lambda s: s.skip(SkipReason.OPTED_OUT))

    assert take_due(storage) == ids([lease_expired, an_hour, just_due])
    assert locked(storage, just_due.id).dispatched_at == NOW


def test_taken_ones_are_not_taken_again_until_their_lease_expires(storage: Storage) -> None:
    first, second = schedule(storage, NOW - timedelta(hours=1), NOW)
    taken = take_due(storage)

    again = take_due(storage, NOW + LEASE - timedelta(seconds=1))
    after_the_lease = take_due(storage, NOW + LEASE + timedelta(seconds=1))

    assert (taken, again, after_the_lease) == (ids([first, second]), [], ids([first, second]))


def test_take_due_takes_at_most_the_limit_the_oldest_first(storage: Storage) -> None:
    sends = schedule(storage, *[NOW - timedelta(minutes=m) for m in range(5)])

    assert take_due(storage, limit=2) == ids(sends[:2:-1][:2])
    assert take_due(storage, limit=2) == ids([sends[2], sends[1]])
    assert take_due(storage, limit=2) == ids([sends[0]])


def test_ones_taken_are_not_taken_again_until_their_lease_expires(storage: Storage) -> None:
    sends = schedule(storage, NOW, NOW)

    assert take_due(storage) == ids(sends)
    assert take_due(storage) == []
    assert take_due(storage, NOW + LEASE + timedelta(seconds=1)) == ids(sends)


# --- campaigns -----------------------------------------------------------------------------------


def test_canceling_a_campaign_cancels_its_scheduled_sms_and_nothing_else(storage: Storage) -> None:
    campaign, other_campaign = a_campaign(storage), a_campaign(storage)
    waiting, due, handed, skipped = schedule(storage, *[NOW] * 4, campaign_id=campaign.id)
    (others,) = schedule(storage, NOW, campaign_id=other_campaign.id)
    (scheduled_alone,) = schedule(storage, NOW)
    change(storage, handed, lambda s: s.hand_over(NOW))
    change(storage, skipped, lambda s: s.skip(SkipReason.OPTED_OUT))
    with storage.uow() as uow:
        no_phone = AutomatedSms(
            clinic_id=1, patient_id=125, sms_id=None, campaign_id=campaign.id, due_at=NOW
        )
        no_phone.skip(SkipReason.NO_PHONE_NUMBER)
        uow.automated.add_many([no_phone])
        uow.commit()
    at = NOW + timedelta(minutes=3)
    assert campaign.id is not None

    with storage.uow() as uow:
        canceled = uow.automated.cancel_campaign(campaign.id, at)
        uow.commit()
    with storage.uow() as uow:
        canceled_again = uow.automated.cancel_campaign(campaign.id, at)

    assert (canceled, canceled_again) == (2, 0)
    sends = [waiting, due, handed, skipped, no_phone, others, scheduled_alone]
    assert [locked(storage, s.id).outcome for s in sends] == [
        Outcome.CANCELED,
        Outcome.CANCELED,
        Outcome.SENT,
        Outcome.SKIPPED,
        Outcome.SKIPPED,
        Outcome.SCHEDULED,
        Outcome.SCHEDULED,
    ]
    their_sms = [message(storage, s.sms_id) for s in (waiting, due, others, scheduled_alone)]
    assert [(m.status, m.updated_at) for m in their_sms] == [
        (SmsStatus.CANCELED, at),
        (SmsStatus.CANCELED, at),
        (SmsStatus.SCHEDULED, NOW - timedelta(days=1)),
        (SmsStatus.SCHEDULED, NOW - timedelta(days=1)),
    ]


def test_a_campaign_is_locked_only_by_its_own_clinic(storage: Storage) -> None:
    campaign = a_campaign(storage, clinic_id=1)
    assert campaign.id is not None

    with storage.uow() as uow:
        own = uow.campaigns.lock(campaign.id, 1)
        other_clinics = uow.campaigns.lock(campaign.id, 2)

    assert own is not None
    assert vars(own) == vars(campaign)
    assert other_clinics is None


def test_a_campaigns_cancellation_is_written_back(storage: Storage) -> None:
    campaign = a_campaign(storage)
    assert campaign.id is not None

    with storage.uow() as uow:
        found = uow.campaigns.lock(campaign.id, 1)
        assert found is not None
        found.canceled_at = NOW
        uow.campaigns.update(found)
        uow.commit()

    summary = storage.campaign_views.campaign(campaign.id, 1)
    assert summary is not None
    assert summary.campaign.canceled_at == NOW


def test_a_campaigns_recipients_are_counted_once_each_by_outcome(storage: Storage) -> None:
    campaign = a_campaign(storage)
    assert campaign.id is not None
    sends = schedule(storage, *[NOW] * 6, campaign_id=campaign.id)
    schedule(storage, NOW, campaign_id=a_campaign(storage).id)  # another campaign's
    change(storage, sends[0], lambda s: s.hand_over(NOW))
    change(storage, sends[1], lambda s: s.hand_over(NOW))
    change(storage, sends[2], lambda s: s.skip(SkipReason.OPTED_OUT))
    change(storage, sends[3], lambda s: s.fail())
    change(storage, sends[4], lambda s: s.cancel())

    summary = storage.campaign_views.campaign(campaign.id, 1)

    assert summary is not None
    assert vars(summary.campaign) == vars(campaign)
    assert summary.counts == CampaignCounts(scheduled=1, sent=2, skipped=1, failed=1, canceled=1)


def test_a_campaign_without_recipients_counts_none(storage: Storage) -> None:
    campaign = a_campaign(storage)
    assert campaign.id is not None

    summary = storage.campaign_views.campaign(campaign.id, 1)

    assert summary is not None
    assert summary.counts == CampaignCounts()


def test_recipients_come_a_page_at_a_time_in_the_order_they_were_given(storage: Storage) -> None:
    campaign = a_campaign(storage)
    assert campaign.id is not None
    given = [305, 301, 304, 302, 303]
    sends = [schedule(storage, NOW, patient_id=p, campaign_id=campaign.id)[0] for p in given]
    change(storage, sends[1], lambda s: s.skip("missing_value:appointment"))

    pages = [
        storage.campaign_views.recipients(campaign.id, 1, PageRequest(number, 2))
        for number in (1, 2, 3, 4)
    ]

    assert [([r.patient_id for r in page], total) for page, total in pages] == [
        ([305, 301], 5),
        ([304, 302], 5),
        ([303], 5),
        ([], 5),
    ]
    assert pages[0][0] == [
        Recipient(305, sends[0].sms_id, Outcome.SCHEDULED, None),
        Recipient(301, sends[1].sms_id, Outcome.SKIPPED, "missing_value:appointment"),
    ]


def test_another_clinics_campaign_is_not_found_nor_its_recipients(storage: Storage) -> None:
    campaign = a_campaign(storage, clinic_id=1)
    assert campaign.id is not None
    schedule(storage, NOW, campaign_id=campaign.id)

    assert storage.campaign_views.campaign(campaign.id, 2) is None
    assert storage.campaign_views.recipients(campaign.id, 2, PageRequest(1, 25)) == ([], 0)
    assert storage.campaign_views.campaign(999, 1) is None


# --- the sending limits as settings --------------------------------------------------------------


def test_a_patients_time_zone_is_kept_and_may_be_taken_away(storage: Storage) -> None:
    in_new_york = Patient(id=123, clinic_id=1, phones=(PATIENT_PHONE,), timezone="America/New_York")
    storage.patients.upsert(in_new_york)
    kept = storage.patients.find(123, 1)
    storage.patients.upsert(Patient(id=123, clinic_id=1, phones=(PATIENT_PHONE,)))

    assert kept == in_new_york
    found = storage.patients.find(123, 1)
    assert found is not None
    assert found.timezone is None


def test_a_clinics_limits_are_kept_and_may_be_put_back_to_the_defaults(storage: Storage) -> None:
    narrowed = Clinic(
        1, "Harbor", send_window=SendWindow(time(9), time(20, 30)), caps=FrequencyCaps(2, 5)
    )
    storage.clinics.upsert(narrowed)
    kept = storage.clinics.get(1)
    storage.clinics.upsert(Clinic(1, "Harbor"))

    assert kept == narrowed
    found = storage.clinics.get(1)
    assert found is not None
    assert (found.send_window, found.caps) == (SendWindow(), FrequencyCaps())


# --- what only the databases show ----------------------------------------------------------------


@pytest.mark.both_databases
def test_many_messages_added_together_take_a_few_statements_each_id_its_own(
    container: Container,
) -> None:
    together = [a_message(1000 + n, f"Reminder {n}") for n in range(1200)]  # several batches

    with container.uow() as uow, counting_statements(container.engine()) as log:
        uow.messages.add_many(together)
        uow.commit()

    t = tables.text_messages
    with container.engine().connect() as connection:
        stored = dict(connection.execute(select(t.c.id, t.c.patient_id)).all())
    assert len(log) <= 4, str(log)  # not one per message
    assert {m.id: m.patient_id for m in together} == stored


@pytest.mark.both_databases
def test_opted_out_answers_for_more_numbers_than_one_statement_names(
    container: Container,
) -> None:
    phones = [PhoneNumber(f"+1805555{n:04d}") for n in range(VALUES_PER_QUERY + 100)]
    with container.uow() as uow:
        for phone in (phones[0], phones[-1]):
            uow.consent.append(
                ConsentEntry(phone, 1, ConsentAction.OPT_OUT, ConsentSource.KEYWORD, NOW)
            )
        uow.commit()

    with container.uow() as uow:
        assert uow.consent.opted_out(phones, 1) == {phones[0], phones[-1]}


@pytest.mark.both_databases
def test_limits_at_the_defaults_are_stored_as_null_and_null_reads_as_the_defaults(
    container: Container,
) -> None:
    container.sql_clinics().upsert(Clinic(1, "Harbor", caps=FrequencyCaps(1, 5)))
    c = tables.clinics
    with container.engine().begin() as connection:
        connection.execute(
            insert(c).values(id=2, name="Mesa", timezone="America/Denver", updated_at=NOW)
        )
        stored = connection.execute(
            select(c.c.send_window, c.c.daily_cap, c.c.weekly_cap).where(c.c.id == 1)
        ).one()

    assert tuple(stored) == (None, None, 5)
    mesa = container.sql_clinics().get(2)
    assert mesa is not None
    assert (mesa.send_window, mesa.caps) == (SendWindow(), FrequencyCaps())


def postgres_only() -> pytest.MarkDecorator:
    return pytest.mark.parametrize(
        "database_url", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
    )


def sql_storage(container: Container) -> Storage:
    return Storage(
        container.uow, container.campaign_views(), container.sql_patients(), container.sql_clinics()
    )


@postgres_only()
def test_two_transactions_taking_due_ones_at_once_get_different_ones(
    container: Container,
) -> None:
    sends = schedule(sql_storage(container), *[NOW - timedelta(minutes=m) for m in range(6)])

    taken_second: list[int] = []

    def second() -> None:
        with container.uow() as uow:
            taken_second.extend(uow.automated.take_due(NOW, NOW - LEASE, 3))
            uow.commit()

    with container.uow() as first:
        taken_first = first.automated.take_due(NOW, NOW - LEASE, 3)
        thread = threading.Thread(target=second)
        thread.start()
        # The first has not committed: its rows are locked, and skipped rather than waited for.
        thread.join(timeout=30)
        second_finished_meanwhile = not thread.is_alive()
        first.commit()
    thread.join(timeout=30)

    assert second_finished_meanwhile
    assert (taken_first, taken_second) == (ids(sends[:2:-1]), ids(sends[2::-1]))


def waiting_for_patient(engine: Engine, patient_id: int) -> bool:
    """Whether some transaction waits for the advisory lock of ``hold_patient(patient_id)``."""
    query = text(
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
        " AND classid::bigint = :space AND objid::bigint = :key AND objsubid = 2"
    )
    with engine.connect() as connection:
        return bool(
            connection.execute(query, {"space": PATIENT_LOCK_SPACE, "key": patient_id}).scalar()
        )


def wait_for(condition: Callable[[], bool]) -> None:
    for _ in range(1000):
        if condition():
            return
        threading.Event().wait(0.01)
    pytest.fail("the condition never came true")


@postgres_only()
def test_a_second_transaction_holding_the_same_patient_waits_until_the_first_commits(
    container: Container,
) -> None:
    (send,) = schedule(sql_storage(container), NOW)
    assert send.id is not None
    seen_by_second: list[list[datetime]] = []

    def second() -> None:
        with container.uow() as uow:
            uow.automated.hold_patient(123)
            seen_by_second.append(uow.automated.handed_since(123, WEEK_AGO))
            uow.commit()

    with container.uow() as first:
        first.automated.hold_patient(123)
        thread = threading.Thread(target=second)
        thread.start()
        wait_for(lambda: waiting_for_patient(container.engine(), 123))
        seen_while_held = list(seen_by_second)
        handed = first.automated.lock(send.id)
        assert handed is not None
        handed.hand_over(NOW)
        first.automated.update(handed)
        first.commit()
    thread.join(timeout=30)

    assert seen_while_held == []
    assert seen_by_second == [[NOW]]  # it read after the first's hand-over was committed


@postgres_only()
def test_holding_one_patient_does_not_hold_another(container: Container) -> None:
    finished = threading.Event()

    def second() -> None:
        with container.uow() as uow:
            uow.automated.hold_patient(124)
            uow.commit()
        finished.set()

    with container.uow() as first:
        first.automated.hold_patient(123)
        thread = threading.Thread(target=second)
        thread.start()
        finished_while_held = finished.wait(timeout=30)
        first.commit()
    thread.join(timeout=30)

    assert finished_while_held


@pytest.mark.both_databases
def test_two_senders_of_one_patient_at_once_hand_over_one_sms_under_a_daily_cap_of_one(
    container: Container,
) -> None:
    sends = schedule(sql_storage(container), NOW, NOW)
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def send_unless_capped(send: AutomatedSms) -> None:
        try:
            start.wait(timeout=30)
            with container.uow() as uow:
                uow.automated.hold_patient(123)
                if not uow.automated.handed_since(123, NOW - timedelta(days=1)):
                    mine = uow.automated.lock(send.id or 0)
                    assert mine is not None
                    mine.hand_over(NOW)
                    uow.automated.update(mine)
                uow.commit()
        except BaseException as error:  # reported in the test's own thread
            errors.append(error)

    threads = [threading.Thread(target=send_unless_capped, args=(s,)) for s in sends]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    outcomes = sorted(locked(sql_storage(container), s.id).outcome for s in sends)
    assert outcomes == [Outcome.SCHEDULED, Outcome.SENT]
