"""The PRTF report through HTTP and the command line, on a fixture month checked cell by cell:
outbound and inbound SMS, a completed long call, a short call, an unanswered call, events just
outside July in the clinic's zone, a patient with nothing in the month and a patient of another
clinic."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from click.testing import CliRunner, Result
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, settings
from schemathesis import Case
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy import func, select

from ecm_comms.adapters.memory import FakeGateway, FixedClock
from ecm_comms.adapters.sql import tables
from ecm_comms.container import Container, create_container
from ecm_comms.domain.channels import Channel
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
from ecm_comms.domain.people import User
from ecm_comms.domain.prtf import COLUMNS
from ecm_comms.entrypoints.cli.main import cli
from ecm_comms.entrypoints.http import create_app
from ecm_comms.entrypoints.http.openapi import document
from tests.conftest import Staff
from tests.support.webhooks import CLINIC_NUMBER, new_sid

pytestmark = pytest.mark.both_databases

REPORTS = "/v1/admin/clinic/ecm/prtf_reports"
NPI = "1234567893"
OTHER_NPI = "1245319599"
HARBOR_MAIN = "+18055550100"
PAT, KIM, LEE, ROBIN, NOBODY, OTHER = 123, 124, 125, 127, 126, 223
PHONES = {
    PAT: "+18051234567",
    KIM: "+18051234568",
    LEE: "+18051234569",
    ROBIN: "+18051234570",
    NOBODY: "+18051234571",
    OTHER: "+18051234572",
}
JULY = {"start_date": "2024-07-01", "end_date": "2024-07-31"}
# 22:00 on July 31 in Los Angeles, already August 1 in UTC: the file is named for July 31.
GENERATED_AT = datetime(2024, 8, 1, 5, tzinfo=UTC)
FILENAME = "PRTF_1234567893_072024_07312024.csv"
PROVIDER = ["2024-07-01", "2024-07-31", "Harbor Health", NPI, HARBOR_MAIN]
# The fixture month's rows, cell by cell, in the file's order: by Member CIN (Kim's sorts before
# Pat's), then Robin, who has none.
EXPECTED_ROWS = [
    [*PROVIDER, "124", "80000001B", "Nguyen", "Kim", "1975-05-06", "Dana Coordinator",
     "2", "0", "0", "N", "2024-07-15", "2024-07-20", "", "Telephonic"],
    [*PROVIDER, "123", "91234567A", "Example", "Pat", "1960-02-29", "Dana Coordinator",
     "1", "1", "1", "Y", "2024-07-03", "2024-07-10", "2024-07-10", "Text;Telephonic"],
    [*PROVIDER, "127", "", "'-Smith, Jr.", "'=cmd", "", "",
     "1", "1", "0", "Y", "2024-07-01", "2024-07-01", "2024-07-31", "Text"],
]  # fmt: skip


def expected_csv(rows: list[list[str]] = EXPECTED_ROWS) -> bytes:
    lines = [",".join(COLUMNS)] + [",".join(_quoted(cell) for cell in row) for row in rows]
    return "".join(line + "\r\n" for line in lines).encode()


def _quoted(cell: str) -> str:
    return f'"{cell}"' if "," in cell else cell


# --- the fixture month --------------------------------------------------------------------------


@pytest.fixture
def admin(container: Container) -> Staff:
    """Ada, admin 1 of clinic 1."""
    registered = container.register_user()(RegisterUser(1, 1, "Ada Admin", role="admin"))
    return Staff(registered.user, registered.token.value)


@pytest.fixture
def other_clinic_admin(container: Container) -> Staff:
    registered = container.register_user()(RegisterUser(2, 2, "Otto Admin", role="admin"))
    return Staff(registered.user, registered.token.value)


class Month:
    """Writes the fixture's communications through the use cases, at chosen instants."""

    def __init__(self, container: Container, clock: FixedClock, gateway: FakeGateway) -> None:
        self.container = container
        self.clock = clock
        self.gateway = gateway

    def at(self, moment: str) -> None:
        self.clock.at = datetime.fromisoformat(moment).replace(tzinfo=UTC)

    def text(self, moment: str, patient_id: int, by: User) -> None:
        self.at(moment)
        self.container.send_sms()(SendSms(patient_id, PHONES[patient_id], "Hi", performed_by=by))

    def reply(self, moment: str, patient_id: int) -> None:
        self.at(moment)
        self.container.record_inbound_sms()(
            RecordInboundSms(new_sid("SM"), PHONES[patient_id], CLINIC_NUMBER, "Yes")
        )

    def call(
        self, moment: str, patient_id: int, by: User, status: str, seconds: int | None = None
    ) -> None:
        self.at(moment)
        started = self.container.initiate_call()(
            InitiateCall(patient_id, PHONES[patient_id], performed_by=by)
        )
        assert started.call.twilio_sid is not None
        self.clock.advance(timedelta(minutes=10))  # the outcome arrives later; the event stays
        self.container.apply_status()(
            ApplyStatus(Channel.CALL, started.call.twilio_sid, status, duration_seconds=seconds)
        )

    def called_by(self, moment: str, patient_id: int, status: str, seconds: int) -> None:
        self.at(moment)
        sid = new_sid("CA")
        self.container.record_inbound_call()(
            RecordInboundCall(sid, PHONES[patient_id], CLINIC_NUMBER, "ringing")
        )
        self.container.apply_status()(
            ApplyStatus(Channel.CALL, sid, status, duration_seconds=seconds)
        )


@pytest.fixture
def month(
    container: Container,
    clock: FixedClock,
    gateway: FakeGateway,
    coordinator: Staff,
    other_clinic_coordinator: Staff,
) -> Month:
    """July 2024 at Harbor Health (clinic 1, Los Angeles time: UTC-7 in July)."""
    container.upsert_clinic()(UpsertClinic(1, "Harbor Health", npi=NPI, phone_number=HARBOR_MAIN))
    container.upsert_clinic()(UpsertClinic(2, "Mesa Clinic", npi=OTHER_NPI))
    upsert = container.upsert_patient()
    dana, sam = coordinator.user, other_clinic_coordinator.user
    for patient_id, clinic_id, names in [
        (PAT, 1, {"member_id": "91234567A", "first_name": "Pat", "last_name": "Example",
                  "date_of_birth": "1960-02-29", "coordinator_id": dana.id}),
        (KIM, 1, {"member_id": "80000001B", "first_name": "Kim", "last_name": "Nguyen",
                  "date_of_birth": "1975-05-06", "coordinator_id": dana.id}),
        (LEE, 1, {"member_id": "70000001C", "first_name": "Lee", "last_name": "Outside"}),
        (ROBIN, 1, {"first_name": "=cmd", "last_name": "-Smith, Jr."}),
        (NOBODY, 1, {"member_id": "60000001D", "first_name": "No", "last_name": "Body"}),
        (OTHER, 2, {"member_id": "50000001E", "first_name": "Oli", "last_name": "Mesa",
                    "coordinator_id": sam.id}),
    ]:  # fmt: skip
        upsert(UpsertPatient(patient_id, clinic_id, (PHONES[patient_id],), **names))
    written = Month(container, clock, gateway)
    # Pat: a text (July 3, 10:00 local), the reply, then a long call on the evening of July 10
    # local time, which is already July 11 in UTC.
    written.text("2024-07-03T17:00:00", PAT, dana)
    written.reply("2024-07-03T17:30:00", PAT)
    written.call("2024-07-11T02:30:00", PAT, dana, "completed", 300)
    # Kim: a short call that completed, then one nobody answered.
    written.call("2024-07-15T18:00:00", KIM, dana, "completed", 30)
    written.call("2024-07-20T18:00:00", KIM, dana, "no-answer")
    # Robin: the very first instant of July and the very last, in Los Angeles.
    written.text("2024-07-01T07:00:00", ROBIN, dana)
    written.called_by("2024-08-01T06:59:59", ROBIN, "completed", 90)
    # Lee: just before July and just after, in Los Angeles.
    written.text("2024-07-01T06:59:59", LEE, dana)
    written.text("2024-08-01T07:00:00", LEE, dana)
    # Another clinic's patient, texted in July.
    written.text("2024-07-12T18:00:00", OTHER, sam)
    written.at(GENERATED_AT.isoformat().removesuffix("+00:00"))
    return written


def generate(client: FlaskClient, staff: Staff, **fields: Any) -> Any:
    return client.post(REPORTS, json={**JULY, **fields}, headers=staff.headers)


def generated(client: FlaskClient, staff: Staff, **fields: Any) -> dict[str, Any]:
    response = generate(client, staff, **fields)
    assert response.status_code == 201, response.get_data(as_text=True)
    report: dict[str, Any] = response.get_json()["prtf_report"]
    return report


def kept(container: Container) -> list[bytes]:
    with container.engine().connect() as connection:
        query = select(tables.prtf_reports.c.content).order_by(tables.prtf_reports.c.id)
        return [bytes(content) for content in connection.execute(query).scalars()]


def kept_count(container: Container) -> int:
    with container.engine().connect() as connection:
        return connection.execute(
            select(func.count()).select_from(tables.prtf_reports)
        ).scalar_one()


# --- the events read ---------------------------------------------------------------------------


def test_the_stream_reads_each_event_of_the_clinic_with_its_communication(
    container: Container, month: Month
) -> None:
    since = datetime(2024, 7, 1, 7, tzinfo=UTC)  # July in Los Angeles
    until = datetime(2024, 8, 1, 7, tzinfo=UTC)
    with container.engine().connect() as connection:
        e = tables.events
        expected_ids = list(
            connection.execute(
                select(e.c.id)
                .where(e.c.clinic_id == 1, e.c.occurred_at >= since, e.c.occurred_at < until)
                .order_by(e.c.occurred_at, e.c.id)
            ).scalars()
        )

    read = list(container.report_views().events(1, since, until))

    assert [row.event_id for row in read] == expected_ids
    assert [
        (row.patient_id, row.channel, row.direction, row.status, row.duration_seconds)
        for row in read
    ] == [
        (ROBIN, "sms", "outbound", "queued", None),
        (PAT, "sms", "outbound", "queued", None),
        (PAT, "sms", "inbound", "received", None),
        (PAT, "call", "outbound", "completed", 300),
        (KIM, "call", "outbound", "completed", 30),
        (KIM, "call", "outbound", "no-answer", None),
        (ROBIN, "call", "inbound", "completed", 90),
    ]
    assert read[0].occurred_at == since
    assert read[-1].occurred_at == until - timedelta(seconds=1)
    assert {row.occurred_at.utcoffset() for row in read} == {timedelta(0)}
    assert [(row.performed_by_id, row.assigned_to_id) for row in read[1:3]] == [
        (101, 101),
        (None, 101),
    ]


def test_a_stream_left_unfinished_leaves_the_database_usable(
    container: Container, month: Month
) -> None:
    since, until = datetime(2024, 1, 1, tzinfo=UTC), datetime(2025, 1, 1, tzinfo=UTC)
    stream = container.report_views().events(1, since, until)
    next(stream)
    stream.close()

    assert len(list(container.report_views().events(1, since, until))) == 9
    assert len(list(container.report_views().events(2, since, until))) == 1


# --- HTTP ---------------------------------------------------------------------------------------


def test_an_admin_generates_the_month_s_report(
    client: FlaskClient, admin: Staff, month: Month
) -> None:
    response = generate(client, admin)

    assert response.status_code == 201
    assert response.get_json() == {
        "message": "PRTF report generated successfully",
        "prtf_report": {
            "id": 1,
            "filename": FILENAME,
            "start_date": "2024-07-01",
            "end_date": "2024-07-31",
            "provider_npi": NPI,
            "provider_name": "Harbor Health",
            "provider_phone": HARBOR_MAIN,
            "patient_count": 3,
            "url": f"{REPORTS}/1/download",
            "created_at": "2024-08-01T05:00:00.000Z",
        },
    }


def test_the_file_holds_the_month_cell_by_cell(
    client: FlaskClient, admin: Staff, month: Month, container: Container
) -> None:
    generated(client, admin)

    (content,) = kept(container)
    rows = list(csv.reader(io.StringIO(content.decode("utf-8"), newline="")))
    assert rows[0] == list(COLUMNS)
    assert len(rows) == 1 + len(EXPECTED_ROWS)
    for number, (row, expected) in enumerate(zip(rows[1:], EXPECTED_ROWS, strict=True), 1):
        for column, cell, expected_cell in zip(COLUMNS, row, expected, strict=True):
            assert cell == expected_cell, f"row {number}, {column}"


def test_the_file_is_written_exactly_so(
    client: FlaskClient, admin: Staff, month: Month, container: Container
) -> None:
    generated(client, admin)

    assert kept(container) == [expected_csv()]


def test_the_download_is_the_file_exactly_as_generated(
    client: FlaskClient, admin: Staff, month: Month, container: Container
) -> None:
    report = generated(client, admin)

    response = client.get(report["url"], headers=admin.headers)

    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"] == f'attachment; filename="{FILENAME}"'
    assert response.get_data() == kept(container)[0] == expected_csv()


def test_the_provider_named_in_the_request_replaces_the_clinic(
    client: FlaskClient, admin: Staff, month: Month, container: Container
) -> None:
    report = generated(
        client,
        admin,
        provider_npi=OTHER_NPI,
        provider_name="@Mesa Partners",
        provider_phone="(805) 555-0111",
    )

    assert (report["filename"], report["provider_name"], report["provider_phone"]) == (
        "PRTF_1245319599_072024_07312024.csv",
        "@Mesa Partners",
        "+18055550111",
    )
    provider = ["2024-07-01", "2024-07-31", "'@Mesa Partners", OTHER_NPI, "+18055550111"]
    assert kept(container) == [expected_csv([provider + row[5:] for row in EXPECTED_ROWS])]


def test_a_period_without_events_is_a_file_of_its_header(
    client: FlaskClient, admin: Staff, month: Month, container: Container
) -> None:
    report = generated(client, admin, start_date="2024-05-01", end_date="2024-05-31")

    assert (report["patient_count"], report["filename"]) == (
        0,
        "PRTF_1234567893_052024_07312024.csv",
    )
    assert kept(container) == [expected_csv([])]


def test_reports_are_listed_newest_first_and_read_one_by_one(
    client: FlaskClient, admin: Staff, month: Month
) -> None:
    first = generated(client, admin)
    month.clock.advance(timedelta(days=1))
    second = generated(client, admin, start_date="2024-06-01", end_date="2024-06-30")

    listed = client.get(REPORTS, headers=admin.headers)
    one = client.get(f"{REPORTS}/{first['id']}", headers=admin.headers)

    assert listed.status_code == 200
    assert listed.get_json() == {"prtf_reports": [second, first]}
    assert second["filename"] == "PRTF_1234567893_062024_08012024.csv"
    assert (one.status_code, one.get_json()) == (200, {"prtf_report": first})


def test_the_url_is_absolute_when_the_service_knows_its_public_url(
    database_url: str, clock: FixedClock, admin: Staff, month: Month
) -> None:
    public = create_container(
        environ={"ECM_PUBLIC_BASE_URL": "https://comms.clinic.example/"}, database_url=database_url
    )
    public.clock.override(clock)
    client = create_app(public).test_client()

    report = generated(client, admin)
    listed = client.get(REPORTS, headers=admin.headers).get_json()["prtf_reports"]

    url = f"https://comms.clinic.example{REPORTS}/1/download"
    assert (report["url"], listed[0]["url"]) == (url, url)
    public.engine().dispose()


def test_another_clinic_s_report_is_not_found(
    client: FlaskClient, admin: Staff, other_clinic_admin: Staff, month: Month
) -> None:
    report = generated(client, admin)
    headers = other_clinic_admin.headers

    answers = [
        client.get(f"{REPORTS}/{report['id']}", headers=headers),
        client.get(f"{REPORTS}/{report['id']}/download", headers=headers),
        client.get(f"{REPORTS}/999", headers=admin.headers),
        client.get(f"{REPORTS}/abc/download", headers=admin.headers),
    ]

    assert [(a.status_code, a.get_json()) for a in answers] == [
        (404, {"errors": ["Not found"]})
    ] * 4
    assert client.get(REPORTS, headers=headers).get_json() == {"prtf_reports": []}


def test_a_coordinator_is_refused_every_report_endpoint(
    client: FlaskClient, admin: Staff, coordinator: Staff, month: Month, container: Container
) -> None:
    report = generated(client, admin)
    headers = coordinator.headers

    answers = [
        client.post(REPORTS, json=JULY, headers=headers),
        client.post(REPORTS, data="{", headers=headers),  # the role before the body
        client.get(REPORTS, headers=headers),
        client.get(f"{REPORTS}/{report['id']}", headers=headers),
        client.get(f"{REPORTS}/{report['id']}/download", headers=headers),
        client.get(f"{REPORTS}/abc", headers=headers),
    ]

    assert [(a.status_code, a.get_json()) for a in answers] == [
        (403, {"errors": ["Admin role required"]})
    ] * 6
    assert kept_count(container) == 1


def test_without_a_token_the_endpoints_answer_401(client: FlaskClient, month: Month) -> None:
    answers = [client.post(REPORTS, json=JULY), client.get(REPORTS), client.get(f"{REPORTS}/1")]

    assert {a.status_code for a in answers} == {401}


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({}, ["start_date is required", "end_date is required"]),
        ({"start_date": "2024-07-01"}, ["end_date is required"]),
        ({**JULY, "start_date": "07/01/2024"}, ["start_date must be a date as YYYY-MM-DD"]),
        ({**JULY, "end_date": "2024-02-30"}, ["end_date must be a date as YYYY-MM-DD"]),
        ({**JULY, "start_date": "2024-08-01"}, ["start_date must not be after end_date"]),
        ({**JULY, "provider_npi": "1234567890"}, ["Invalid provider NPI"]),
        ({**JULY, "provider_phone": "12"}, ["Invalid provider phone number"]),
        ({**JULY, "provider_name": "x" * 201}, [
            "Provider name is too long (maximum is 200 characters)"
        ]),
        ({**JULY, "start_date": 20240701}, ["start_date must be a string"]),
        ({"start_date": "x", "provider_npi": "1"}, [
            "start_date must be a date as YYYY-MM-DD",
            "end_date is required",
            "Invalid provider NPI",
        ]),
    ],
)  # fmt: skip
def test_bad_fields_are_refused_and_nothing_is_kept(
    client: FlaskClient,
    admin: Staff,
    month: Month,
    container: Container,
    body: dict[str, Any],
    errors: list[str],
) -> None:
    response = client.post(REPORTS, json=body, headers=admin.headers)

    assert (response.status_code, response.get_json()) == (422, {"errors": errors})
    assert kept_count(container) == 0


def test_a_clinic_without_an_npi_needs_one_in_the_request(
    client: FlaskClient, admin: Staff, month: Month, container: Container
) -> None:
    container.upsert_clinic()(UpsertClinic(1, "Harbor Health", phone_number=HARBOR_MAIN))

    refused = generate(client, admin)
    accepted = generate(client, admin, provider_npi=OTHER_NPI)

    assert (refused.status_code, refused.get_json()) == (
        422,
        {"errors": ["Provider NPI is required"]},
    )
    assert accepted.status_code == 201
    assert kept_count(container) == 1


def test_a_retry_with_the_same_idempotency_key_keeps_one_report(
    client: FlaskClient, admin: Staff, month: Month, container: Container
) -> None:
    headers = {**admin.headers, "Idempotency-Key": "prtf-july"}

    first = client.post(REPORTS, json=JULY, headers=headers)
    again = client.post(REPORTS, json=JULY, headers=headers)

    assert (first.status_code, again.status_code) == (201, 201)
    assert again.get_json() == first.get_json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert kept_count(container) == 1


# --- the command line ---------------------------------------------------------------------------


def run(database_url: str, *args: str) -> Result:
    return CliRunner().invoke(cli, list(args), env={"ECM_DATABASE_URL": database_url})


def prtf(database_url: str, *extra: str) -> Result:
    july = ("--start", "2024-07-01", "--end", "2024-07-31")
    return run(database_url, "reports", "prtf", "--clinic-id", "1", *july, *extra)


# Named for the day the command runs, in the clinic's zone.
CLI_FILENAME = re.compile(r"PRTF_1234567893_072024_[0-9]{8}\.csv")


def test_the_command_writes_the_report_to_a_file_and_keeps_it(
    database_url: str, month: Month, container: Container, tmp_path: Path
) -> None:
    folder = tmp_path / "reports"
    folder.mkdir()
    out = folder / "july.csv"

    result = prtf(database_url, "--out", str(out))

    assert result.exit_code == 0, result.output
    name, rest = result.output.split(": ", 1)
    assert CLI_FILENAME.fullmatch(name)
    assert rest == f"3 patients, written to {out}.\n"
    assert out.read_bytes() == expected_csv()
    assert kept(container) == [expected_csv()]
    assert list(folder.iterdir()) == [out]  # nothing left beside it


def test_without_out_the_command_writes_only_the_csv_to_standard_output(
    database_url: str, month: Month, container: Container
) -> None:
    result = prtf(database_url, "--npi", OTHER_NPI, "--provider-name", "Mesa Partners")

    assert result.exit_code == 0, result.stderr
    provider = ["2024-07-01", "2024-07-31", "Mesa Partners", OTHER_NPI, HARBOR_MAIN]
    assert result.stdout_bytes == expected_csv([provider + r[5:] for r in EXPECTED_ROWS])
    assert re.fullmatch(r"PRTF_1245319599_072024_[0-9]{8}\.csv: 3 patients\.\n", result.stderr)
    assert kept(container) == [result.stdout_bytes]


def test_a_report_from_the_command_line_is_listed_by_the_api(
    database_url: str, client: FlaskClient, admin: Staff, month: Month
) -> None:
    result = prtf(database_url, "--provider-phone", "805 555 0111")
    assert result.exit_code == 0, result.stderr

    (listed,) = client.get(REPORTS, headers=admin.headers).get_json()["prtf_reports"]

    assert (listed["patient_count"], listed["provider_phone"]) == (3, "+18055550111")
    assert CLI_FILENAME.fullmatch(listed["filename"])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--start", "2024-7-1"), "--start must be a date as YYYY-MM-DD"),
        (("--end", "2024-06-30"), "--start must not be after --end"),
        (("--npi", "1234567890"), "--npi: Invalid provider NPI"),
        (("--provider-phone", "12"), "--provider-phone: Invalid provider phone number"),
        (("--clinic-id", "9"), "Clinic 9 not found"),
    ],
)
def test_the_command_refuses_bad_options_and_keeps_nothing(
    database_url: str,
    month: Month,
    container: Container,
    tmp_path: Path,
    args: tuple[str, ...],
    message: str,
) -> None:
    out = tmp_path / "july.csv"

    result = prtf(database_url, "--out", str(out), *args)  # the last of a repeated option wins

    assert result.exit_code == 1
    assert result.output == f"Error: {message}\n"
    assert kept_count(container) == 0
    assert not out.exists()


def test_the_command_refuses_a_file_it_cannot_write_before_keeping_anything(
    database_url: str, month: Month, container: Container, tmp_path: Path
) -> None:
    result = prtf(database_url, "--out", str(tmp_path / "missing" / "july.csv"))

    assert result.exit_code == 1
    assert "--out: cannot write" in result.output
    assert kept_count(container) == 0


def test_the_command_needs_an_npi_when_the_clinic_has_none(
    database_url: str, month: Month, container: Container
) -> None:
    container.upsert_clinic()(UpsertClinic(1, "Harbor Health"))

    result = prtf(database_url)

    assert result.exit_code == 1
    assert result.output == "Error: --npi: Provider NPI is required\n"


# --- the document, and fuzzing as an admin ------------------------------------------------------

DOCUMENT: dict[str, Any] = json.loads(json.dumps(document()))
prtf_schema = schemathesis.openapi.from_dict(DOCUMENT).include(tag="PRTF reports")
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


@pytest.fixture
def reported_app(app: Flask, client: FlaskClient, admin: Staff, month: Month) -> Flask:
    """The app with the fixture month and its report (id 1)."""
    generated(client, admin)
    return app


@prtf_schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_every_report_operation_answers_an_admin_as_documented(
    case: Case, reported_app: Flask, admin: Staff
) -> None:
    # Most integer ids (two in three) are steered to the report that exists; the rest, and
    # whatever a negative case puts there, go as generated.
    report_id = (case.path_parameters or {}).get("report_id")
    if isinstance(report_id, int) and not isinstance(report_id, bool) and report_id % 3:
        case.path_parameters["report_id"] = 1
    response = case.call(app=reported_app, headers=admin.headers)
    if response.status_code >= 400:
        errors = response.json()["errors"]
        assert errors
        assert all(isinstance(message, str) for message in errors)
    case.validate_response(response, checks=CHECKS)
