"""Campaigns: one templated SMS to many patients of a clinic, sent by the workers."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from ecm_comms.domain.automated_sms import (
    AutomatedSms,
    Outcome,
    SkipReason,
    missing_value,
    parse_send_at,
)
from ecm_comms.domain.campaigns import (
    MAX_NAME_LENGTH,
    MAX_RECIPIENTS,
    Campaign,
    CampaignCounts,
    CampaignSummary,
    Recipient,
    patients_not_found,
)
from ecm_comms.domain.clinics import Clinic, Sender, sender_for
from ecm_comms.domain.commands import (
    CancelCampaign,
    CreateCampaign,
    GetCampaign,
    ListCampaignRecipients,
)
from ecm_comms.domain.communications import TextMessage
from ecm_comms.domain.ecm_records import Page, PageRequest, Problems
from ecm_comms.domain.errors import CampaignNotFound, InvalidInput, ValidationError
from ecm_comms.domain.people import Patient, User
from ecm_comms.domain.phone_numbers import PhoneNumber
from ecm_comms.domain.sms_bodies import SmsBody, storable_text
from ecm_comms.domain.templates import MissingValue, Template, check_variable_name
from ecm_comms.domain.use_cases.automated_sending import enqueue_in_batches
from ecm_comms.ports.clinics import ClinicDirectory
from ecm_comms.ports.clock import Clock
from ecm_comms.ports.directories import PatientDirectory, UserDirectory
from ecm_comms.ports.gateway import MessagingGateway
from ecm_comms.ports.metrics import UNCOUNTED, AutomatedOrigin, OutreachMetrics
from ecm_comms.ports.send_queue import SendQueue
from ecm_comms.ports.unit_of_work import UnitOfWork
from ecm_comms.ports.views import CampaignViews

NAME_REQUIRED = "Name is required"
NAME_TOO_LONG = f"Name is too long (maximum is {MAX_NAME_LENGTH} characters)"
NAME_UNSTORABLE = "Name contains characters that cannot be stored"
VARIABLE_UNSENDABLE = "Variable values contain characters that cannot be sent"
RECIPIENT_COUNT = f"patient_ids must list 1 to {MAX_RECIPIENTS} patients"


@dataclass(frozen=True, slots=True)
class _Request:
    """A campaign request whose fields are each acceptable on their own."""

    name: str
    template: Template
    patient_ids: list[int]  # each once, in the order given
    send_at: datetime | None
    variables: Mapping[int, Mapping[str, str]]


class CreateCampaignHandler:
    """Write one SMS per patient from the template, on record now as ``scheduled``; the workers
    send them at ``send_at`` (or at once) within the sending limits.

    A patient with no phone number, without a value for a placeholder, or whose number has opted
    out is a recipient all the same, ``skipped`` with the reason.
    """

    def __init__(
        self,
        uow: UnitOfWork,
        patients: PatientDirectory,
        clinics: ClinicDirectory,
        users: UserDirectory,
        gateway: MessagingGateway,
        queue: SendQueue,
        clock: Clock,
        metrics: OutreachMetrics = UNCOUNTED,
    ) -> None:
        self._uow = uow
        self._patients = patients
        self._clinics = clinics
        self._users = users
        self._gateway = gateway
        self._queue = queue
        self._clock = clock
        self._metrics = metrics

    def __call__(self, command: CreateCampaign) -> CampaignSummary:
        now = self._clock.now()
        user = command.performed_by
        request = _checked(command, now)
        patients = _in_order(
            self._patients.find_many(request.patient_ids, user.clinic_id), request.patient_ids
        )
        clinic = self._clinics.get(user.clinic_id)
        sender = sender_for(clinic, self._gateway.sender)
        due = request.send_at or now
        writer = _RecipientWriter(request, clinic, sender, self._coordinators(patients), user, now)
        with self._uow as uow:
            first_phones = [p.phones[0] for p in patients if p.phones]
            writer.opted_out = uow.consent.opted_out(first_phones, sender.clinic_id)
            for patient in patients:
                writer.write(patient, due)
            campaign = Campaign(
                clinic_id=user.clinic_id,
                name=request.name,
                body=request.template.text,
                send_at=request.send_at,
                total=len(patients),
                max_segments=writer.max_segments,
                created_by_id=user.id,
                created_at=now,
            )
            uow.campaigns.add(campaign)
            uow.messages.add_many(writer.messages)
            writer.link_to(campaign)
            uow.automated.add_many(writer.automated)
            uow.commit()
        scheduled = [a.id for a in writer.automated if a.is_scheduled and a.id is not None]
        # After the commit: a process that dies here loses nothing, the sweep queues them.
        enqueue_in_batches(self._queue, scheduled, eta=request.send_at)
        self._tell_metrics(writer.automated)
        counts = CampaignCounts.of(_count(writer.automated))
        return CampaignSummary(campaign, counts)

    def _tell_metrics(self, automated: Sequence[AutomatedSms]) -> None:
        reasons = Counter(one.skip_reason for one in automated if one.skip_reason is not None)
        for reason, skipped in reasons.items():
            self._metrics.automated_sms_skipped(reason, skipped)
        scheduled = sum(1 for one in automated if one.is_scheduled)
        self._metrics.automated_sms_scheduled(AutomatedOrigin.CAMPAIGN, scheduled)

    def _coordinators(self, patients: Sequence[Patient]) -> dict[int, User]:
        ids = {p.coordinator_id for p in patients if p.coordinator_id is not None}
        return {u.id: u for u in self._users.get_many(ids)} if ids else {}


class _RecipientWriter:
    """The SMS and automated SMS of a campaign's recipients, one patient at a time."""

    def __init__(
        self,
        request: _Request,
        clinic: Clinic | None,
        sender: Sender,
        coordinators: Mapping[int, User],
        user: User,
        now: datetime,
    ) -> None:
        self._request = request
        self._clinic = clinic
        self._sender = sender
        self._coordinators = coordinators
        self._user = user
        self._now = now
        self.opted_out: set[PhoneNumber] = set()
        self.messages: list[TextMessage] = []
        self.automated: list[AutomatedSms] = []
        self._message_of: dict[int, TextMessage] = {}  # automated index → its SMS
        self.max_segments = 0

    def write(self, patient: Patient, due: datetime) -> None:
        automated = AutomatedSms(
            clinic_id=patient.clinic_id, patient_id=patient.id, sms_id=None, due_at=due
        )
        automated.wait_until(due)
        self.automated.append(automated)
        if not patient.phones:
            automated.skip(SkipReason.NO_PHONE_NUMBER)
            return
        try:
            body = SmsBody.parse(self._request.template.render(self._values(patient)))
        except MissingValue as missing:
            automated.skip(missing_value(missing.name))
            return
        except ValidationError:  # the values are storable text: only the length can be wrong
            automated.skip(SkipReason.BODY_TOO_LONG)
            return
        message = TextMessage.outbound(
            clinic_id=patient.clinic_id,
            patient_id=patient.id,
            to=patient.phones[0],
            from_=self._sender.number,
            body=body,
            sent_by_id=self._user.id,
            at=self._now,
            send_at=due,
        )
        if message.to in self.opted_out:
            automated.skip(SkipReason.OPTED_OUT)
            message.skip(SkipReason.OPTED_OUT, self._now)
        self.max_segments = max(self.max_segments, message.segments.segments)
        self.messages.append(message)
        self._message_of[len(self.automated) - 1] = message

    def link_to(self, campaign: Campaign) -> None:
        """Once the campaign and the SMS are stored: each automated SMS learns their ids."""
        for automated in self.automated:
            automated.campaign_id = campaign.id
        for index, message in self._message_of.items():
            self.automated[index].sms_id = message.id

    def _values(self, patient: Patient) -> dict[str, str | None]:
        clinic = self._clinic
        coordinator = self._coordinators.get(patient.coordinator_id or 0)
        clinic_phone = (clinic.phone if clinic else None) or (
            self._sender.number if self._sender.clinic_id is not None else None
        )
        return {
            "first_name": patient.first_name,
            "last_name": patient.last_name,
            "clinic_name": clinic.name if clinic else None,
            "clinic_phone": clinic_phone.for_people if clinic_phone else None,
            "coordinator_name": coordinator.name if coordinator else None,
            **self._request.variables.get(patient.id, {}),
        }


def _checked(command: CreateCampaign, now: datetime) -> _Request:
    problems: dict[str, str] = {}
    name = (command.name or "").strip()
    if not name:
        problems["name"] = NAME_REQUIRED
    elif len(name) > MAX_NAME_LENGTH:
        problems["name"] = NAME_TOO_LONG
    elif not storable_text(name):
        problems["name"] = NAME_UNSTORABLE
    template = Template("")
    try:
        template = Template(SmsBody.parse(command.body).text)
    except ValidationError as problem:
        problems["body"] = problem.message
    patient_ids = list(dict.fromkeys(command.patient_ids))
    if not 1 <= len(patient_ids) <= MAX_RECIPIENTS:
        problems["patient_ids"] = RECIPIENT_COUNT
    send_at = None
    if command.send_at is not None:
        try:
            send_at = parse_send_at(command.send_at, now)
        except ValidationError as problem:
            problems["send_at"] = problem.message
    variables = command.variables or {}
    try:
        names = {check_variable_name(n) for values in variables.values() for n in values}
    except ValidationError as problem:
        problems["variables"] = problem.message
        names = set()
    values = (value for per_patient in variables.values() for value in per_patient.values())
    if "variables" not in problems and not all(storable_text(value) for value in values):
        problems["variables"] = VARIABLE_UNSENDABLE
    strangers = [str(i) for i in variables if i not in set(patient_ids)]
    if strangers and "variables" not in problems:
        problems["variables"] = "Variables given for patients not in the campaign: " + ", ".join(
            strangers[:5]
        )
    if unknown := template.unknown_placeholders(names):
        problems.setdefault(
            "body", "Body has unknown placeholders: " + ", ".join(f"{{{{{n}}}}}" for n in unknown)
        )
    if problems:
        raise InvalidInput.of_fields(problems)
    return _Request(name, template, patient_ids, send_at, variables)


def _in_order(found: Sequence[Patient], ids: list[int]) -> list[Patient]:
    by_id = {p.id: p for p in found}
    missing = [i for i in ids if i not in by_id]
    if missing:
        raise InvalidInput([patients_not_found(missing)], ["patient_ids"])
    return [by_id[i] for i in ids]


def _count(automated: Sequence[AutomatedSms]) -> dict[Outcome, int]:
    counts: dict[Outcome, int] = {}
    for one in automated:
        counts[one.outcome] = counts.get(one.outcome, 0) + 1
    return counts


class GetCampaignHandler:
    def __init__(self, views: CampaignViews) -> None:
        self._views = views

    def __call__(self, query: GetCampaign) -> CampaignSummary:
        found = self._views.campaign(query.campaign_id, query.requested_by.clinic_id)
        if found is None:
            raise CampaignNotFound()
        return found


class ListCampaignRecipientsHandler:
    def __init__(self, views: CampaignViews) -> None:
        self._views = views

    def __call__(self, query: ListCampaignRecipients) -> Page[Recipient]:
        problems = Problems()
        page = PageRequest.parse(query.page, query.per_page, "per_page", problems)
        problems.raise_any()
        clinic_id = query.requested_by.clinic_id
        if self._views.campaign(query.campaign_id, clinic_id) is None:
            raise CampaignNotFound()
        recipients, total = self._views.recipients(query.campaign_id, clinic_id, page)
        return Page(recipients, page, total)


class CancelCampaignHandler:
    """What has not gone to the provider yet is canceled; what has stays as it is."""

    def __init__(self, uow: UnitOfWork, views: CampaignViews, clock: Clock) -> None:
        self._uow = uow
        self._views = views
        self._clock = clock

    def __call__(self, command: CancelCampaign) -> CampaignSummary:
        now = self._clock.now()
        clinic_id = command.requested_by.clinic_id
        with self._uow as uow:
            campaign = uow.campaigns.lock(command.campaign_id, clinic_id)
            if campaign is None:
                raise CampaignNotFound()
            if uow.automated.cancel_campaign(command.campaign_id, now) and not campaign.canceled_at:
                campaign.canceled_at = now
                uow.campaigns.update(campaign)
            uow.commit()
        found = self._views.campaign(command.campaign_id, clinic_id)
        assert found is not None, "a campaign is never deleted"
        return found
