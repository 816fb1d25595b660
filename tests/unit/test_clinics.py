"""Clinics as records: their NPI, time zone and Twilio numbers, and who sends for them."""

from __future__ import annotations

from datetime import time

import pytest

from ecm_comms.adapters.memory import InMemoryClinicDirectory
from ecm_comms.domain.clinics import (
    DEFAULT_TIMEZONE,
    INVALID_MESSAGING_SERVICE_SID,
    INVALID_NPI,
    UNKNOWN_TIMEZONE,
    Clinic,
    ClinicNumber,
    Npi,
    Sender,
    consent_scope,
    main_line,
    parse_messaging_service_sid,
    parse_timezone,
    sender_for,
)
from ecm_comms.domain.commands import AddClinicNumber, RemoveClinicNumber, UpsertClinic
from ecm_comms.domain.errors import InvalidInput, NumberTaken, UnknownClinic, ValidationError
from ecm_comms.domain.phone_numbers import PhoneNumber
from ecm_comms.domain.sending_limits import (
    INVALID_DAILY_CAP,
    INVALID_SEND_WINDOW,
    INVALID_WEEKLY_CAP,
    FrequencyCaps,
    SendWindow,
)
from ecm_comms.domain.use_cases.clinics import (
    AddClinicNumberHandler,
    RemoveClinicNumberHandler,
    UpsertClinicHandler,
)

VALID_NPI = "1234567893"
FULL_WIDTH_NPI = "".join(chr(ord(digit) - ord("0") + 0xFF10) for digit in VALID_NPI)
SERVICE_SID = "MG" + "0123456789abcdef" * 2
HARBOR_LINE = PhoneNumber("+18059876543")
HARBOR_SECOND_LINE = PhoneNumber("+18059870002")
HARBOR_MAIN = PhoneNumber("+18055550100")
SHARED = PhoneNumber("+15005550006")
SETTINGS_MAIN_LINE = PhoneNumber("+18055550199")


def harbor(*numbers: ClinicNumber, phone: PhoneNumber | None = None) -> Clinic:
    return Clinic(1, "Harbor Health", phone=phone, numbers=numbers)


# NPI.


def test_an_npi_with_its_check_digit_is_accepted() -> None:
    assert Npi.parse(VALID_NPI) == Npi(VALID_NPI)


def test_an_npi_is_read_without_surrounding_spaces() -> None:
    assert Npi.parse(f"  {VALID_NPI} ") == Npi(VALID_NPI)


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param("1234567890", id="wrong check digit"),
        pytest.param("123456789", id="nine digits"),
        pytest.param("12345678933", id="eleven digits"),
        pytest.param("12345678ab", id="letters"),
        pytest.param(FULL_WIDTH_NPI, id="full-width digits"),
        pytest.param("-234567893", id="a sign"),
    ],
)
def test_an_npi_that_is_not_ten_digits_with_a_valid_check_digit_is_refused(raw: str) -> None:
    with pytest.raises(ValidationError, match=INVALID_NPI):
        Npi.parse(raw)


# Time zones.


@pytest.mark.parametrize("name", ["America/Los_Angeles", "America/New_York", "UTC"])
def test_an_iana_time_zone_is_kept_as_given(name: str) -> None:
    assert parse_timezone(name) == name


@pytest.mark.parametrize("name", ["Pacific", "America/Springfield", "../../etc/passwd"])
def test_a_name_that_is_not_an_iana_time_zone_is_refused(name: str) -> None:
    with pytest.raises(ValidationError, match=UNKNOWN_TIMEZONE.split(" (")[0]):
        parse_timezone(name)


# Messaging Service SIDs.


def test_a_messaging_service_sid_is_mg_and_32_hex_digits() -> None:
    assert parse_messaging_service_sid(f" {SERVICE_SID} ") == SERVICE_SID


@pytest.mark.parametrize("raw", ["MG123", "PN" + "0" * 32, "MG" + "g" * 32])
def test_anything_else_is_not_a_messaging_service_sid(raw: str) -> None:
    with pytest.raises(ValidationError, match=INVALID_MESSAGING_SERVICE_SID):
        parse_messaging_service_sid(raw)


# The sending number.


def test_a_clinic_without_numbers_has_no_sending_number() -> None:
    assert harbor().sending_number is None


def test_the_first_number_added_is_the_sending_number() -> None:
    first, second = ClinicNumber(HARBOR_LINE, 1), ClinicNumber(HARBOR_SECOND_LINE, 1)

    assert harbor(first, second).sending_number == first


def test_a_number_marked_default_is_the_sending_number_whatever_its_place() -> None:
    marked = ClinicNumber(HARBOR_SECOND_LINE, 1, is_default=True)

    assert harbor(ClinicNumber(HARBOR_LINE, 1), marked).sending_number == marked


def test_a_clinic_sends_from_its_sending_number_as_itself() -> None:
    clinic = harbor(ClinicNumber(HARBOR_LINE, 1))

    assert sender_for(clinic, SHARED) == Sender(HARBOR_LINE, None, clinic_id=1)


def test_a_clinic_whose_sending_number_has_a_messaging_service_sends_through_it() -> None:
    clinic = harbor(ClinicNumber(HARBOR_LINE, 1, SERVICE_SID))

    assert sender_for(clinic, SHARED) == Sender(HARBOR_LINE, SERVICE_SID, clinic_id=1)


def test_a_clinic_without_numbers_sends_from_the_shared_number_as_no_clinic() -> None:
    assert sender_for(harbor(), SHARED) == Sender(SHARED, None, clinic_id=None)


def test_a_clinic_without_a_record_sends_from_the_shared_number() -> None:
    assert sender_for(None, SHARED) == Sender(SHARED)


# Whose opt-outs bind a clinic's SMS.


def test_a_clinic_with_numbers_of_its_own_keeps_its_own_opt_outs() -> None:
    assert consent_scope(harbor(ClinicNumber(HARBOR_LINE, 1))) == 1


def test_a_clinic_without_numbers_is_bound_by_the_shared_numbers_opt_outs() -> None:
    assert consent_scope(harbor()) is None


def test_a_clinic_without_a_record_is_bound_by_the_shared_numbers_opt_outs() -> None:
    assert consent_scope(None) is None


# The main line.


def test_calls_are_put_through_to_the_clinics_main_line() -> None:
    assert main_line(harbor(phone=HARBOR_MAIN), SETTINGS_MAIN_LINE) == HARBOR_MAIN


def test_a_clinic_without_a_main_line_uses_the_settings_one() -> None:
    assert main_line(harbor(), SETTINGS_MAIN_LINE) == SETTINGS_MAIN_LINE


def test_a_clinic_without_a_record_uses_the_settings_main_line() -> None:
    assert main_line(None, SETTINGS_MAIN_LINE) == SETTINGS_MAIN_LINE


def test_without_any_main_line_there_is_none() -> None:
    assert main_line(harbor(), None) is None


# The clinic use cases, on the in-memory registry.


@pytest.fixture
def clinics() -> InMemoryClinicDirectory:
    return InMemoryClinicDirectory()


@pytest.fixture
def upsert(clinics: InMemoryClinicDirectory) -> UpsertClinicHandler:
    return UpsertClinicHandler(clinics)


@pytest.fixture
def add_number(clinics: InMemoryClinicDirectory) -> AddClinicNumberHandler:
    return AddClinicNumberHandler(clinics)


@pytest.fixture
def remove_number(clinics: InMemoryClinicDirectory) -> RemoveClinicNumberHandler:
    return RemoveClinicNumberHandler(clinics)


def test_an_upserted_clinic_is_on_record_with_its_details(
    upsert: UpsertClinicHandler, clinics: InMemoryClinicDirectory
) -> None:
    upsert(
        UpsertClinic(
            1,
            " Harbor Health ",
            npi=VALID_NPI,
            phone_number="(805) 555-0100",
            timezone="America/New_York",
        )
    )

    assert clinics.get(1) == Clinic(
        1, "Harbor Health", Npi(VALID_NPI), HARBOR_MAIN, "America/New_York"
    )


def test_a_clinic_upserted_without_a_time_zone_is_in_californias(
    upsert: UpsertClinicHandler,
) -> None:
    assert upsert(UpsertClinic(1, "Harbor Health")).timezone == DEFAULT_TIMEZONE


def test_upserting_a_clinic_again_keeps_its_numbers(
    upsert: UpsertClinicHandler,
    add_number: AddClinicNumberHandler,
    clinics: InMemoryClinicDirectory,
) -> None:
    upsert(UpsertClinic(1, "Harbor Health"))
    add_number(AddClinicNumber(1, HARBOR_LINE.e164))

    upsert(UpsertClinic(1, "Harbor Health Center"))

    assert clinics.get(1) == Clinic(
        1, "Harbor Health Center", numbers=(ClinicNumber(HARBOR_LINE, 1),)
    )


@pytest.mark.parametrize(
    ("command", "field"),
    [
        pytest.param(UpsertClinic(1, "Harbor", npi="1234567890"), "npi", id="npi"),
        pytest.param(UpsertClinic(1, "Harbor", timezone="Mars/Olympus"), "timezone", id="timezone"),
        pytest.param(UpsertClinic(1, "Harbor", phone_number="12345"), "phone", id="phone"),
        pytest.param(UpsertClinic(1, "  "), "name", id="name"),
    ],
)
def test_an_upsert_with_a_bad_field_names_it_and_stores_nothing(
    upsert: UpsertClinicHandler,
    clinics: InMemoryClinicDirectory,
    command: UpsertClinic,
    field: str,
) -> None:
    with pytest.raises(InvalidInput) as refused:
        upsert(command)

    assert refused.value.fields == [field]
    assert clinics.all() == []


def test_an_upsert_reports_every_bad_field_at_once(upsert: UpsertClinicHandler) -> None:
    with pytest.raises(InvalidInput) as refused:
        upsert(UpsertClinic(1, "Harbor", npi="123", timezone="Nowhere"))

    assert refused.value.fields == ["npi", "timezone"]


def test_an_upserted_clinic_keeps_the_limits_of_its_automated_sms(
    upsert: UpsertClinicHandler, clinics: InMemoryClinicDirectory
) -> None:
    upsert(UpsertClinic(1, "Harbor", send_window=" 09:00-20:00 ", daily_cap=2, weekly_cap=5))

    clinic = clinics.get(1)
    assert clinic is not None
    assert (clinic.send_window, clinic.caps) == (
        SendWindow(time(9), time(20)),
        FrequencyCaps(daily=2, weekly=5),
    )


def test_a_clinic_upserted_without_limits_has_the_exemptions_own(
    upsert: UpsertClinicHandler,
) -> None:
    clinic = upsert(UpsertClinic(1, "Harbor", send_window=" "))

    assert (clinic.send_window, clinic.caps) == (SendWindow(time(8), time(21)), FrequencyCaps(1, 3))


def test_a_cap_left_out_is_at_its_default(upsert: UpsertClinicHandler) -> None:
    assert upsert(UpsertClinic(1, "Harbor", weekly_cap=5)).caps == FrequencyCaps(1, 5)


@pytest.mark.parametrize(
    ("command", "problems"),
    [
        pytest.param(
            UpsertClinic(1, "Harbor", send_window="07:00-20:00"),
            {"send_window": INVALID_SEND_WINDOW},
            id="window-before-eight",
        ),
        pytest.param(
            UpsertClinic(1, "Harbor", send_window="evenings"),
            {"send_window": INVALID_SEND_WINDOW},
            id="window-not-hours",
        ),
        pytest.param(
            UpsertClinic(1, "Harbor", daily_cap=0), {"daily_cap": INVALID_DAILY_CAP}, id="daily"
        ),
        pytest.param(
            UpsertClinic(1, "Harbor", weekly_cap=0), {"weekly_cap": INVALID_WEEKLY_CAP}, id="weekly"
        ),
        pytest.param(
            UpsertClinic(1, "Harbor", daily_cap=4),
            {"weekly_cap": INVALID_WEEKLY_CAP},
            id="daily-above-the-default-weekly",
        ),
        pytest.param(
            UpsertClinic(1, "Harbor", daily_cap=0, weekly_cap=0),
            {"daily_cap": INVALID_DAILY_CAP, "weekly_cap": INVALID_WEEKLY_CAP},
            id="both",
        ),
    ],
)
def test_limits_out_of_bounds_are_refused_naming_the_field_and_nothing_is_stored(
    upsert: UpsertClinicHandler,
    clinics: InMemoryClinicDirectory,
    command: UpsertClinic,
    problems: dict[str, str],
) -> None:
    with pytest.raises(InvalidInput) as refused:
        upsert(command)

    assert dict(zip(refused.value.fields, refused.value.messages, strict=True)) == problems
    assert clinics.all() == []


def test_bad_limits_are_reported_with_the_other_bad_fields(upsert: UpsertClinicHandler) -> None:
    with pytest.raises(InvalidInput) as refused:
        upsert(UpsertClinic(1, "Harbor", npi="123", send_window="9-5", weekly_cap=0))

    assert refused.value.fields == ["npi", "send_window", "weekly_cap"]


def test_a_number_is_added_in_e164(
    upsert: UpsertClinicHandler,
    add_number: AddClinicNumberHandler,
    clinics: InMemoryClinicDirectory,
) -> None:
    upsert(UpsertClinic(1, "Harbor Health"))

    add_number(AddClinicNumber(1, "(805) 987-6543", SERVICE_SID))

    assert clinics.holding(HARBOR_LINE) == harbor(ClinicNumber(HARBOR_LINE, 1, SERVICE_SID))


def test_a_number_added_as_default_becomes_the_only_default(
    upsert: UpsertClinicHandler,
    add_number: AddClinicNumberHandler,
    clinics: InMemoryClinicDirectory,
) -> None:
    upsert(UpsertClinic(1, "Harbor Health"))
    add_number(AddClinicNumber(1, "+18059870001", default=True))

    add_number(AddClinicNumber(1, HARBOR_SECOND_LINE.e164, default=True))

    clinic = clinics.get(1)
    assert clinic is not None
    assert [n.number for n in clinic.numbers if n.is_default] == [HARBOR_SECOND_LINE]
    assert clinic.sending_number == ClinicNumber(HARBOR_SECOND_LINE, 1, is_default=True)


def test_a_number_for_a_clinic_without_a_record_is_refused(
    add_number: AddClinicNumberHandler, clinics: InMemoryClinicDirectory
) -> None:
    with pytest.raises(UnknownClinic, match="Clinic 7 not found"):
        add_number(AddClinicNumber(7, HARBOR_LINE.e164))

    assert clinics.holding(HARBOR_LINE) is None


def test_a_number_another_clinic_holds_is_refused_naming_only_its_last_four_digits(
    upsert: UpsertClinicHandler,
    add_number: AddClinicNumberHandler,
    clinics: InMemoryClinicDirectory,
) -> None:
    upsert(UpsertClinic(1, "Harbor Health"))
    upsert(UpsertClinic(2, "Mesa Clinic"))
    add_number(AddClinicNumber(1, HARBOR_LINE.e164))

    with pytest.raises(NumberTaken) as refused:
        add_number(AddClinicNumber(2, HARBOR_LINE.e164))

    [message] = refused.value.messages
    assert "6543" in message
    assert "987" not in message
    assert clinics.holding(HARBOR_LINE) == harbor(ClinicNumber(HARBOR_LINE, 1))


@pytest.mark.parametrize(
    ("command", "field"),
    [
        pytest.param(AddClinicNumber(1, "12345"), "number", id="number"),
        pytest.param(
            AddClinicNumber(1, HARBOR_LINE.e164, "MG123"), "messaging_service_sid", id="service"
        ),
    ],
)
def test_an_added_number_with_a_bad_field_names_it_and_adds_nothing(
    upsert: UpsertClinicHandler,
    add_number: AddClinicNumberHandler,
    clinics: InMemoryClinicDirectory,
    command: AddClinicNumber,
    field: str,
) -> None:
    upsert(UpsertClinic(1, "Harbor Health"))

    with pytest.raises(InvalidInput) as refused:
        add_number(command)

    assert refused.value.fields == [field]
    assert clinics.get(1) == harbor()


def test_a_removed_number_belongs_to_no_clinic(
    upsert: UpsertClinicHandler,
    add_number: AddClinicNumberHandler,
    remove_number: RemoveClinicNumberHandler,
    clinics: InMemoryClinicDirectory,
) -> None:
    upsert(UpsertClinic(1, "Harbor Health"))
    add_number(AddClinicNumber(1, HARBOR_LINE.e164))

    assert remove_number(RemoveClinicNumber("805-987-6543")) == HARBOR_LINE

    assert clinics.holding(HARBOR_LINE) is None
    assert clinics.get(1) == harbor()


def test_after_its_sending_number_is_removed_a_clinic_sends_from_its_next_number(
    upsert: UpsertClinicHandler,
    add_number: AddClinicNumberHandler,
    remove_number: RemoveClinicNumberHandler,
    clinics: InMemoryClinicDirectory,
) -> None:
    upsert(UpsertClinic(1, "Harbor Health"))
    add_number(AddClinicNumber(1, HARBOR_LINE.e164))
    add_number(AddClinicNumber(1, HARBOR_SECOND_LINE.e164))

    remove_number(RemoveClinicNumber(HARBOR_LINE.e164))

    clinic = clinics.get(1)
    assert clinic is not None
    assert clinic.sending_number == ClinicNumber(HARBOR_SECOND_LINE, 1)


def test_removing_a_number_no_clinic_holds_is_refused_naming_only_its_last_four_digits(
    remove_number: RemoveClinicNumberHandler,
) -> None:
    with pytest.raises(UnknownClinic) as refused:
        remove_number(RemoveClinicNumber(HARBOR_LINE.e164))

    assert refused.value.messages == ["No clinic holds the number ending 6543"]


def test_removing_something_that_is_not_a_number_is_refused_naming_the_number(
    remove_number: RemoveClinicNumberHandler,
) -> None:
    with pytest.raises(InvalidInput) as refused:
        remove_number(RemoveClinicNumber("12345"))

    assert refused.value.fields == ["number"]


def test_clinics_are_listed_by_id(
    upsert: UpsertClinicHandler, clinics: InMemoryClinicDirectory
) -> None:
    upsert(UpsertClinic(2, "Mesa Clinic"))
    upsert(UpsertClinic(1, "Harbor Health"))

    assert [clinic.id for clinic in clinics.all()] == [1, 2]
