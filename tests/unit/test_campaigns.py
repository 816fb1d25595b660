"""Campaigns: one templated SMS to many patients, sent by the workers within the limits."""

from __future__ import annotations

from datetime import timedelta

import pytest

from ecm_comms.domain.automated_sms import Outcome
from ecm_comms.domain.campaigns import CampaignCounts, CampaignStatus
from ecm_comms.domain.commands import (
    CancelCampaign,
    CreateCampaign,
    GetCampaign,
    ListCampaignRecipients,
)
from ecm_comms.domain.consent import ConsentAction, ConsentEntry, ConsentSource
from ecm_comms.domain.errors import CampaignNotFound, InvalidInput
from ecm_comms.domain.people import Patient, User
from ecm_comms.domain.phone_numbers import PhoneNumber
from ecm_comms.domain.statuses import SmsStatus
from ecm_comms.domain.use_cases.automated_sending import BATCH_SIZE
from tests.unit.automated_world import ANA, BEN, DANA, NO_PHONE, OTHER_CLINICS, SUNRISE, World

BODY = "Hi {{first_name}}, this is {{clinic_name}}: your appointment is {{appointment}}."
VARIABLES = {ANA.id: {"appointment": "Dec 4, 10am"}, BEN.id: {"appointment": "Dec 5, 9am"}}


@pytest.fixture
def world() -> World:
    return World()


def campaign(
    patient_ids: tuple[int, ...] = (ANA.id, BEN.id),
    body: str | None = BODY,
    variables: dict[int, dict[str, str]] | None = None,
    send_at: str | None = None,
    name: str | None = "December reminders",
) -> CreateCampaign:
    return CreateCampaign(
        name=name,
        body=body,
        patient_ids=patient_ids,
        performed_by=DANA,
        send_at=send_at,
        variables=VARIABLES if variables is None else variables,
    )


def sent_bodies(world: World) -> dict[str, str]:
    return {s.to.e164: s.body.text for s in world.gateway.sent}


def test_a_campaign_writes_one_scheduled_sms_per_patient(world: World) -> None:
    summary = world.create_campaign(campaign())

    assert summary.campaign.total == 2
    assert summary.counts == CampaignCounts(scheduled=2)
    assert summary.status is CampaignStatus.SCHEDULED
    bodies = {m.patient_id: m.body.text for m in world.store.messages.rows.values()}
    assert bodies == {
        ANA.id: "Hi Ana, this is Sunrise Clinic: your appointment is Dec 4, 10am.",
        BEN.id: "Hi Ben, this is Sunrise Clinic: your appointment is Dec 5, 9am.",
    }
    assert {m.status for m in world.store.messages.rows.values()} == {SmsStatus.SCHEDULED}


def test_the_workers_send_a_campaign_and_the_counts_move(world: World) -> None:
    summary = world.create_campaign(campaign())

    world.run_queue()

    assert len(world.gateway.sent) == 2
    now = world.get_campaign(GetCampaign(summary.campaign.id or 0, DANA))
    assert now.counts == CampaignCounts(sent=2)
    assert now.status is CampaignStatus.COMPLETED
    assert len(world.store.activities.rows) == 2
    assert len(world.store.events.rows) == 2


def test_a_campaign_is_queued_in_batches(world: World) -> None:
    many = tuple(
        Patient(id=1000 + i, clinic_id=1, phones=(PhoneNumber(f"+1805555{i:04d}"),))
        for i in range(120)
    )
    world = World(patients=many)

    world.create_campaign(
        campaign(tuple(p.id for p in many), body="Flu shots are in.", variables={})
    )

    assert [len(ids) for ids, _ in world.queue.queued] == [BATCH_SIZE, BATCH_SIZE, 20]


def test_placeholders_for_the_clinic_phone_and_the_coordinator_are_filled(world: World) -> None:
    world.create_campaign(
        campaign((ANA.id,), body="{{coordinator_name}} at {{clinic_phone}}", variables={})
    )

    [message] = world.store.messages.rows.values()
    assert message.body.text == "Dana Coordinator at (805) 555-0199"


def test_a_patient_without_a_phone_number_is_skipped(world: World) -> None:
    summary = world.create_campaign(campaign((ANA.id, NO_PHONE.id), body="Hello", variables={}))

    page = world.recipients(ListCampaignRecipients(summary.campaign.id or 0, DANA))
    assert [(r.patient_id, r.outcome, r.skip_reason, r.sms_id is None) for r in page.items] == [
        (ANA.id, Outcome.SCHEDULED, None, False),
        (NO_PHONE.id, Outcome.SKIPPED, "no_phone_number", True),
    ]
    assert summary.counts == CampaignCounts(scheduled=1, skipped=1)


def test_a_patient_missing_a_value_gets_no_sms_and_is_skipped(world: World) -> None:
    summary = world.create_campaign(campaign(variables={ANA.id: {"appointment": "Dec 4"}}))

    page = world.recipients(ListCampaignRecipients(summary.campaign.id or 0, DANA))
    assert page.items[1].skip_reason == "missing_value:appointment"
    assert [m.patient_id for m in world.store.messages.rows.values()] == [ANA.id]


def test_an_opted_out_number_is_skipped_and_its_sms_stays_on_record(world: World) -> None:
    with world.uow as uow:
        uow.consent.append(
            ConsentEntry(
                ANA.phones[0],
                SUNRISE.id,
                ConsentAction.OPT_OUT,
                ConsentSource.KEYWORD,
                world.clock.now(),
            )
        )
        uow.commit()

    summary = world.create_campaign(campaign())
    world.run_queue()

    assert summary.counts == CampaignCounts(scheduled=1, skipped=1)
    skipped = next(m for m in world.store.messages.rows.values() if m.patient_id == ANA.id)
    assert (skipped.status, skipped.skip_reason) == (SmsStatus.SKIPPED, "opted_out")
    assert list(sent_bodies(world)) == [BEN.phones[0].e164]


def test_max_segments_is_the_largest_rendered_message(world: World) -> None:
    summary = world.create_campaign(
        campaign(variables={ANA.id: {"appointment": "x" * 200}, BEN.id: {"appointment": "soon"}})
    )

    assert summary.campaign.max_segments == 2


def test_a_placeholder_no_patient_has_is_refused_at_creation(world: World) -> None:
    with pytest.raises(InvalidInput) as refused:
        world.create_campaign(campaign(body="Hi {{nickname}}", variables={}))

    assert refused.value.messages == ["Body has unknown placeholders: {{nickname}}"]
    assert world.store.messages.rows == {}
    assert world.queue.queued == []


def test_patients_not_of_the_clinic_are_named_first_few_then_counted(world: World) -> None:
    ids = (ANA.id, 999, 1000, *range(2000, 2012), OTHER_CLINICS.id)

    with pytest.raises(InvalidInput) as refused:
        world.create_campaign(campaign(ids, body="Hello", variables={}))

    assert refused.value.messages == ["Patients not found: 999, 1000 (and 13 more)"]
    assert refused.value.fields == ["patient_ids"]


@pytest.mark.parametrize("count", [0, 10_001])
def test_a_campaign_is_for_1_to_10000_patients(world: World, count: int) -> None:
    with pytest.raises(InvalidInput) as refused:
        world.create_campaign(campaign(tuple(range(1, count + 1)), body="Hi", variables={}))

    assert refused.value.messages == ["patient_ids must list 1 to 10000 patients"]


def test_every_problem_of_a_campaign_is_reported_together(world: World) -> None:
    with pytest.raises(InvalidInput) as refused:
        world.create_campaign(campaign((), body=" ", name="", send_at="soon", variables={}))

    assert refused.value.fields == ["name", "body", "patient_ids", "send_at"]


@pytest.mark.parametrize("name", ["Dec\x00ember", "Dec\ud800ember"], ids=["nul", "surrogate"])
def test_a_name_no_database_can_store_is_refused(world: World, name: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        world.create_campaign(campaign(name=name))

    assert refused.value.messages == ["Name contains characters that cannot be stored"]
    assert refused.value.fields == ["name"]


def test_variables_for_patients_outside_the_campaign_are_refused(world: World) -> None:
    with pytest.raises(InvalidInput) as refused:
        world.create_campaign(campaign((ANA.id,), variables={BEN.id: {"appointment": "x"}}))

    assert refused.value.fields[0] == "variables"


def test_a_patient_listed_twice_gets_one_sms(world: World) -> None:
    summary = world.create_campaign(campaign((ANA.id, ANA.id), body="Hello", variables={}))

    assert summary.campaign.total == 1


def test_a_campaign_for_later_waits_for_its_time(world: World) -> None:
    world.create_campaign(campaign(send_at="2026-12-04T18:00:00Z"))

    world.run_queue()
    assert world.gateway.sent == []
    world.clock.advance(timedelta(days=1))
    world.run_queue()
    assert len(world.gateway.sent) == 2


def test_canceling_a_campaign_cancels_what_was_not_sent(world: World) -> None:
    summary = world.create_campaign(campaign(send_at="2026-12-04T18:00:00Z"))

    canceled = world.cancel_campaign(CancelCampaign(summary.campaign.id or 0, DANA))
    world.clock.advance(timedelta(days=1))
    world.run_queue()

    assert canceled.counts == CampaignCounts(canceled=2)
    assert canceled.status is CampaignStatus.CANCELED
    assert {m.status for m in world.store.messages.rows.values()} == {SmsStatus.CANCELED}
    assert world.gateway.sent == []


def test_canceling_keeps_what_was_sent(world: World) -> None:
    summary = world.create_campaign(campaign())
    world.run_queue()

    after = world.cancel_campaign(CancelCampaign(summary.campaign.id or 0, DANA))

    assert after.counts == CampaignCounts(sent=2)
    assert after.status is CampaignStatus.COMPLETED


def test_another_clinics_campaign_does_not_exist(world: World) -> None:
    campaign_id = world.create_campaign(campaign()).campaign.id or 0
    stranger = User(id=202, clinic_id=2, name="Other")

    with pytest.raises(CampaignNotFound):
        world.get_campaign(GetCampaign(campaign_id, stranger))
    with pytest.raises(CampaignNotFound):
        world.recipients(ListCampaignRecipients(campaign_id, stranger))


def test_another_clinics_campaign_cannot_be_canceled(world: World) -> None:
    campaign_id = world.create_campaign(campaign(send_at="2026-12-04T18:00:00Z")).campaign.id or 0
    stranger = User(id=202, clinic_id=2, name="Other")

    with pytest.raises(CampaignNotFound):
        world.cancel_campaign(CancelCampaign(campaign_id, stranger))
    assert world.get_campaign(GetCampaign(campaign_id, DANA)).counts == CampaignCounts(scheduled=2)


def test_a_variable_value_that_cannot_be_sent_is_refused(world: World) -> None:
    with pytest.raises(InvalidInput) as refused:
        world.create_campaign(campaign(variables={ANA.id: {"appointment": "Dec\x004"}}))

    assert refused.value.messages == ["Variable values contain characters that cannot be sent"]
    assert refused.value.fields == ["variables"]
