"""A patient's ECM activities and events through the read use cases, on the in-memory fakes:
newest first, filtered, in numbered pages, scoped to the reader's clinic, every bad value
named."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from ecm_comms.adapters.memory import (
    InMemoryActivityViews,
    InMemoryClinicDirectory,
    InMemoryPatientDirectory,
    InMemoryStore,
    InMemoryUnitOfWork,
)
from ecm_comms.domain.activities import Activity, ActivityStatus, Event
from ecm_comms.domain.channels import Channel, Direction
from ecm_comms.domain.clinics import Clinic
from ecm_comms.domain.commands import ListActivities, ListEvents
from ecm_comms.domain.communications import TextMessage, VoiceCall
from ecm_comms.domain.ecm_records import (
    ActivityEntry,
    DayRange,
    EventEntry,
    Page,
    Problems,
)
from ecm_comms.domain.errors import InvalidInput, PatientNotFound
from ecm_comms.domain.people import Patient, User
from ecm_comms.domain.phone_numbers import PhoneNumber
from ecm_comms.domain.reporting import PrtfCategory
from ecm_comms.domain.sms_bodies import SmsBody
from ecm_comms.domain.statuses import CallStatus
from ecm_comms.domain.use_cases.ecm_records import ListActivitiesHandler, ListEventsHandler

DANA = User(id=101, clinic_id=1, name="Dana Coordinator")
LEE = User(id=102, clinic_id=1, name="Lee Coordinator")
SAM = User(id=201, clinic_id=2, name="Sam Otherclinic")
PAT_PHONE = PhoneNumber("+18051234567")
CLINIC_LINE = PhoneNumber("+18059876543")
PAT = Patient(id=123, clinic_id=1, phones=(PAT_PHONE,), coordinator_id=DANA.id)
KIM = Patient(id=124, clinic_id=1, phones=(PhoneNumber("+18055550124"),))
THEIRS = Patient(id=456, clinic_id=2, phones=(PhoneNumber("+18055550456"),))
# Midnight starting July 1 in Los Angeles (PDT, UTC-7).
JULY_1_LA = datetime(2024, 7, 1, 7, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)


@dataclass
class Record:
    """A store filled directly: each SMS or call with its activity and event, a minute apart."""

    store: InMemoryStore = field(default_factory=InMemoryStore)
    at: datetime = JULY_1_LA + timedelta(hours=10)
    sids: int = 0

    def _next(self, at: datetime | None) -> datetime:
        if at is not None:
            return at
        self.at += MINUTE
        return self.at

    def _sid(self, prefix: str) -> str:
        self.sids += 1
        return f"{prefix}{self.sids:032x}"

    def _keep(
        self,
        record: TextMessage | VoiceCall,
        by: User | None,
        assigned_to: int | None,
        status: ActivityStatus,
        clinic_id: int | None,
    ) -> Activity:
        with InMemoryUnitOfWork(self.store) as uow:
            if isinstance(record, TextMessage):
                uow.messages.add(record)
            else:
                uow.calls.add(record)
            activity = Activity.for_communication(
                record,
                performed_by_id=by.id if by else None,
                assigned_to_id=assigned_to,
            )
            activity.status = status
            if clinic_id is not None:
                activity.clinic_id = clinic_id
            uow.activities.add(activity)
            uow.events.add(Event.for_activity(activity))
            uow.commit()
        return activity

    def text(
        self,
        patient: Patient = PAT,
        body: str = "See you Tuesday",
        *,
        by: User = DANA,
        assigned_to: int | None = DANA.id,
        status: ActivityStatus = ActivityStatus.CREATED,
        at: datetime | None = None,
        clinic_id: int | None = None,
    ) -> Activity:
        message = TextMessage.outbound(
            clinic_id=patient.clinic_id,
            patient_id=patient.id,
            to=patient.phones[0],
            from_=CLINIC_LINE,
            body=SmsBody(body),
            sent_by_id=by.id,
            at=self._next(at),
        )
        return self._keep(message, by, assigned_to, status, clinic_id)

    def reply(self, patient: Patient = PAT, body: str = "Yes, thank you") -> Activity:
        message = TextMessage.inbound(
            twilio_sid=self._sid("SM"),
            clinic_id=patient.clinic_id,
            patient_id=patient.id,
            from_=patient.phones[0],
            to=CLINIC_LINE,
            body=SmsBody(body),
            at=self._next(None),
        )
        return self._keep(message, None, patient.coordinator_id, ActivityStatus.CREATED, None)

    def call(
        self,
        status: CallStatus = CallStatus.QUEUED,
        seconds: int | None = None,
        patient: Patient = PAT,
        *,
        inbound: bool = False,
    ) -> Activity:
        at = self._next(None)
        if inbound:
            call = VoiceCall.inbound(
                twilio_sid=self._sid("CA"),
                clinic_id=patient.clinic_id,
                patient_id=patient.id,
                from_=patient.phones[0],
                to=CLINIC_LINE,
                status=CallStatus.RINGING,
                at=at,
            )
        else:
            call = VoiceCall.outbound(
                clinic_id=patient.clinic_id,
                patient_id=patient.id,
                to=patient.phones[0],
                from_=CLINIC_LINE,
                sent_by_id=DANA.id,
                at=at,
            )
        if status is not call.status:
            call.apply_status(status, at, duration_seconds=seconds)
        by = None if inbound else DANA
        return self._keep(call, by, DANA.id, ActivityStatus.CREATED, None)

    def activities(self, query: ListActivities) -> Page[ActivityEntry]:
        handler = ListActivitiesHandler(
            InMemoryActivityViews(self.store), InMemoryPatientDirectory((PAT, KIM, THEIRS))
        )
        return handler(query)

    def events(
        self, query: ListEvents, clinics: tuple[Clinic, ...] = (), encounter_seconds: int = 60
    ) -> Page[EventEntry]:
        handler = ListEventsHandler(
            InMemoryActivityViews(self.store),
            InMemoryPatientDirectory((PAT, KIM, THEIRS)),
            InMemoryClinicDirectory(clinics),
            encounter_seconds,
        )
        return handler(query)


@pytest.fixture
def record() -> Record:
    return Record()


def ids(page: Page[ActivityEntry]) -> list[int | None]:
    return [entry.activity.id for entry in page.items]


def problems_of(error: pytest.ExceptionInfo[InvalidInput]) -> dict[str | None, str]:
    return dict(zip(error.value.fields, error.value.messages, strict=True))


# --- activities -------------------------------------------------------------------------------


def test_activities_come_newest_first_with_direction_body_and_when_they_occurred(
    record: Record,
) -> None:
    texted = record.text(body="See you Tuesday")
    called = record.call()
    replied = record.reply(body="Yes, thank you")

    page = record.activities(ListActivities(PAT.id, DANA))

    assert ids(page) == [replied.id, called.id, texted.id]
    newest, call, sms = page.items
    assert (newest.direction, newest.body) == (Direction.INBOUND, "Yes, thank you")
    assert newest.activity.performed_by_id is None
    assert (call.direction, call.body) == (Direction.OUTBOUND, None)
    assert (sms.direction, sms.body) == (Direction.OUTBOUND, "See you Tuesday")
    assert sms.occurred_at == texted.created_at


def test_activities_of_the_same_moment_come_by_id_newest_first(record: Record) -> None:
    moment = JULY_1_LA + timedelta(hours=12)
    first = record.text(at=moment)
    second = record.text(at=moment)

    assert ids(record.activities(ListActivities(PAT.id, DANA))) == [second.id, first.id]


def test_activities_are_only_the_patients_with_the_readers_clinic(record: Record) -> None:
    mine = record.text()
    record.text(KIM)
    record.text(clinic_id=2)  # recorded for patient 123 by another clinic

    page = record.activities(ListActivities(PAT.id, DANA))

    assert ids(page) == [mine.id]
    assert page.total_count == 1


def test_activities_filter_by_type(record: Record) -> None:
    record.text()
    called = record.call()

    page = record.activities(ListActivities(PAT.id, DANA, activity_type="call"))

    assert ids(page) == [called.id]


def test_activities_filter_by_who_they_are_assigned_to(record: Record) -> None:
    record.text(assigned_to=DANA.id)
    for_lee = record.text(assigned_to=LEE.id)
    record.text(assigned_to=None)

    page = record.activities(ListActivities(PAT.id, DANA, assigned_to_id=LEE.id))

    assert ids(page) == [for_lee.id]


def test_activities_filter_by_status(record: Record) -> None:
    record.text()
    cancelled = record.text(status=ActivityStatus.CANCELLED)

    assert ids(record.activities(ListActivities(PAT.id, DANA, status="cancelled"))) == [
        cancelled.id
    ]
    assert ids(record.activities(ListActivities(PAT.id, DANA, status="complete"))) == []


def test_the_filters_combine(record: Record) -> None:
    record.call()
    record.text(assigned_to=LEE.id, status=ActivityStatus.COMPLETE)
    wanted = record.text(assigned_to=LEE.id)

    page = record.activities(
        ListActivities(PAT.id, DANA, activity_type="sms", assigned_to_id=LEE.id, status="created")
    )

    assert ids(page) == [wanted.id]


def test_activities_come_25_to_a_page_by_default(record: Record) -> None:
    for _ in range(26):
        record.text()

    page = record.activities(ListActivities(PAT.id, DANA))

    assert len(page.items) == 25
    assert (page.request.number, page.request.size) == (1, 25)
    assert (page.total_count, page.total_pages) == (26, 2)


def test_a_later_page_holds_the_older_activities(record: Record) -> None:
    made = [record.text().id for _ in range(5)]

    page = record.activities(ListActivities(PAT.id, DANA, page=2, page_size=2))

    assert ids(page) == [made[2], made[1]]
    assert (page.total_count, page.total_pages) == (5, 3)


def test_a_page_past_the_end_is_empty_with_the_counts(record: Record) -> None:
    for _ in range(3):
        record.text()

    page = record.activities(ListActivities(PAT.id, DANA, page=3, page_size=2))

    assert page.items == []
    assert (page.request.number, page.total_count, page.total_pages) == (3, 3, 2)


def test_a_patient_with_no_activities_has_no_pages(record: Record) -> None:
    page = record.activities(ListActivities(PAT.id, DANA))

    assert (page.items, page.total_count, page.total_pages) == ([], 0, 0)


@pytest.mark.parametrize(
    ("asked", "field", "message"),
    [
        ({"page": 0}, "page", "page must be 1 or more"),
        ({"page_size": 0}, "page_size", "page_size must be between 1 and 100"),
        ({"page_size": 101}, "page_size", "page_size must be between 1 and 100"),
        ({"activity_type": "email"}, "activity_type", "activity_type must be sms or call"),
        ({"status": "done"}, "status", "status must be created, complete or cancelled"),
    ],
)
def test_a_bad_activities_parameter_is_refused_naming_it(
    record: Record, asked: dict[str, object], field: str, message: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        record.activities(ListActivities(PAT.id, DANA, **asked))  # type: ignore[arg-type]

    assert problems_of(refused) == {field: message}


def test_every_bad_activities_parameter_is_named_at_once(record: Record) -> None:
    with pytest.raises(InvalidInput) as refused:
        record.activities(ListActivities(PAT.id, DANA, page=0, page_size=500, status="x"))

    assert set(problems_of(refused)) == {"page", "page_size", "status"}


def test_another_clinics_patient_has_no_activities_to_list(record: Record) -> None:
    record.text(THEIRS)

    with pytest.raises(PatientNotFound):
        record.activities(ListActivities(THEIRS.id, DANA))


def test_an_unknown_patient_has_no_activities_to_list(record: Record) -> None:
    with pytest.raises(PatientNotFound):
        record.activities(ListActivities(999, DANA))


def test_bad_values_are_refused_before_the_patient_is_looked_up(record: Record) -> None:
    with pytest.raises(InvalidInput):
        record.activities(ListActivities(THEIRS.id, DANA, page=0))


# --- events -----------------------------------------------------------------------------------


def test_events_come_newest_first_with_their_activities(record: Record) -> None:
    texted = record.text()
    replied = record.reply()

    page = record.events(ListEvents(PAT.id, DANA))

    assert [entry.row.activity_id for entry in page.items] == [replied.id, texted.id]
    newest = page.items[0].row
    assert (newest.patient_id, newest.channel) == (PAT.id, Channel.SMS)
    assert newest.occurred_at == replied.created_at


def test_each_event_carries_its_prtf_category(record: Record) -> None:
    record.text()
    record.reply()
    record.call(CallStatus.COMPLETED, 60)
    record.call(CallStatus.COMPLETED, 59)
    record.call(CallStatus.NO_ANSWER)
    record.call(CallStatus.COMPLETED, 300, inbound=True)
    record.call(CallStatus.BUSY, inbound=True)

    page = record.events(ListEvents(PAT.id, DANA))

    assert [entry.category for entry in reversed(page.items)] == [
        PrtfCategory.OUTREACH,  # outbound SMS
        PrtfCategory.RESPONSE,  # inbound SMS
        PrtfCategory.ENCOUNTER,  # a completed call of the minimum length
        PrtfCategory.OUTREACH,  # a short call
        PrtfCategory.OUTREACH,  # no answer
        PrtfCategory.ENCOUNTER,  # a long inbound call
        PrtfCategory.RESPONSE,  # any other inbound call
    ]


def test_the_encounter_length_is_the_configured_one(record: Record) -> None:
    record.call(CallStatus.COMPLETED, 45)

    (entry,) = record.events(ListEvents(PAT.id, DANA), encounter_seconds=30).items

    assert entry.category is PrtfCategory.ENCOUNTER


def test_events_filter_by_type(record: Record) -> None:
    record.text()
    called = record.call()

    page = record.events(ListEvents(PAT.id, DANA, event_type="call"))

    assert [entry.row.activity_id for entry in page.items] == [called.id]


def test_dates_are_calendar_days_in_the_default_zone_both_ends_included(record: Record) -> None:
    record.text(at=JULY_1_LA - MINUTE)  # June 30, 23:59 in Los Angeles
    first = record.text(at=JULY_1_LA)
    last = record.text(at=JULY_1_LA + timedelta(days=2) - MINUTE)  # July 2, 23:59
    record.text(at=JULY_1_LA + timedelta(days=2))  # July 3

    page = record.events(ListEvents(PAT.id, DANA, start_date="2024-07-01", end_date="2024-07-02"))

    assert [entry.row.activity_id for entry in page.items] == [last.id, first.id]


def test_dates_are_calendar_days_in_the_clinics_own_zone(record: Record) -> None:
    new_york = Clinic(id=1, name="East Clinic", timezone="America/New_York")
    july_1_ny = datetime(2024, 7, 1, 4, 0, tzinfo=UTC)
    record.text(at=july_1_ny - MINUTE)
    first = record.text(at=july_1_ny)

    page = record.events(ListEvents(PAT.id, DANA, start_date="2024-07-01"), clinics=(new_york,))

    assert [entry.row.activity_id for entry in page.items] == [first.id]


def test_either_end_of_the_dates_may_be_left_open(record: Record) -> None:
    before = record.text(at=JULY_1_LA - MINUTE)
    after = record.text(at=JULY_1_LA)

    until_june = record.events(ListEvents(PAT.id, DANA, end_date="2024-06-30"))
    from_july = record.events(ListEvents(PAT.id, DANA, start_date="2024-07-01"))

    assert [entry.row.activity_id for entry in until_june.items] == [before.id]
    assert [entry.row.activity_id for entry in from_july.items] == [after.id]


def test_events_are_paged_like_activities(record: Record) -> None:
    for _ in range(5):
        record.text()

    page = record.events(ListEvents(PAT.id, DANA, page=3, per_page=2))

    assert len(page.items) == 1
    assert (page.request.size, page.total_count, page.total_pages) == (2, 5, 3)


@pytest.mark.parametrize(
    ("asked", "field", "message"),
    [
        ({"page": 0}, "page", "page must be 1 or more"),
        ({"per_page": 101}, "per_page", "per_page must be between 1 and 100"),
        ({"event_type": "visit"}, "event_type", "event_type must be sms or call"),
        ({"start_date": "07/01/2024"}, "start_date", "start_date must be a date as YYYY-MM-DD"),
        ({"end_date": "2024-02-30"}, "end_date", "end_date must be a date as YYYY-MM-DD"),
        (
            {"start_date": "2024-07-02", "end_date": "2024-07-01"},
            "start_date",
            "start_date must not be after end_date",
        ),
    ],
)
def test_a_bad_events_parameter_is_refused_naming_it(
    record: Record, asked: dict[str, object], field: str, message: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        record.events(ListEvents(PAT.id, DANA, **asked))  # type: ignore[arg-type]

    assert problems_of(refused) == {field: message}


def test_another_clinics_patient_has_no_events_to_list(record: Record) -> None:
    record.text(THEIRS)

    with pytest.raises(PatientNotFound):
        record.events(ListEvents(THEIRS.id, DANA))


def test_days_at_the_ends_of_the_calendar_are_open_ended_instants() -> None:
    problems = Problems()
    days = DayRange.parse("0001-01-01", "9999-12-31", problems)
    problems.raise_any()

    since, until = days.utc_bounds(ZoneInfo("Asia/Tokyo"))

    assert since == datetime.min.replace(tzinfo=UTC)
    assert until == datetime.max.replace(tzinfo=UTC)
    assert days == DayRange(date(1, 1, 1), date(9999, 12, 31))
