"""What a worker's container gives it: a Twilio gateway that tries a send once (the queue retries
transient failures, with backoff), beside the service's, which retries within the request; and
the send queue in the records' own database."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from benchmarks.twilio_standin import RunningStandIn, TwilioStandIn
from ecm_comms.adapters.task_queue import HueyQueue
from ecm_comms.container import Container, create_container, for_worker
from ecm_comms.domain.clinics import Sender
from ecm_comms.domain.errors import GatewayError
from ecm_comms.domain.phone_numbers import PhoneNumber
from ecm_comms.domain.sms_bodies import SmsBody
from ecm_comms.ports.gateway import OutboundSms

FROM_NUMBER = PhoneNumber("+18059876543")
SMS = OutboundSms(7, PhoneNumber("+18051234567"), SmsBody("Hello"), Sender(FROM_NUMBER))


@pytest.fixture
def twilio() -> Iterator[TwilioStandIn]:
    with RunningStandIn() as standin:
        yield standin


def twilio_container(twilio: TwilioStandIn, database_url: str) -> Container:
    return create_container(
        environ={
            "ECM_DATABASE_URL": database_url,
            "ECM_GATEWAY": "twilio",
            "TWILIO_ACCOUNT_SID": "AC" + "3" * 32,
            "TWILIO_AUTH_TOKEN": "worker-container-token",
            "TWILIO_FROM_NUMBER": FROM_NUMBER.e164,
            "TWILIO_API_BASE_URL": twilio.base_url,
        }
    )


def test_the_services_gateway_asks_twilio_again_after_a_503(
    twilio: TwilioStandIn, database_url: str
) -> None:
    gateway = twilio_container(twilio, database_url).gateway()
    twilio.fail_next(503, 20003, "Service unavailable")

    gateway.send_sms(SMS)

    assert len(twilio.requests) == 2


def test_a_workers_gateway_asks_twilio_once_and_leaves_the_retry_to_the_queue(
    twilio: TwilioStandIn, database_url: str
) -> None:
    gateway = for_worker(twilio_container(twilio, database_url)).gateway()
    twilio.fail_next(503, 20003, "Service unavailable")

    with pytest.raises(GatewayError) as refused:
        gateway.send_sms(SMS)

    assert len(twilio.requests) == 1
    assert refused.value.retry_safe


def test_the_send_queue_is_the_task_queue_in_the_records_database(database_url: str) -> None:
    container = create_container(environ={}, database_url=database_url)

    queue = container.send_queue()

    assert isinstance(queue, HueyQueue)
    assert queue is container.task_queue()
    queue.enqueue([1])
    assert queue.backlog() == 1
