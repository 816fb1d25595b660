"""Who may act: authenticating API tokens, registering users and patients."""

from __future__ import annotations

from dataclasses import dataclass

from ecm_comms.domain.clinics import parse_timezone
from ecm_comms.domain.commands import (
    Authenticate,
    IssueToken,
    RegisterUser,
    RevokeToken,
    SetUserRole,
    UpsertPatient,
)
from ecm_comms.domain.errors import (
    InvalidInput,
    NotAuthenticated,
    UnknownUser,
    UserAlreadyExists,
    ValidationError,
)
from ecm_comms.domain.people import Patient, Role, User
from ecm_comms.domain.phone_numbers import PhoneNumber
from ecm_comms.domain.reporting import parse_day
from ecm_comms.domain.tokens import ApiToken
from ecm_comms.ports.directories import PatientRegistry, UserDirectory, UserRegistry

TOKEN_REQUIRED = "A user token is required"
TOKEN_INVALID = "Invalid user token"


class AuthenticateHandler:
    def __init__(self, users: UserDirectory) -> None:
        self._users = users

    def __call__(self, command: Authenticate) -> User:
        if not command.token:
            raise NotAuthenticated([TOKEN_REQUIRED])
        # Only digests are compared, by the directory: the token itself never is, so its
        # comparison leaks nothing about it through timing.
        user = self._users.find_by_token_digest(ApiToken(command.token).digest)
        if user is None:
            raise NotAuthenticated([TOKEN_INVALID])
        return user


@dataclass(frozen=True, slots=True)
class UserRegistered:
    user: User
    token: ApiToken


class RegisterUserHandler:
    def __init__(self, users: UserRegistry, default_region: str = "US") -> None:
        self._users = users
        self._region = default_region

    def __call__(self, command: RegisterUser) -> UserRegistered:
        if self._users.get(command.user_id) is not None:
            raise UserAlreadyExists([f"User {command.user_id} already exists"])
        phone = _parse_optional(command.phone_number, self._region)
        role = parse_role(command.role) if command.role else Role.COORDINATOR
        user = User(
            id=command.user_id,
            clinic_id=command.clinic_id,
            name=command.name,
            phone=phone,
            role=role,
        )
        token = ApiToken.generate()
        self._users.add(user, token.digest)
        return UserRegistered(user, token)


class IssueTokenHandler:
    def __init__(self, users: UserRegistry) -> None:
        self._users = users

    def __call__(self, command: IssueToken) -> ApiToken:
        if self._users.get(command.user_id) is None:
            raise UnknownUser([f"User {command.user_id} not found"])
        token = ApiToken.generate()
        self._users.replace_token(command.user_id, token.digest)
        return token


class RevokeTokenHandler:
    def __init__(self, users: UserRegistry) -> None:
        self._users = users

    def __call__(self, command: RevokeToken) -> None:
        self._users.revoke_token(command.user_id)


class SetUserRoleHandler:
    def __init__(self, users: UserRegistry) -> None:
        self._users = users

    def __call__(self, command: SetUserRole) -> Role:
        role = parse_role(command.role)
        self._users.set_role(command.user_id, role)
        return role


def parse_role(raw: str) -> Role:
    try:
        return Role(raw.strip().lower())
    except ValueError:
        raise InvalidInput(["Role must be coordinator or admin"], ["role"]) from None


class UpsertPatientHandler:
    def __init__(self, patients: PatientRegistry, default_region: str = "US") -> None:
        self._patients = patients
        self._region = default_region

    def __call__(self, command: UpsertPatient) -> Patient:
        problems: list[str] = []
        phones: list[PhoneNumber] = []
        for raw in command.phone_numbers:
            try:
                phone = PhoneNumber.parse(raw, self._region)
            except ValidationError as problem:
                problems.append(f"{problem.message}: {raw!r}")
                continue
            if phone not in phones:
                phones.append(phone)
        fields: list[str | None] = [None] * len(problems)
        born = None
        if command.date_of_birth:
            try:
                born = parse_day(command.date_of_birth, "date_of_birth", "Date of birth")
            except InvalidInput as invalid:
                problems += invalid.messages
                fields += invalid.fields
        timezone = None
        if command.timezone and command.timezone.strip():
            try:
                timezone = parse_timezone(command.timezone)
            except ValidationError as problem:
                problems.append(problem.message)
                fields.append("timezone")
        if problems:
            raise InvalidInput(problems, fields)
        patient = Patient(
            id=command.patient_id,
            clinic_id=command.clinic_id,
            phones=tuple(phones),
            name=command.name,
            coordinator_id=command.coordinator_id,
            member_id=_text(command.member_id),
            first_name=_text(command.first_name),
            last_name=_text(command.last_name),
            date_of_birth=born,
            timezone=timezone,
        )
        self._patients.upsert(patient)
        return patient


def _text(raw: str | None) -> str | None:
    return (raw or "").strip() or None


def _parse_optional(raw: str | None, region: str) -> PhoneNumber | None:
    if raw is None or not raw.strip():
        return None
    try:
        return PhoneNumber.parse(raw, region)
    except ValidationError as problem:
        raise InvalidInput([problem.message]) from problem
