"""Checking what a coordinator typed before anything is sent: every problem at once."""

from __future__ import annotations

from ecm_comms.domain.errors import InvalidInput, PatientNotFound, ValidationError
from ecm_comms.domain.people import Patient, User
from ecm_comms.domain.phone_numbers import PhoneNumber
from ecm_comms.domain.sms_bodies import SmsBody
from ecm_comms.ports.directories import PatientDirectory


def find_patient(patients: PatientDirectory, patient_id: int, user: User) -> Patient:
    """The patient if the user's clinic may reach them; another clinic's patient does not exist."""
    patient = patients.find(patient_id, user.clinic_id)
    if patient is None or not patient.belongs_to(user.clinic_id):
        raise PatientNotFound()
    return patient


def parse_recipient(raw: str | None, region: str) -> PhoneNumber:
    try:
        return PhoneNumber.parse(raw, region)
    except ValidationError as problem:
        raise InvalidInput([problem.message]) from problem


def parse_sms(
    raw_number: str | None, raw_body: str | None, region: str
) -> tuple[PhoneNumber, SmsBody]:
    problems: list[str] = []
    to = body = None
    try:
        to = PhoneNumber.parse(raw_number, region)
    except ValidationError as problem:
        problems.append(problem.message)
    try:
        body = SmsBody.parse(raw_body)
    except ValidationError as problem:
        problems.append(problem.message)
    if to is None or body is None:
        raise InvalidInput(problems)
    return to, body
