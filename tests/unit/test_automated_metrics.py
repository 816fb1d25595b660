"""What scheduling, campaigns and the workers count: automated SMS scheduled, sent, skipped (by
the kind of reason), retried and failed."""

from __future__ import annotations

from datetime import timedelta

import pytest

from ecm_comms.domain.commands import CreateCampaign
from ecm_comms.domain.consent import ConsentAction, ConsentEntry, ConsentSource
from ecm_comms.domain.errors import GatewayError, RecipientOptedOut
from ecm_comms.domain.opt_outs import OPTED_OUT_ERROR_CODE
from tests.unit.automated_world import ANA, ANA_PHONE, BEN, DANA, NO_PHONE, SUNRISE, World

IN_AN_HOUR = "2026-12-03T19:00:00Z"
TOO_MANY_REQUESTS = GatewayError("Too Many Requests", code=20429, unavailable=True, retry_safe=True)


@pytest.fixture
def world() -> World:
    return World()


def opt_out(world: World) -> None:
    with world.uow as uow:
        uow.consent.append(
            ConsentEntry(
                ANA_PHONE,
                SUNRISE.id,
                ConsentAction.OPT_OUT,
                ConsentSource.KEYWORD,
                world.clock.now(),
            )
        )
        uow.commit()


def due_in_an_hour(world: World) -> None:
    """One scheduled SMS to Ana, now due; its scheduling is forgotten by the counts."""
    world.schedule_for(IN_AN_HOUR)
    world.metrics.counts.clear()
    world.clock.advance(timedelta(hours=1))


def campaign(body: str, variables: dict[int, dict[str, str]] | None = None) -> CreateCampaign:
    return CreateCampaign(
        name="December reminders",
        body=body,
        patient_ids=(ANA.id, BEN.id, NO_PHONE.id),
        performed_by=DANA,
        variables=variables or {},
    )


# Scheduling.


def test_a_scheduled_sms_is_counted_as_scheduled_one_by_one(world: World) -> None:
    world.schedule_for(IN_AN_HOUR)

    assert world.metrics.counts == {("automated_sms_scheduled", "scheduled_sms"): 1}


def test_a_refused_schedule_is_not_counted(world: World) -> None:
    opt_out(world)

    with pytest.raises(RecipientOptedOut):
        world.schedule_for(IN_AN_HOUR)

    assert world.metrics.counts == {}


def test_a_campaign_counts_its_scheduled_sms_and_its_skipped_by_reason(world: World) -> None:
    world.create_campaign(campaign("Flu shots are in."))

    assert world.metrics.counts == {
        ("automated_sms_scheduled", "campaign"): 2,
        ("automated_sms_skipped", "no_phone_number"): 1,
    }


def test_a_missing_value_is_counted_by_its_kind_not_by_the_placeholders_name(
    world: World,
) -> None:
    world.create_campaign(
        campaign("Your appointment is {{appointment}}.", {ANA.id: {"appointment": "Dec 4"}})
    )

    assert world.metrics.counts == {
        ("automated_sms_scheduled", "campaign"): 1,
        ("automated_sms_skipped", "missing_value"): 1,
        ("automated_sms_skipped", "no_phone_number"): 1,
    }


# The workers' sends.


def test_an_automated_sms_twilio_takes_is_counted_as_sent(world: World) -> None:
    due_in_an_hour(world)

    world.run_queue()

    assert world.metrics.counts == {("automated_sms_sent",): 1}


def test_an_automated_sms_over_the_frequency_cap_is_counted_as_skipped(world: World) -> None:
    world.schedule_for(IN_AN_HOUR)
    world.schedule_for("2026-12-03T20:00:00Z")
    world.metrics.counts.clear()
    world.clock.advance(timedelta(hours=2))

    world.run_queue()

    assert world.metrics.counts == {
        ("automated_sms_sent",): 1,
        ("automated_sms_skipped", "frequency_cap"): 1,
    }


def test_an_automated_sms_to_a_number_opted_out_since_is_counted_as_skipped(
    world: World,
) -> None:
    due_in_an_hour(world)
    opt_out(world)

    world.run_queue()

    assert world.metrics.counts == {("automated_sms_skipped", "opted_out"): 1}


def test_a_transient_failure_is_counted_as_retried(world: World) -> None:
    due_in_an_hour(world)
    world.gateway.fail_next(TOO_MANY_REQUESTS)

    world.run_queue()

    assert world.metrics.counts == {("automated_sms_retried",): 1}


def test_a_permanent_refusal_is_counted_as_failed(world: World) -> None:
    due_in_an_hour(world)
    world.gateway.fail_next(GatewayError("The 'To' number is not valid", code=21211))

    world.run_queue()

    assert world.metrics.counts == {("automated_sms_failed",): 1}


def test_a_refusal_as_unsubscribed_is_counted_as_failed_and_as_a_carrier_opt_out(
    world: World,
) -> None:
    due_in_an_hour(world)
    world.gateway.fail_next(GatewayError("Unsubscribed recipient", code=OPTED_OUT_ERROR_CODE))

    world.run_queue()

    assert world.metrics.counts == {
        ("automated_sms_failed",): 1,
        ("opt_out_recorded", "carrier_21610"): 1,
    }


def test_an_outcome_twilio_may_have_acted_on_is_neither_failed_nor_retried(world: World) -> None:
    due_in_an_hour(world)
    world.gateway.fail_next(GatewayError("Twilio did not answer in time", unavailable=True))

    world.run_queue()

    assert world.metrics.counts == {}
