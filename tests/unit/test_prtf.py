"""The PRTF's rules: what a patient's events add up to, the row and the file they are written to,
and the use cases that produce, keep and hand out reports."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from itertools import count
from zoneinfo import ZoneInfo

import pytest

from ecm_comms.adapters.memory import (
    FixedClock,
    InMemoryClinicDirectory,
    InMemoryPatientDirectory,
    InMemoryPrtfReports,
    InMemoryUserDirectory,
)
from ecm_comms.domain.channels import Channel, Direction
from ecm_comms.domain.clinics import Clinic, Npi
from ecm_comms.domain.commands import GeneratePrtfReport, GetPrtfReport, ListPrtfReports
from ecm_comms.domain.errors import AdminRequired, InvalidInput, RecordNotFound, UnknownClinic
from ecm_comms.domain.people import Patient, Role, User
from ecm_comms.domain.phone_numbers import PhoneNumber
from ecm_comms.domain.prtf import (
    COLUMNS,
    PatientTally,
    Provider,
    prtf_csv,
    prtf_filename,
    prtf_row,
    row_order,
    spreadsheet_safe,
    tally,
)
from ecm_comms.domain.reporting import EventRow, ReportingPeriod
from ecm_comms.domain.statuses import CallStatus, SmsStatus
from ecm_comms.domain.use_cases.prtf_reports import (
    DownloadPrtfReportHandler,
    GeneratePrtfReportHandler,
    GetPrtfReportHandler,
    ListPrtfReportsHandler,
)

LA = ZoneInfo("America/Los_Angeles")
JULY = ReportingPeriod(date(2024, 7, 1), date(2024, 7, 31), LA)
NPI = Npi("1234567893")
OTHER_NPI = "1245319599"
MIN_SECONDS = 60
_ids = count(1)


def event(
    channel: Channel,
    direction: Direction,
    at: datetime = datetime(2024, 7, 10, 18, tzinfo=UTC),
    *,
    status: str | None = None,
    seconds: int | None = None,
    patient_id: int = 123,
) -> EventRow:
    default = SmsStatus.DELIVERED if channel is Channel.SMS else CallStatus.NO_ANSWER
    return EventRow(
        event_id=next(_ids),
        activity_id=next(_ids),
        patient_id=patient_id,
        channel=channel,
        direction=direction,
        status=str(status or default),
        duration_seconds=seconds,
        occurred_at=at,
        performed_by_id=101 if direction is Direction.OUTBOUND else None,
        assigned_to_id=101,
    )


def text_sent(at: datetime = datetime(2024, 7, 10, 18, tzinfo=UTC)) -> EventRow:
    return event(Channel.SMS, Direction.OUTBOUND, at)


def text_received(at: datetime = datetime(2024, 7, 10, 18, tzinfo=UTC)) -> EventRow:
    return event(Channel.SMS, Direction.INBOUND, at)


def call(
    direction: Direction = Direction.OUTBOUND,
    at: datetime = datetime(2024, 7, 10, 18, tzinfo=UTC),
    *,
    status: str = CallStatus.COMPLETED,
    seconds: int | None = 300,
) -> EventRow:
    return event(Channel.CALL, direction, at, status=status, seconds=seconds)


def tally_of(*events: EventRow) -> PatientTally:
    return tally(events, MIN_SECONDS)[123]


def counts(found: PatientTally) -> tuple[int, int, int]:
    return found.outreach, found.encounters, found.responses


# --- what a patient's events add up to ----------------------------------------------------------


def test_an_sms_sent_is_an_outreach() -> None:
    assert counts(tally_of(text_sent())) == (1, 0, 0)


def test_an_sms_received_is_a_response() -> None:
    assert counts(tally_of(text_received())) == (0, 0, 1)


def test_a_completed_call_of_the_minimum_length_is_an_encounter_either_way() -> None:
    found = tally_of(
        call(Direction.OUTBOUND, seconds=MIN_SECONDS), call(Direction.INBOUND, seconds=600)
    )

    assert counts(found) == (0, 2, 0)


def test_a_short_outbound_call_is_an_outreach() -> None:
    assert counts(tally_of(call(seconds=MIN_SECONDS - 1))) == (1, 0, 0)


def test_an_unanswered_outbound_call_is_an_outreach() -> None:
    assert counts(tally_of(call(status=CallStatus.NO_ANSWER, seconds=None))) == (1, 0, 0)


def test_an_unanswered_inbound_call_is_a_response() -> None:
    found = tally_of(call(Direction.INBOUND, status=CallStatus.NO_ANSWER, seconds=0))

    assert counts(found) == (0, 0, 1)


def test_each_patient_is_tallied_apart() -> None:
    tallies = tally(
        [text_sent(), event(Channel.SMS, Direction.INBOUND, patient_id=124), text_sent()],
        MIN_SECONDS,
    )

    assert {patient_id: counts(t) for patient_id, t in tallies.items()} == {
        123: (2, 0, 0),
        124: (0, 0, 1),
    }


def test_an_encounter_is_a_successful_contact() -> None:
    assert tally_of(text_sent(), call()).successful_contact


def test_a_response_is_a_successful_contact() -> None:
    assert tally_of(text_sent(), text_received()).successful_contact


def test_outreach_alone_is_no_successful_contact() -> None:
    assert not tally_of(text_sent(), call(seconds=5)).successful_contact


def test_outreach_dates_span_what_the_clinic_initiated_outreach_and_encounters() -> None:
    first, encounter, last = (datetime(2024, 7, day, 18, tzinfo=UTC) for day in (3, 9, 20))
    found = tally_of(
        text_sent(last),
        call(at=encounter),
        text_sent(first),
        text_received(datetime(2024, 7, 1, 18, tzinfo=UTC)),
        call(Direction.INBOUND, datetime(2024, 7, 30, 18, tzinfo=UTC)),
    )

    assert (found.first_outreach_at, found.last_outreach_at) == (first, last)


def test_the_last_encounter_is_of_either_direction() -> None:
    inbound = datetime(2024, 7, 30, 18, tzinfo=UTC)

    found = tally_of(
        call(at=datetime(2024, 7, 3, 18, tzinfo=UTC)), call(Direction.INBOUND, inbound)
    )

    assert found.last_encounter_at == inbound


def test_outreach_methods_are_those_of_what_the_clinic_initiated() -> None:
    assert tally_of(text_sent(), text_received()).outreach_methods == "Text"
    assert tally_of(call(status=CallStatus.BUSY)).outreach_methods == "Telephonic"
    assert tally_of(call(), text_sent()).outreach_methods == "Text;Telephonic"


def test_a_patient_who_only_got_in_touch_has_no_outreach_method_or_dates() -> None:
    found = tally_of(text_received(), call(Direction.INBOUND))

    assert (found.outreach_methods, found.first_outreach_at, found.last_outreach_at) == (
        "",
        None,
        None,
    )


# --- cells, rows and the file -------------------------------------------------------------------


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_free_text_that_would_start_a_formula_gets_a_leading_quote(start: str) -> None:
    assert spreadsheet_safe(f"{start}HYPERLINK(1)") == f"'{start}HYPERLINK(1)"


def test_other_free_text_is_written_as_it_is() -> None:
    assert spreadsheet_safe("O'Brien-Smith = 1") == "O'Brien-Smith = 1"


def test_unknown_free_text_is_an_empty_cell() -> None:
    assert (spreadsheet_safe(None), spreadsheet_safe("")) == ("", "")


def test_rows_are_ordered_by_member_cin_then_patient_id_without_a_cin_last() -> None:
    patients = {
        1: Patient(1, 1, member_id="B2"),
        2: Patient(2, 1, member_id="A9"),
        3: Patient(3, 1),
        4: Patient(4, 1, member_id="A9"),
    }

    ordered = sorted([1, 2, 3, 4, 5], key=lambda i: row_order(i, patients.get(i)))

    assert ordered == [2, 4, 1, 3, 5]


def test_a_row_has_every_column_dates_in_the_clinic_s_zone() -> None:
    # 02:00 UTC on July 2 is still July 1 in Los Angeles.
    found = tally_of(text_sent(datetime(2024, 7, 2, 2, tzinfo=UTC)), call())
    patient = Patient(
        123,
        1,
        member_id="91234567A",
        first_name="Pat",
        last_name="Example",
        date_of_birth=date(1960, 2, 29),
        coordinator_id=101,
    )
    provider = Provider(NPI, "Harbor Health", PhoneNumber("+18055550100"))

    row = prtf_row(JULY, provider, found, patient, "Dana Coordinator")

    assert dict(zip(COLUMNS, row, strict=True)) == {
        "Reporting Period Start": "2024-07-01",
        "Reporting Period End": "2024-07-31",
        "ECM Provider Name": "Harbor Health",
        "ECM Provider NPI": "1234567893",
        "ECM Provider Phone": "+18055550100",
        "Patient ID": "123",
        "Member CIN": "91234567A",
        "Member Last Name": "Example",
        "Member First Name": "Pat",
        "Member Date of Birth": "1960-02-29",
        "Lead Care Manager": "Dana Coordinator",
        "Telehealth Outreach Count": "1",
        "Telehealth Encounter Count": "1",
        "Member Response Count": "0",
        "Successful Contact": "Y",
        "First Outreach Date": "2024-07-01",
        "Last Outreach Date": "2024-07-10",
        "Last Encounter Date": "2024-07-10",
        "Outreach Methods": "Text;Telephonic",
    }


def test_a_patient_the_directory_does_not_know_keeps_counts_with_empty_member_cells() -> None:
    row = prtf_row(JULY, Provider(NPI), tally_of(text_received()), None, None)

    assert row[5:] == ["123", "", "", "", "", "", "0", "0", "1", "Y", "", "", "", ""]
    assert row[2:5] == ["", "1234567893", ""]


def test_names_in_a_row_are_made_spreadsheet_safe() -> None:
    patient = Patient(123, 1, member_id="@SUM(1)", first_name="=1+1", last_name="-2")
    provider = Provider(NPI, "+Clinic")

    cells = prtf_row(JULY, provider, tally_of(text_sent()), patient, "\tDana")
    row = dict(zip(COLUMNS, cells, strict=True))

    assert [row[c] for c in ("ECM Provider Name", "Member CIN", "Member First Name")] == [
        "'+Clinic",
        "'@SUM(1)",
        "'=1+1",
    ]
    assert [row["Member Last Name"], row["Lead Care Manager"]] == ["'-2", "'\tDana"]


def test_the_file_is_utf8_without_bom_with_crlf_line_ends_and_rfc4180_quoting() -> None:
    content = prtf_csv([["Zoë", 'say "hi", then', "two\nlines"]])

    assert not content.startswith(b"\xef\xbb\xbf")
    header, row = content.split(b"\r\n", 1)
    assert header.decode() == ",".join(COLUMNS)
    assert row == 'Zoë,"say ""hi"", then","two\nlines"\r\n'.encode()


def test_the_file_reads_back_as_its_rows() -> None:
    rows = [["a,b", "'=1", ""], ["é", "x", "y"]]

    read = list(csv.reader(io.StringIO(prtf_csv(rows).decode(), newline="")))

    assert read == [list(COLUMNS), *rows]


def test_the_file_name_holds_the_npi_the_period_s_month_and_the_day_generated() -> None:
    name = prtf_filename(NPI, date(2024, 7, 1), date(2024, 8, 5))

    assert name == "PRTF_1234567893_072024_08052024.csv"


def test_years_in_the_file_name_have_four_digits() -> None:
    assert prtf_filename(NPI, date(999, 1, 1), date(2024, 1, 2)) == (
        "PRTF_1234567893_010999_01022024.csv"
    )


# --- the use cases ------------------------------------------------------------------------------

ADMIN = User(1, 1, "Ada Admin", role=Role.ADMIN)
COORDINATOR = User(101, 1, "Dana Coordinator")
OTHER_ADMIN = User(2, 2, "Otto Admin", role=Role.ADMIN)
HARBOR = Clinic(1, "Harbor Health", npi=NPI, phone=PhoneNumber("+18055550100"))


class FakeReportViews:
    """The events of clinic 1 as given, filtered by instant as the real views do."""

    def __init__(self, *events: EventRow) -> None:
        self.events_given = events
        self.asked: list[tuple[int, datetime, datetime]] = []

    def events(self, clinic_id: int, since: datetime, until: datetime) -> Iterator[EventRow]:
        self.asked.append((clinic_id, since, until))
        if clinic_id == 1:
            yield from (e for e in self.events_given if since <= e.occurred_at < until)


class Service:
    def __init__(self, *events: EventRow, clinic: Clinic | None = HARBOR) -> None:
        self.views = FakeReportViews(*events)
        self.reports = InMemoryPrtfReports()
        self.clinics = InMemoryClinicDirectory((clinic,) if clinic else ())
        self.patients = InMemoryPatientDirectory(
            (Patient(123, 1, member_id="A1", coordinator_id=101),)
        )
        self.users = InMemoryUserDirectory()
        for user in (ADMIN, COORDINATOR, OTHER_ADMIN):
            self.users.add(user, f"digest-{user.id}")
        self.clock = FixedClock(datetime(2024, 8, 1, 3, tzinfo=UTC))  # July 31 in Los Angeles
        self.generate = GeneratePrtfReportHandler(
            self.views,
            self.reports,
            self.clinics,
            self.patients,
            self.users,
            self.clock,
            encounter_min_call_seconds=MIN_SECONDS,
        )


def july(user: User | None = ADMIN, **fields: str | None) -> GeneratePrtfReport:
    return GeneratePrtfReport(
        clinic_id=1, start_date="2024-07-01", end_date="2024-07-31", requested_by=user, **fields
    )


def test_a_report_is_kept_with_its_file_and_named_on_the_clinic_s_day() -> None:
    service = Service(text_sent())

    produced = service.generate(july())

    assert produced.report == replace(
        produced.report,
        id=1,
        clinic_id=1,
        filename="PRTF_1234567893_072024_07312024.csv",
        provider_npi="1234567893",
        provider_name="Harbor Health",
        provider_phone="+18055550100",
        patient_count=1,
        created_by_id=ADMIN.id,
    )
    assert service.reports.file(1, 1) == produced


def test_the_events_read_are_the_period_s_days_in_the_clinic_s_zone() -> None:
    service = Service()

    service.generate(july())

    assert service.views.asked == [
        (1, datetime(2024, 7, 1, 7, tzinfo=UTC), datetime(2024, 8, 1, 7, tzinfo=UTC))
    ]


def test_the_lead_care_manager_is_the_patient_s_coordinator() -> None:
    content = Service(text_sent()).generate(july()).content

    assert content.decode().splitlines()[1].split(",")[10] == "Dana Coordinator"


def test_a_coordinator_of_another_clinic_is_not_named() -> None:
    service = Service(text_sent())
    service.patients.upsert(Patient(123, 1, member_id="A1", coordinator_id=OTHER_ADMIN.id))

    content = service.generate(july()).content

    assert content.decode().splitlines()[1].split(",")[10] == ""


def test_the_request_s_provider_replaces_the_clinic_s() -> None:
    report = (
        Service()
        .generate(
            july(provider_npi=OTHER_NPI, provider_name=" Mesa ", provider_phone="805-555-0111")
        )
        .report
    )

    assert (report.provider_npi, report.provider_name, report.provider_phone) == (
        OTHER_NPI,
        "Mesa",
        "+18055550111",
    )


def test_a_coordinator_may_not_produce_a_report() -> None:
    service = Service(text_sent())

    with pytest.raises(AdminRequired):
        service.generate(july(COORDINATOR))

    assert service.reports.files == {}


def test_an_admin_of_another_clinic_may_not_produce_this_one_s() -> None:
    with pytest.raises(AdminRequired):
        Service().generate(july(OTHER_ADMIN))


def test_the_operator_may_not_report_on_a_clinic_without_a_record() -> None:
    with pytest.raises(UnknownClinic, match="Clinic 1 not found"):
        Service(clinic=None).generate(july(None, provider_npi=OTHER_NPI))


def test_an_admin_s_clinic_without_a_record_reports_with_the_npi_given() -> None:
    report = Service(clinic=None).generate(july(provider_npi=OTHER_NPI)).report

    assert (report.provider_npi, report.provider_name, report.provider_phone) == (
        OTHER_NPI,
        None,
        None,
    )


def test_a_report_needs_an_npi() -> None:
    with pytest.raises(InvalidInput) as refused:
        Service(clinic=replace(HARBOR, npi=None)).generate(july())

    assert refused.value.messages == ["Provider NPI is required"]


def test_every_problem_is_reported_at_once() -> None:
    service = Service()

    with pytest.raises(InvalidInput) as refused:
        service.generate(
            replace(
                july(provider_npi="1234567890", provider_phone="12", provider_name="x" * 201),
                start_date="2024-13-01",
                end_date=None,
            )
        )

    assert dict(zip(refused.value.fields, refused.value.messages, strict=True)) == {
        "start_date": "start_date must be a date as YYYY-MM-DD",
        "end_date": "end_date is required",
        "provider_npi": "Invalid provider NPI",
        "provider_name": "Provider name is too long (maximum is 200 characters)",
        "provider_phone": "Invalid provider phone number",
    }
    assert service.reports.files == {}


def test_a_provider_name_that_cannot_be_stored_is_refused() -> None:
    with pytest.raises(InvalidInput, match="Provider name contains characters"):
        Service().generate(july(provider_name="Harbor\x00"))


def test_a_period_at_the_end_of_the_calendar_reads_as_far_as_it_can() -> None:
    service = Service(text_sent())

    produced = service.generate(replace(july(), start_date="0001-01-01", end_date="9999-12-31"))

    assert produced.report.patient_count == 1
    assert produced.report.filename.startswith("PRTF_1234567893_010001_")


def test_reports_are_listed_newest_first_for_the_admin_s_clinic_only() -> None:
    service = Service()
    first = service.generate(july()).report
    service.clock.advance(timedelta(days=1))
    second = service.generate(july()).report
    service.clinics.upsert(replace(HARBOR, id=2))
    service.generate(replace(july(OTHER_ADMIN), clinic_id=2))

    listed = ListPrtfReportsHandler(service.reports)(ListPrtfReports(ADMIN))

    assert listed == [second, first]


def test_a_report_is_read_and_downloaded_by_its_clinic_s_admin() -> None:
    service = Service(text_sent())
    produced = service.generate(july())
    assert produced.report.id is not None
    query = GetPrtfReport(produced.report.id, ADMIN)

    assert GetPrtfReportHandler(service.reports)(query) == produced.report
    assert DownloadPrtfReportHandler(service.reports)(query) == produced


@pytest.mark.parametrize("report_id", [1, 2, None])
def test_another_clinic_s_report_an_unknown_one_or_no_id_is_not_found(
    report_id: int | None,
) -> None:
    service = Service()
    service.generate(july())

    for handler in (GetPrtfReportHandler, DownloadPrtfReportHandler):
        with pytest.raises(RecordNotFound):
            handler(service.reports)(GetPrtfReport(report_id, OTHER_ADMIN))


def test_only_admins_list_read_or_download_reports() -> None:
    service = Service()
    service.generate(july())

    with pytest.raises(AdminRequired):
        ListPrtfReportsHandler(service.reports)(ListPrtfReports(COORDINATOR))
    for handler in (GetPrtfReportHandler, DownloadPrtfReportHandler):
        with pytest.raises(AdminRequired):
            handler(service.reports)(GetPrtfReport(1, COORDINATOR))
