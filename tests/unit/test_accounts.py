"""Who may act: authenticating API tokens, registering users, issuing tokens, upserting patients."""

from __future__ import annotations

import pytest

from ecm_comms.adapters.memory import InMemoryPatientDirectory, InMemoryUserDirectory
from ecm_comms.domain.clinics import UNKNOWN_TIMEZONE
from ecm_comms.domain.commands import Authenticate, IssueToken, RegisterUser, UpsertPatient
from ecm_comms.domain.errors import InvalidInput, NotAuthenticated, UnknownUser, UserAlreadyExists
from ecm_comms.domain.people import Patient, User
from ecm_comms.domain.phone_numbers import PhoneNumber
from ecm_comms.domain.use_cases.accounts import (
    AuthenticateHandler,
    IssueTokenHandler,
    RegisterUserHandler,
    UpsertPatientHandler,
)

DANA = RegisterUser(user_id=101, clinic_id=1, name="Dana Coordinator", phone_number="805-555-0101")


@pytest.fixture
def users() -> InMemoryUserDirectory:
    return InMemoryUserDirectory()


@pytest.fixture
def register_user(users: InMemoryUserDirectory) -> RegisterUserHandler:
    return RegisterUserHandler(users)


@pytest.fixture
def authenticate(users: InMemoryUserDirectory) -> AuthenticateHandler:
    return AuthenticateHandler(users)


@pytest.fixture
def issue_token(users: InMemoryUserDirectory) -> IssueTokenHandler:
    return IssueTokenHandler(users)


@pytest.fixture
def patients() -> InMemoryPatientDirectory:
    return InMemoryPatientDirectory()


@pytest.fixture
def upsert_patient(patients: InMemoryPatientDirectory) -> UpsertPatientHandler:
    return UpsertPatientHandler(patients)


# Authenticating.


@pytest.mark.parametrize("token", [None, ""])
def test_a_missing_token_is_not_authenticated(
    authenticate: AuthenticateHandler, token: str | None
) -> None:
    with pytest.raises(NotAuthenticated) as refused:
        authenticate(Authenticate(token))

    # The domain knows no header names: the HTTP layer answers "X-User-Token header is required".
    assert refused.value.messages == ["A user token is required"]


def test_an_unknown_token_is_not_authenticated(
    authenticate: AuthenticateHandler, register_user: RegisterUserHandler
) -> None:
    register_user(DANA)

    with pytest.raises(NotAuthenticated) as refused:
        authenticate(Authenticate("not-a-token-anyone-was-given"))

    assert refused.value.messages == ["Invalid user token"]


def test_the_right_token_authenticates_its_user(
    authenticate: AuthenticateHandler, register_user: RegisterUserHandler
) -> None:
    registered = register_user(DANA)
    register_user(RegisterUser(user_id=102, clinic_id=1, name="Lee Coordinator"))

    assert authenticate(Authenticate(registered.token.value)) == registered.user


# Registering a user.


def test_a_registered_user_is_stored(
    register_user: RegisterUserHandler, users: InMemoryUserDirectory
) -> None:
    register_user(DANA)

    assert users.get(101) == User(
        id=101, clinic_id=1, name="Dana Coordinator", phone=PhoneNumber("+18055550101")
    )


def test_a_user_may_be_registered_without_a_phone(
    register_user: RegisterUserHandler, users: InMemoryUserDirectory
) -> None:
    register_user(RegisterUser(user_id=102, clinic_id=1, name="Lee Coordinator"))

    assert users.get(102) == User(id=102, clinic_id=1, name="Lee Coordinator", phone=None)


def test_only_the_digest_of_a_new_token_is_stored(
    register_user: RegisterUserHandler, users: InMemoryUserDirectory
) -> None:
    registered = register_user(DANA)

    assert list(users.token_digests.values()) == [registered.token.digest]
    assert registered.token.value not in users.token_digests.values()


def test_a_taken_user_id_is_refused(
    register_user: RegisterUserHandler, users: InMemoryUserDirectory
) -> None:
    first = register_user(DANA)

    with pytest.raises(UserAlreadyExists):
        register_user(RegisterUser(user_id=101, clinic_id=2, name="Someone Else"))

    assert users.get(101) == first.user
    assert users.token_digests == {101: first.token.digest}


def test_a_user_with_an_invalid_phone_is_refused(
    register_user: RegisterUserHandler, users: InMemoryUserDirectory
) -> None:
    with pytest.raises(InvalidInput) as refused:
        register_user(RegisterUser(user_id=102, clinic_id=1, name="Lee", phone_number="12345"))

    assert refused.value.messages == ["Invalid phone number"]
    assert users.users == {}


# Issuing a new token.


def test_a_new_token_works_and_the_old_one_stops_working(
    register_user: RegisterUserHandler,
    issue_token: IssueTokenHandler,
    authenticate: AuthenticateHandler,
) -> None:
    registered = register_user(DANA)

    new_token = issue_token(IssueToken(101))

    assert authenticate(Authenticate(new_token.value)) == registered.user
    with pytest.raises(NotAuthenticated):
        authenticate(Authenticate(registered.token.value))


def test_a_token_for_an_unknown_user_is_refused(
    issue_token: IssueTokenHandler, users: InMemoryUserDirectory
) -> None:
    with pytest.raises(UnknownUser):
        issue_token(IssueToken(999))

    assert users.token_digests == {}


# Upserting a patient.


def test_a_patients_phones_are_stored_in_e164(
    upsert_patient: UpsertPatientHandler, patients: InMemoryPatientDirectory
) -> None:
    upsert_patient(UpsertPatient(123, 1, ("(805) 123-4567", "805.555.0199")))

    assert patients.patients[123].phones == (
        PhoneNumber("+18051234567"),
        PhoneNumber("+18055550199"),
    )


def test_the_same_phone_typed_twice_is_stored_once(
    upsert_patient: UpsertPatientHandler, patients: InMemoryPatientDirectory
) -> None:
    upsert_patient(UpsertPatient(123, 1, ("805-123-4567", "+18051234567", "(805) 123-4567")))

    assert patients.patients[123].phones == (PhoneNumber("+18051234567"),)


def test_every_invalid_phone_of_a_patient_is_reported(
    upsert_patient: UpsertPatientHandler, patients: InMemoryPatientDirectory
) -> None:
    with pytest.raises(InvalidInput) as refused:
        upsert_patient(UpsertPatient(123, 1, ("abc", "805-123-4567", "12345", "")))

    assert refused.value.messages == [
        "Invalid phone number: 'abc'",
        "Invalid phone number: '12345'",
        "Phone number is required: ''",
    ]
    assert patients.patients == {}


def test_a_second_upsert_replaces_the_patient(
    upsert_patient: UpsertPatientHandler, patients: InMemoryPatientDirectory
) -> None:
    upsert_patient(UpsertPatient(123, 1, ("805-123-4567",), name="Pat", coordinator_id=101))

    upsert_patient(UpsertPatient(123, 1, ("805-555-0199",), name="Pat Example"))

    assert patients.patients == {
        123: Patient(
            id=123,
            clinic_id=1,
            phones=(PhoneNumber("+18055550199"),),
            name="Pat Example",
            coordinator_id=None,
        )
    }


def test_a_patients_time_zone_is_kept_as_given(
    upsert_patient: UpsertPatientHandler, patients: InMemoryPatientDirectory
) -> None:
    upsert_patient(UpsertPatient(123, 1, ("805-123-4567",), timezone=" America/New_York "))

    assert patients.patients[123].timezone == "America/New_York"


@pytest.mark.parametrize("timezone", [None, "", "  "])
def test_a_patient_without_a_time_zone_has_their_clinics(
    upsert_patient: UpsertPatientHandler, patients: InMemoryPatientDirectory, timezone: str | None
) -> None:
    upsert_patient(UpsertPatient(123, 1, ("805-123-4567",), timezone=timezone))

    assert patients.patients[123].timezone is None


def test_an_unknown_time_zone_is_refused_naming_it_with_the_other_problems(
    upsert_patient: UpsertPatientHandler, patients: InMemoryPatientDirectory
) -> None:
    with pytest.raises(InvalidInput) as refused:
        upsert_patient(
            UpsertPatient(123, 1, ("abc",), date_of_birth="1990-13-01", timezone="America/Gotham")
        )

    assert refused.value.fields == [None, "date_of_birth", "timezone"]
    assert refused.value.messages[-1] == UNKNOWN_TIMEZONE
    assert patients.patients == {}
