"""The outreach detail on the in-memory fakes: one row of cells per event, the request checked
before anything is read, and the rows produced as the view's stream is read."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from ecm_comms.adapters.memory import (
    InMemoryClinicDirectory,
    InMemoryPatientDirectory,
    InMemoryReportViews,
    InMemoryStore,
    InMemoryUnitOfWork,
    InMemoryUserDirectory,
)
from ecm_comms.domain.activities import Activity, Event
from ecm_comms.domain.channels import Channel, Direction
from ecm_comms.domain.clinics import Clinic
from ecm_comms.domain.commands import GetOutreachDetail
from ecm_comms.domain.communications import TextMessage, VoiceCall
from ecm_comms.domain.errors import AdminRequired, InvalidInput
from ecm_comms.domain.people import Patient, Role, User
from ecm_comms.domain.phone_numbers import PhoneNumber
from ecm_comms.domain.reporting import EventRow
from ecm_comms.domain.sms_bodies import SmsBody
from ecm_comms.domain.statuses import CallStatus
from ecm_comms.domain.use_cases.outreach_detail import (
    HEADER,
    OutreachDetailHandler,
    spreadsheet_safe,
)

ADA = User(id=100, clinic_id=1, name="Ada Admin", role=Role.ADMIN)
DANA = User(id=101, clinic_id=1, name="Dana Coordinator")
EVE = User(id=102, clinic_id=1, name="=HYPERLINK(1)")
OTHER_ADMIN = User(id=200, clinic_id=2, name="Olga Otheradmin", role=Role.ADMIN)
PAT_PHONE = PhoneNumber("+18051234567")
CLINIC_LINE = PhoneNumber("+18059876543")
PAT = Patient(id=123, clinic_id=1, phones=(PAT_PHONE,), coordinator_id=101, member_id="91234567A")
THEIRS = Patient(id=223, clinic_id=2, phones=(PhoneNumber("+18055550223"),), member_id="9X")
# Clinic 1 keeps New York time: 2024-07-01 00:05 there is 04:05 UTC.
HARBOR = Clinic(id=1, name="Harbor Health", timezone="America/New_York")
NEW_YORK = ZoneInfo("America/New_York")
SID_PREFIXES = {Channel.SMS: "SM", Channel.CALL: "CA"}


class Record:
    """Puts SMS and calls on record with their activities and events, as the service does."""

    def __init__(self, store: InMemoryStore) -> None:
        self.store = store
        self._sids = 0

    def _sid(self, prefix: str) -> str:
        self._sids += 1
        return f"{prefix}{self._sids:032x}"

    def add(
        self,
        record: TextMessage | VoiceCall,
        performed_by: User | None,
        assigned_to: User | None,
    ) -> tuple[int, int]:
        if record.twilio_sid is None:
            record.twilio_sid = self._sid(SID_PREFIXES[record.CHANNEL])
        with InMemoryUnitOfWork(self.store) as uow:
            uow.records(record.CHANNEL).add(record)
            activity = Activity.for_communication(
                record,
                performed_by_id=performed_by.id if performed_by else None,
                assigned_to_id=assigned_to.id if assigned_to else None,
            )
            uow.activities.add(activity)
            event = Event.for_activity(activity)
            uow.events.add(event)
            uow.commit()
        assert activity.id is not None
        assert event.id is not None
        return event.id, activity.id

    def text(self, at: datetime, by: User = DANA, patient: Patient = PAT) -> tuple[int, int]:
        message = TextMessage.outbound(
            clinic_id=patient.clinic_id,
            patient_id=patient.id,
            to=patient.phones[0],
            from_=CLINIC_LINE,
            body=SmsBody("Reminder"),
            sent_by_id=by.id,
            at=at,
        )
        return self.add(message, by, by)

    def reply(self, at: datetime) -> tuple[int, int]:
        message = TextMessage.inbound(
            twilio_sid=self._sid("SM"),
            clinic_id=1,
            patient_id=PAT.id,
            from_=PAT_PHONE,
            to=CLINIC_LINE,
            body=SmsBody("Yes"),
            at=at,
        )
        return self.add(message, None, DANA)

    def call(
        self, at: datetime, status: CallStatus, seconds: int | None, by: User = DANA
    ) -> tuple[int, int]:
        call = VoiceCall.outbound(
            clinic_id=1, patient_id=PAT.id, to=PAT_PHONE, from_=CLINIC_LINE, sent_by_id=by.id, at=at
        )
        call.status = status
        call.duration_seconds = seconds
        return self.add(call, by, by)


@pytest.fixture
def store() -> InMemoryStore:
    return InMemoryStore()


@pytest.fixture
def record(store: InMemoryStore) -> Record:
    return Record(store)


def users() -> InMemoryUserDirectory:
    directory = InMemoryUserDirectory()
    for user in (ADA, DANA, EVE, OTHER_ADMIN):
        directory.add(user, f"digest-{user.id}")
    return directory


def handler(
    views: InMemoryReportViews | CountingViews,
    *,
    patients: InMemoryPatientDirectory | None = None,
    user_directory: InMemoryUserDirectory | None = None,
    min_seconds: int = 60,
) -> OutreachDetailHandler:
    return OutreachDetailHandler(
        views,
        InMemoryClinicDirectory((HARBOR,)),
        patients if patients is not None else InMemoryPatientDirectory((PAT, THEIRS)),
        user_directory if user_directory is not None else users(),
        encounter_min_call_seconds=min_seconds,
    )


def views_of(store: InMemoryStore) -> InMemoryReportViews:
    return InMemoryReportViews(store, InMemoryPatientDirectory((PAT, THEIRS)), users())


def july(clinic_id: int = 1, by: User | None = ADA) -> GetOutreachDetail:
    return GetOutreachDetail(clinic_id, "2024-07-01", "2024-07-31", requested_by=by)


def new_york(month: int, day: int, hour: int, minute: int) -> datetime:
    """A time of 2024 in New York, as the UTC instant stored."""
    return datetime(2024, month, day, hour, minute, tzinfo=NEW_YORK).astimezone(UTC)


def test_one_row_per_event_oldest_first_in_the_clinics_time(
    store: InMemoryStore, record: Record
) -> None:
    call = record.call(new_york(7, 3, 10, 0), CallStatus.COMPLETED, 312, by=EVE)
    text = record.text(new_york(7, 1, 0, 5))
    reply = record.reply(new_york(7, 2, 9, 30))
    short = record.call(new_york(7, 4, 11, 0), CallStatus.COMPLETED, 20)
    unanswered = record.call(new_york(7, 31, 23, 59), CallStatus.NO_ANSWER, None)

    detail = handler(views_of(store))(july())

    assert detail.period.start == date(2024, 7, 1)
    # fmt: off
    assert list(detail.rows) == [
        [*map(str, text), "123", "91234567A", "2024-07-01", "00:05", "Text", "Outbound",
         "Telehealth Outreach", "queued", "", "Dana Coordinator", "Dana Coordinator"],
        [*map(str, reply), "123", "91234567A", "2024-07-02", "09:30", "Text", "Inbound",
         "Member Response", "received", "", "", "Dana Coordinator"],
        [*map(str, call), "123", "91234567A", "2024-07-03", "10:00", "Telephonic", "Outbound",
         "Telehealth Encounter", "completed", "312", "'=HYPERLINK(1)", "'=HYPERLINK(1)"],
        [*map(str, short), "123", "91234567A", "2024-07-04", "11:00", "Telephonic", "Outbound",
         "Telehealth Outreach", "completed", "20", "Dana Coordinator", "Dana Coordinator"],
        [*map(str, unanswered), "123", "91234567A", "2024-07-31", "23:59", "Telephonic",
         "Outbound", "Telehealth Outreach", "no-answer", "", "Dana Coordinator",
         "Dana Coordinator"],
    ]
    # fmt: on
    assert len(HEADER) == 13


def test_the_period_is_days_in_the_clinics_zone_and_the_clinic_alone(
    store: InMemoryStore, record: Record
) -> None:
    record.text(new_york(6, 30, 23, 59))  # 03:59 UTC on July 1: still June there
    inside = record.text(new_york(7, 1, 0, 0))
    last = record.text(new_york(7, 31, 23, 59))  # August 1 in UTC
    record.text(new_york(8, 1, 0, 0))
    record.text(new_york(7, 10, 12, 0), by=OTHER_ADMIN, patient=THEIRS)

    rows = list(handler(views_of(store))(july()).rows)

    assert [row[0] for row in rows] == [str(inside[0]), str(last[0])]


def test_the_encounter_threshold_is_the_settings(store: InMemoryStore, record: Record) -> None:
    record.call(new_york(7, 4, 11, 0), CallStatus.COMPLETED, 20)

    (row,) = handler(views_of(store), min_seconds=20)(july()).rows

    assert row[HEADER.index("PRTF Category")] == "Telehealth Encounter"


class CountingViews:
    """A report view that says how far its stream was read."""

    def __init__(self, rows: list[EventRow]) -> None:
        self.rows = rows
        self.asked = 0
        self.read = 0

    def events(self, clinic_id: int, since: datetime, until: datetime) -> Iterator[EventRow]:
        self.asked += 1
        for row in self.rows:
            self.read += 1
            yield row


def event_row(event_id: int, **changes: object) -> EventRow:
    row = EventRow(
        event_id=event_id,
        activity_id=event_id,
        patient_id=PAT.id,
        channel=Channel.SMS,
        direction=Direction.OUTBOUND,
        status="sent",
        duration_seconds=None,
        occurred_at=new_york(7, 2, 8, 0),
        performed_by_id=DANA.id,
        assigned_to_id=DANA.id,
    )
    return replace(row, **changes)  # type: ignore[arg-type]


def test_rows_are_produced_as_the_stream_is_read() -> None:
    views = CountingViews([event_row(number) for number in range(1, 1001)])

    detail = handler(views)(july())

    # The first row is read before the answer starts (an unreadable database is refused then).
    assert views.read == 1
    next(detail.rows)
    next(detail.rows)
    assert views.read == 2
    assert sum(1 for _ in detail.rows) == 998
    assert views.read == 1000


@pytest.mark.parametrize(
    "query",
    [
        july(by=DANA),  # a coordinator
        july(by=OTHER_ADMIN),  # an admin, of another clinic
        july(clinic_id=2),  # an admin asking for another clinic's
    ],
)
def test_only_an_admin_of_the_clinic_gets_it_and_nothing_is_read_first(
    query: GetOutreachDetail,
) -> None:
    views = CountingViews([event_row(1)])

    with pytest.raises(AdminRequired, match="Admin role required"):
        handler(views)(query)

    assert views.asked == 0


def test_a_coordinator_is_refused_before_the_dates_are_read() -> None:
    with pytest.raises(AdminRequired):
        handler(CountingViews([]))(GetOutreachDetail(1, "x", None, requested_by=DANA))


@pytest.mark.parametrize(
    ("start", "end", "problems"),
    [
        (None, None, {"start_date": "is required", "end_date": "is required"}),
        ("2024-07-01", "", {"end_date": "is required"}),
        ("2024-7-1", "2024-07-31", {"start_date": "must be a date as YYYY-MM-DD"}),
        ("2024-07-01", "2024-02-30", {"end_date": "must be a date as YYYY-MM-DD"}),
        ("2024-08-01", "2024-07-31", {"start_date": "must not be after end_date"}),
    ],
)
def test_bad_dates_are_refused_naming_the_parameter(
    start: str | None, end: str | None, problems: dict[str, str]
) -> None:
    views = CountingViews([])

    with pytest.raises(InvalidInput) as refused:
        handler(views)(GetOutreachDetail(1, start, end, requested_by=ADA))

    assert dict(zip(refused.value.fields, refused.value.messages, strict=True)) == {
        field: f"{field} {complaint}" for field, complaint in problems.items()
    }
    assert views.asked == 0


def test_the_command_line_names_its_own_options() -> None:
    with pytest.raises(InvalidInput) as refused:
        handler(CountingViews([]))(
            GetOutreachDetail(1, "July", "2024-07-31", fields=("start", "end"))
        )

    assert refused.value.fields == ["start"]
    assert refused.value.messages == ["start must be a date as YYYY-MM-DD"]


def test_the_command_line_needs_no_user() -> None:
    detail = handler(CountingViews([event_row(1)]))(
        GetOutreachDetail(1, "2024-07-01", "2024-07-31")
    )

    assert len(list(detail.rows)) == 1


class CountingPatients(InMemoryPatientDirectory):
    def __init__(self, patients: tuple[Patient, ...]) -> None:
        super().__init__(patients)
        self.asked: list[int] = []

    def find(self, patient_id: int, clinic_id: int) -> Patient | None:
        self.asked.append(patient_id)
        return super().find(patient_id, clinic_id)


class CountingUsers(InMemoryUserDirectory):
    def __init__(self) -> None:
        super().__init__()
        self.asked: list[int] = []

    def get(self, user_id: int) -> User | None:
        self.asked.append(user_id)
        return super().get(user_id)


def test_what_the_view_did_not_read_is_looked_up_once_per_id() -> None:
    """A host's own directories: the view knows ids only."""
    patients = CountingPatients((PAT,))
    directory = CountingUsers()
    directory.add(DANA, "digest")
    rows = [event_row(number, assigned_to_id=999) for number in range(1, 6)]
    rows.append(event_row(6, member_id="FROM-VIEW", performed_by_name="Read", assigned_to_id=None))

    detail = handler(CountingViews(rows), patients=patients, user_directory=directory)(july())
    cells = [(row[3], row[11], row[12]) for row in detail.rows]

    assert cells == [("91234567A", "Dana Coordinator", "")] * 5 + [("FROM-VIEW", "Read", "")]
    assert patients.asked == [PAT.id]
    assert sorted(directory.asked) == [DANA.id, 999]


@pytest.mark.parametrize(
    ("text", "cell"),
    [
        ("=SUM(A1)", "'=SUM(A1)"),
        ("+1", "'+1"),
        ("-2", "'-2"),
        ("@cmd", "'@cmd"),
        ("\tTab", "'\tTab"),
        ("\rReturn", "'\rReturn"),
        ("Dana = Coordinator", "Dana = Coordinator"),
        ("", ""),
        (None, ""),
    ],
)
def test_free_text_that_a_spreadsheet_would_run_gets_a_quote(text: str | None, cell: str) -> None:
    assert spreadsheet_safe(text) == cell
