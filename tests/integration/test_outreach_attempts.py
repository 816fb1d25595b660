"""The outreach detail, over HTTP and from the command line, on both databases: one CSV row per
event of the admin's clinic in the period, checked cell by cell on a fixture month; the period
as days in the clinic's time zone; refusals as JSON before anything is streamed; a stream that
reads the record as it is sent."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import schemathesis
from click.testing import CliRunner, Result
from dependency_injector import providers
from flask import Flask
from flask.testing import FlaskClient
from schemathesis import Case
from sqlalchemy import select

from ecm_comms.adapters.memory import FakeGateway, FixedClock
from ecm_comms.adapters.sql import tables
from ecm_comms.container import Container
from ecm_comms.domain.channels import Channel, Direction
from ecm_comms.domain.commands import (
    ApplyStatus,
    InitiateCall,
    RecordInboundCall,
    RecordInboundSms,
    RegisterUser,
    SendSms,
    UpsertClinic,
    UpsertPatient,
)
from ecm_comms.domain.csv_text import ROWS_PER_CHUNK
from ecm_comms.domain.errors import CommunicationFailed, GatewayError, StorageUnavailable
from ecm_comms.domain.people import Patient, User
from ecm_comms.domain.reporting import EventRow
from ecm_comms.domain.use_cases.outreach_detail import HEADER
from ecm_comms.entrypoints.cli.main import cli
from ecm_comms.entrypoints.http.openapi import document
from tests.conftest import Staff
from tests.integration.test_fuzz import FUZZ_SETTINGS, call_and_check
from tests.integration.test_openapi import assert_conforms
from tests.support.webhooks import CLINIC_NUMBER, new_sid

pytestmark = pytest.mark.both_databases

URL = "/v1/admin/clinic/ecm/outreach_attempts.csv"
JULY = {"start_date": "2024-07-01", "end_date": "2024-07-31"}
NEW_YORK = ZoneInfo("America/New_York")  # clinic 1's; clinic 2 keeps the default, Los Angeles
PAT_PHONE = "+18051234567"
THEIR_PHONE = "+18055550223"


def new_york(month: int, day: int, hour: int, minute: int) -> datetime:
    return datetime(2024, month, day, hour, minute, tzinfo=NEW_YORK).astimezone(UTC)


@dataclass(frozen=True)
class Month:
    """July 2024 of clinic 1 (New York time), with something of clinic 2 in it."""

    admin: Staff  # Ada, admin of clinic 1
    other_admin: Staff  # Olga, admin of clinic 2
    rows: list[list[str]]  # clinic 1's expected rows, oldest first
    their_rows: list[list[str]]  # clinic 2's


class Record:
    def __init__(self, container: Container, clock: FixedClock) -> None:
        self.container = container
        self.clock = clock

    def event_id(self, activity_id: int | None) -> str:
        query = select(tables.events.c.id).where(tables.events.c.activity_id == activity_id)
        with self.container.engine().connect() as connection:
            return str(connection.execute(query).scalar_one())

    def ids(self, activity_id: int | None) -> list[str]:
        return [self.event_id(activity_id), str(activity_id)]

    def text(
        self, at: datetime, by: User, patient_id: int = 123, phone: str = PAT_PHONE
    ) -> list[str]:
        self.clock.at = at
        sent = self.container.send_sms()(SendSms(patient_id, phone, "Reminder", by))
        return [str(sent.event.id), str(sent.activity.id)]

    def sent_text(self, at: datetime, by: User) -> list[str]:
        self.clock.at = at
        sent = self.container.send_sms()(SendSms(123, PAT_PHONE, "See you at 3pm", by))
        assert sent.message.twilio_sid is not None
        self.status(Channel.SMS, sent.message.twilio_sid, "delivered")
        return [str(sent.event.id), str(sent.activity.id)]

    def reply(self, at: datetime) -> list[str]:
        self.clock.at = at
        recorded = self.container.record_inbound_sms()(
            RecordInboundSms(new_sid("SM"), PAT_PHONE, CLINIC_NUMBER, "Yes, thank you")
        )
        assert recorded.activity is not None
        return self.ids(recorded.activity.id)

    def call(self, at: datetime, by: User, status: str, seconds: int | None) -> list[str]:
        self.clock.at = at
        started = self.container.initiate_call()(InitiateCall(123, PAT_PHONE, by))
        assert started.call.twilio_sid is not None
        self.status(Channel.CALL, started.call.twilio_sid, status, seconds)
        return [str(started.event.id), str(started.activity.id)]

    def call_in(self, at: datetime) -> list[str]:
        self.clock.at = at
        recorded = self.container.record_inbound_call()(
            RecordInboundCall(new_sid("CA"), PAT_PHONE, CLINIC_NUMBER, "ringing")
        )
        assert recorded.activity is not None
        return self.ids(recorded.activity.id)

    def status(self, channel: Channel, sid: str, status: str, seconds: int | None = None) -> None:
        self.container.apply_status()(ApplyStatus(channel, sid, status, duration_seconds=seconds))


def register(container: Container, user_id: int, clinic_id: int, name: str, role: str) -> Staff:
    registered = container.register_user()(RegisterUser(user_id, clinic_id, name, role=role))
    return Staff(registered.user, registered.token.value)


@pytest.fixture
def month(
    container: Container, clock: FixedClock, gateway: FakeGateway, coordinator: Staff
) -> Month:
    upsert_clinic, upsert_patient = container.upsert_clinic(), container.upsert_patient()
    upsert_clinic(UpsertClinic(1, "Harbor Health", timezone="America/New_York"))
    upsert_clinic(UpsertClinic(2, "Mesa Clinic"))
    admin = register(container, 100, 1, "Ada Admin", "admin")
    eve = register(container, 102, 1, "=Eve Formula", "coordinator").user
    other_admin = register(container, 200, 2, "Olga Otheradmin", "admin")
    sam = register(container, 201, 2, "Sam Otherclinic", "coordinator").user
    upsert_patient(UpsertPatient(123, 1, (PAT_PHONE,), coordinator_id=101, member_id="91234567A"))
    upsert_patient(UpsertPatient(124, 1, ("+18055550124",), member_id="98765432B"))  # no events
    upsert_patient(UpsertPatient(223, 2, (THEIR_PHONE,), coordinator_id=201, member_id="9C"))
    dana = coordinator.user
    record = Record(container, clock)

    record.text(new_york(6, 30, 23, 59), dana)  # 03:59 UTC on July 1, but June in New York
    text = record.sent_text(new_york(7, 1, 0, 5), dana)
    gateway.fail_next(GatewayError("The 'To' number is not valid", code=21211))
    clock.at = new_york(7, 1, 8, 0)
    with pytest.raises(CommunicationFailed):  # refused: no activity, no event, no row
        container.send_sms()(SendSms(123, PAT_PHONE, "Refused", dana))
    reply = record.reply(new_york(7, 2, 9, 30))
    encounter = record.call(new_york(7, 3, 10, 0), eve, "completed", 312)
    short = record.call(new_york(7, 4, 11, 0), dana, "completed", 20)
    unanswered = record.call(new_york(7, 5, 12, 0), dana, "no-answer", None)
    call_in = record.call_in(new_york(7, 31, 23, 59))  # August 1 in UTC
    record.text(new_york(8, 1, 0, 0), dana)
    theirs = record.text(datetime(2024, 7, 10, 19, 0, tzinfo=UTC), sam, 223, THEIR_PHONE)

    pat = ["123", "91234567A"]
    outreach, encounter_category = "Telehealth Outreach", "Telehealth Encounter"
    dana_name, eve_cell = "Dana Coordinator", "'=Eve Formula"
    # fmt: off
    rows = [
        [*text, *pat, "2024-07-01", "00:05", "Text", "Outbound", outreach, "delivered", "",
         dana_name, dana_name],
        [*reply, *pat, "2024-07-02", "09:30", "Text", "Inbound", "Member Response", "received",
         "", "", dana_name],
        [*encounter, *pat, "2024-07-03", "10:00", "Telephonic", "Outbound", encounter_category,
         "completed", "312", eve_cell, eve_cell],
        [*short, *pat, "2024-07-04", "11:00", "Telephonic", "Outbound", outreach, "completed",
         "20", dana_name, dana_name],
        [*unanswered, *pat, "2024-07-05", "12:00", "Telephonic", "Outbound", outreach,
         "no-answer", "", dana_name, dana_name],
        [*call_in, *pat, "2024-07-31", "23:59", "Telephonic", "Inbound", "Member Response",
         "ringing", "", "", dana_name],
    ]
    their_rows = [
        [*theirs, "223", "9C", "2024-07-10", "12:00", "Text", "Outbound", outreach,
         "queued", "", "Sam Otherclinic", "Sam Otherclinic"],
    ]
    # fmt: on
    return Month(admin, other_admin, rows, their_rows)


def csv_text(rows: list[list[str]]) -> str:
    return "".join(",".join(row) + "\r\n" for row in [list(HEADER), *rows])


def read_csv(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))


# --- over HTTP ----------------------------------------------------------------------------------


def test_one_row_per_event_of_the_month_cell_by_cell(client: FlaskClient, month: Month) -> None:
    response = client.get(URL, query_string=JULY, headers=month.admin.headers)

    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"] == (
        'attachment; filename="outreach_attempts_2024-07-01_2024-07-31.csv"'
    )
    body = response.get_data()
    assert not body.startswith(b"\xef\xbb\xbf")  # no byte-order mark
    assert read_csv(body.decode("utf-8")) == [list(HEADER), *month.rows]
    assert body.decode("utf-8") == csv_text(month.rows)  # RFC 4180: CRLF, nothing quoted here


def test_the_period_is_days_in_the_clinics_time_zone(client: FlaskClient, month: Month) -> None:
    def rows(start: str, end: str) -> list[list[str]]:
        # Read each streamed answer to its end before the next request.
        query = {"start_date": start, "end_date": end}
        response = client.get(URL, query_string=query, headers=month.admin.headers)
        assert response.headers["Content-Disposition"].endswith(f'_{start}_{end}.csv"')
        return read_csv(response.get_data(as_text=True))[1:]

    assert rows("2024-07-31", "2024-07-31") == month.rows[-1:]
    assert [row[4:6] for row in rows("2024-06-30", "2024-07-01")] == [
        ["2024-06-30", "23:59"],
        ["2024-07-01", "00:05"],
    ]
    assert [row[4] for row in rows("2024-08-01", "2024-08-01")] == ["2024-08-01"]


def test_each_clinic_sees_its_own_events_only(client: FlaskClient, month: Month) -> None:
    response = client.get(URL, query_string=JULY, headers=month.other_admin.headers)

    assert read_csv(response.get_data(as_text=True)) == [list(HEADER), *month.their_rows]


def test_a_period_without_events_is_the_header_alone(client: FlaskClient, month: Month) -> None:
    empty = {"start_date": "2024-09-01", "end_date": "2024-09-30"}

    response = client.get(URL, query_string=empty, headers=month.admin.headers)

    assert response.status_code == 200
    assert response.get_data(as_text=True) == csv_text([])


def test_a_coordinator_is_refused(client: FlaskClient, month: Month, coordinator: Staff) -> None:
    for query in (JULY, {"start_date": "bad"}):
        response = client.get(URL, query_string=query, headers=coordinator.headers)

        assert response.status_code == 403
        assert response.get_json() == {"errors": ["Admin role required"]}


def test_no_token_is_refused(client: FlaskClient) -> None:
    response = client.get(URL, query_string=JULY)

    assert response.status_code == 401
    assert response.get_json() == {"errors": ["X-User-Token header is required"]}


@pytest.mark.parametrize(
    ("query", "messages"),
    [
        ({}, ["start_date is required", "end_date is required"]),
        ({"start_date": "", "end_date": "2024-07-31"}, ["start_date is required"]),
        ({"start_date": "2024-07-01"}, ["end_date is required"]),
        (
            {"start_date": "07/01/2024", "end_date": "2024-07-31"},
            ["start_date must be a date as YYYY-MM-DD"],
        ),
        (
            {"start_date": "2024-07-01", "end_date": "2024-02-30"},
            ["end_date must be a date as YYYY-MM-DD"],
        ),
        (
            {"start_date": "2024-08-01", "end_date": "2024-07-31"},
            ["start_date must not be after end_date"],
        ),
    ],
)
def test_bad_dates_are_refused_as_json_naming_the_parameter(
    client: FlaskClient, month: Month, query: dict[str, str], messages: list[str]
) -> None:
    response = client.get(URL, query_string=query, headers=month.admin.headers)

    assert response.status_code == 422
    assert response.mimetype == "application/json"
    assert response.get_json() == {"errors": messages}


class CountingViews:
    """A report view that says how far its stream was read."""

    def __init__(self, count: int, fail: bool = False) -> None:
        self.count = count
        self.fail = fail
        self.read = 0

    def events(self, clinic_id: int, since: datetime, until: datetime) -> Iterator[EventRow]:
        if self.fail:
            raise StorageUnavailable()
        for number in range(1, self.count + 1):
            self.read += 1
            yield EventRow(
                event_id=number,
                activity_id=number,
                patient_id=123,
                channel=Channel.SMS,
                direction=Direction.OUTBOUND,
                status="sent",
                duration_seconds=None,
                occurred_at=since,
                performed_by_id=None,
                assigned_to_id=None,
                member_id="91234567A",
            )


def test_the_answer_is_streamed_as_the_record_is_read(
    container: Container, client: FlaskClient, month: Month
) -> None:
    views = CountingViews(5000)
    container.report_views.override(providers.Object(views))

    response = client.get(URL, query_string=JULY, headers=month.admin.headers)

    assert response.status_code == 200
    assert response.is_streamed
    # The test client reads the first chunk to see the answer start; the rest waits.
    assert views.read <= ROWS_PER_CHUNK + 1
    chunks = iter(response.response)
    first = next(chunks)  # the chunk the test client read
    second = next(chunks)
    assert views.read <= 2 * ROWS_PER_CHUNK + 1
    rest = b"".join(chunks)
    assert views.read == 5000
    assert len(read_csv((first + second + rest).decode())) == 5001
    response.close()


def test_a_database_failing_as_the_stream_opens_is_a_503_in_json(
    container: Container, client: FlaskClient, month: Month
) -> None:
    container.report_views.override(providers.Object(CountingViews(1, fail=True)))

    response = client.get(URL, query_string=JULY, headers=month.admin.headers)

    assert response.status_code == 503
    assert response.get_json() == {"errors": ["The database is unavailable; please retry shortly"]}


# --- from the command line ----------------------------------------------------------------------


def run(database_url: str, *args: str) -> Result:
    return CliRunner().invoke(cli, list(args), env={"ECM_DATABASE_URL": database_url})


def attempts(database_url: str, *args: str) -> Result:
    return run(database_url, "reports", "attempts", *args)


def test_the_command_writes_the_same_csv_to_standard_output(
    database_url: str, month: Month
) -> None:
    result = attempts(
        database_url, "--clinic-id", "1", "--start", "2024-07-01", "--end", "2024-07-31"
    )

    assert result.exit_code == 0, result.output
    assert result.stdout_bytes == csv_text(month.rows).encode()


def test_the_command_writes_a_file_and_says_so(
    database_url: str, month: Month, tmp_path: Path
) -> None:
    (tmp_path / "reports").mkdir()
    out = tmp_path / "reports" / "july.csv"

    result = attempts(
        database_url, "--clinic-id", "2", "--start", "2024-07-01", "--end", "2024-07-31",
        "--out", str(out),
    )  # fmt: skip

    assert result.exit_code == 0, result.output
    assert out.read_bytes() == csv_text(month.their_rows).encode()
    assert result.output == f"Wrote 1 event(s) (2024-07-01 to 2024-07-31) to {out}.\n"
    assert [path.name for path in out.parent.iterdir()] == ["july.csv"]  # nothing left over


@pytest.mark.parametrize(
    ("start", "end", "message"),
    [
        ("July", "2024-07-31", "--start: start must be a date as YYYY-MM-DD"),
        ("2024-07-01", "2024-13-01", "--end: end must be a date as YYYY-MM-DD"),
        ("2024-08-01", "2024-07-31", "--start: start must not be after end"),
    ],
)
def test_the_command_refuses_bad_dates_and_writes_nothing(
    database_url: str, tmp_path: Path, start: str, end: str, message: str
) -> None:
    out = tmp_path / "report.csv"

    result = attempts(
        database_url, "--clinic-id", "1", "--start", start, "--end", end, "--out", str(out)
    )

    assert result.exit_code == 1
    assert message in result.output
    assert not out.exists()


# --- as the document says -----------------------------------------------------------------------

OPERATION = "/v1/admin/clinic/ecm/outreach_attempts.csv"
fuzzed_schema = schemathesis.openapi.from_dict(json.loads(json.dumps(document()))).include(
    operation_id="getOutreachAttempts"
)


def test_its_answers_conform_to_the_document(
    container: Container, client: FlaskClient, month: Month, coordinator: Staff
) -> None:
    admin = month.admin.headers
    september = {"start_date": "2024-09-01", "end_date": "2024-09-01"}
    asked: list[tuple[dict[str, str], dict[str, str]]] = [
        (JULY, admin),
        (september, admin),
        (JULY, {}),
        (JULY, coordinator.headers),
        ({"start_date": "x"}, admin),
    ]
    answers = []
    for query, headers in asked:
        answer = client.get(URL, query_string=query, headers=headers)
        answer.get_data()  # to its end, before the next request
        answers.append(answer)
    container.report_views.override(providers.Object(CountingViews(1, fail=True)))
    answers.append(client.get(URL, query_string=JULY, headers=admin))

    assert [answer.status_code for answer in answers] == [200, 200, 401, 403, 422, 503]
    for answer in answers:
        assert_conforms("GET", OPERATION, answer)


@fuzzed_schema.parametrize()
@FUZZ_SETTINGS
def test_fuzzed_as_an_admin_it_answers_as_documented(
    case: Case, app: Flask, month: Month, patient: Patient
) -> None:
    call_and_check(case, app, month.admin, patient)
