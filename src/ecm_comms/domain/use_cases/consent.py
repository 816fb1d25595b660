"""A patient number's SMS consent with the user's clinic: read it, or record a staff opt-out."""

from __future__ import annotations

from ecm_comms.domain.clinics import consent_scope
from ecm_comms.domain.commands import GetConsent, RecordConsent
from ecm_comms.domain.consent import (
    INVALID_ACTION,
    MAX_NOTE_LENGTH,
    NOTE_TOO_LONG,
    NOTE_UNSTORABLE,
    STAFF_OPT_IN_REFUSED,
    Consent,
    ConsentAction,
    ConsentEntry,
    ConsentSource,
)
from ecm_comms.domain.errors import InvalidInput, StaffOptInRefused, ValidationError
from ecm_comms.domain.phone_numbers import PhoneNumber
from ecm_comms.domain.sms_bodies import storable_text
from ecm_comms.ports.clinics import ClinicDirectory
from ecm_comms.ports.clock import Clock
from ecm_comms.ports.metrics import UNCOUNTED, OutreachMetrics
from ecm_comms.ports.unit_of_work import UnitOfWork
from ecm_comms.ports.views import ConsentViews


class GetConsentHandler:
    def __init__(
        self, views: ConsentViews, clinics: ClinicDirectory, default_region: str = "US"
    ) -> None:
        self._views = views
        self._clinics = clinics
        self._region = default_region

    def __call__(self, command: GetConsent) -> Consent:
        phone = _parse_phone(command.phone_number, self._region)
        clinic_id = command.requested_by.clinic_id
        scope = consent_scope(self._clinics.get(clinic_id))
        return self._views.consent(phone, scope).as_seen_by(clinic_id)


class RecordConsentHandler:
    """Staff record an opt-out the patient asked for another way (by phone, in person)."""

    def __init__(
        self,
        uow: UnitOfWork,
        views: ConsentViews,
        clinics: ClinicDirectory,
        clock: Clock,
        default_region: str = "US",
        metrics: OutreachMetrics = UNCOUNTED,
    ) -> None:
        self._uow = uow
        self._views = views
        self._clinics = clinics
        self._clock = clock
        self._region = default_region
        self._metrics = metrics

    def __call__(self, command: RecordConsent) -> Consent:
        problems: dict[str, str] = {}
        phone = action = None
        try:
            phone = _parse_phone(command.phone_number, self._region)
        except InvalidInput as invalid:
            problems["phone_number"] = invalid.messages[0]
        try:
            action = ConsentAction(command.action)
        except ValueError:
            problems["action"] = INVALID_ACTION
        note = (command.note or "").strip() or None
        if note is not None and len(note) > MAX_NOTE_LENGTH:
            problems["note"] = NOTE_TOO_LONG
        elif note is not None and not storable_text(note):
            problems["note"] = NOTE_UNSTORABLE
        if problems or phone is None:
            raise InvalidInput.of_fields(problems)
        if action is ConsentAction.OPT_IN:
            raise StaffOptInRefused([STAFF_OPT_IN_REFUSED])
        user = command.requested_by
        scope = consent_scope(self._clinics.get(user.clinic_id))
        entry = ConsentEntry(
            phone,
            scope,
            ConsentAction.OPT_OUT,
            ConsentSource.STAFF,
            self._clock.now(),
            user_id=user.id,
            note=note,
            recorded_for=user.clinic_id,
        )
        with self._uow as uow:
            uow.consent.append(entry)
            uow.commit()
        self._metrics.opt_out_recorded(entry.source)
        return self._views.consent(phone, scope).as_seen_by(user.clinic_id)


def _parse_phone(raw: str | None, region: str) -> PhoneNumber:
    try:
        return PhoneNumber.parse(raw, region)
    except ValidationError as problem:
        raise InvalidInput([problem.message], ["phone_number"]) from problem
