"""…/campaigns through HTTP: created, read with their counts, listed by recipient in numbered pages,
canceled, and refused as the API document's family does. No worker runs here: a campaign's SMS
stay scheduled, and what the API queued is looked at on an in-memory queue."""

from __future__ import annotations

import json
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from ecm_comms.adapters.memory import FakeGateway
from ecm_comms.adapters.memory.send_queue import InMemorySendQueue
from ecm_comms.adapters.sql import tables
from ecm_comms.container import Container
from ecm_comms.domain.commands import UpsertClinic, UpsertPatient
from tests.conftest import Staff
from tests.integration.records import API, count_rows, recorded
from tests.integration.test_openapi import assert_conforms

CAMPAIGNS = f"{API}/campaigns"
NOW = "2024-11-27T10:00:00.000Z"  # FixedClock's default instant
BODY = "Hi {{first_name}}, this is {{clinic_name}}: your appointment is {{appointment}}."
VARIABLES = {"123": {"appointment": "Dec 4, 10am"}, "125": {"appointment": "Dec 5, 9am"}}
CAMPAIGN_NOT_FOUND = {"errors": ["Campaign not found"]}
NO_TOKEN = {"errors": ["X-User-Token header is required"]}
KEY_HEADER = "Idempotency-Key"
PATIENT_IDS_SHAPE = "patient_ids must be a list of patient ids (integers)"
VARIABLES_SHAPE = "variables must give each patient id an object of names to string values"
VARIABLES_KEYS = "variables must be keyed by patient id (an integer)"


@pytest.fixture
def container(container: Container, queue: InMemorySendQueue) -> Container:
    """conftest's container, its send queue a fake too: what was queued, and when."""
    container.send_queue.override(queue)
    return container


@pytest.fixture(autouse=True)
def sunrise(container: Container) -> None:
    """Clinic 1 and its patients Ana (123) and Ben (125), and Cy (126), who has no phone."""
    container.upsert_clinic()(UpsertClinic(1, "Sunrise Clinic"))
    container.upsert_patient()(UpsertPatient(123, 1, ("+18051234567",), first_name="Ana"))
    container.upsert_patient()(UpsertPatient(125, 1, ("+18051234568",), first_name="Ben"))
    container.upsert_patient()(UpsertPatient(126, 1, (), first_name="Cy"))
    container.upsert_patient()(UpsertPatient(456, 2, ("+18055550456",), first_name="Oz"))


def fields(**changes: Any) -> dict[str, Any]:
    """A campaign's fields: the issue's example, with ``changes`` (None: leave the key out)."""
    given = {
        "name": "December reminders",
        "body": BODY,
        "patient_ids": [123, 125],
        "variables": VARIABLES,
    } | changes
    return {key: value for key, value in given.items() if value is not None}


def create(
    client: FlaskClient, staff: Staff | None, payload: Any = None, **headers: str
) -> TestResponse:
    payload = {"campaign": fields()} if payload is None else payload
    own = staff.headers if staff else {}
    return client.post(CAMPAIGNS, json=payload, headers=own | headers)


def created_id(client: FlaskClient, staff: Staff, **changes: Any) -> int:
    response = create(client, staff, {"campaign": fields(**changes)})
    assert response.status_code == 202, response.get_data(as_text=True)
    campaign_id: int = response.get_json()["campaign"]["id"]
    return campaign_id


def get(client: FlaskClient, staff: Staff | None, path: str, **query: Any) -> TestResponse:
    return client.get(path, headers=staff.headers if staff else {}, query_string=query)


def cancel(client: FlaskClient, staff: Staff | None, campaign_id: int | str) -> TestResponse:
    return client.post(f"{CAMPAIGNS}/{campaign_id}/cancel", headers=staff.headers if staff else {})


def counts(
    scheduled: int = 0, sent: int = 0, skipped: int = 0, failed: int = 0, canceled: int = 0
) -> dict[str, int]:
    return {
        "scheduled": scheduled,
        "sent": sent,
        "skipped": skipped,
        "failed": failed,
        "canceled": canceled,
    }


def pagination(current: int, pages: int, count: int, per_page: int) -> dict[str, int]:
    return {
        "current_page": current,
        "total_pages": pages,
        "total_count": count,
        "per_page": per_page,
    }


def table_count(container: Container, table: Any) -> int:
    with container.engine().connect() as connection:
        counted: int = connection.execute(select(func.count()).select_from(table)).scalar_one()
        return counted


def nothing_recorded(container: Container, queue: InMemorySendQueue) -> None:
    assert count_rows(container) == recorded()
    assert table_count(container, tables.campaigns) == 0
    assert table_count(container, tables.automated_sms) == 0
    assert queue.queued == []


def refusal(response: TestResponse) -> tuple[int, Any]:
    return response.status_code, response.get_json()


# --- creating -----------------------------------------------------------------------------------


def test_a_campaign_is_scheduled_and_answered_202(client: FlaskClient, coordinator: Staff) -> None:
    response = create(client, coordinator)

    assert response.status_code == 202
    answer = response.get_json()
    assert answer == {
        "message": "Campaign scheduled",
        "campaign": {
            "id": answer["campaign"]["id"],
            "name": "December reminders",
            "status": "scheduled",
            "total": 2,
            "max_segments": 1,
            "counts": counts(scheduled=2),
            "send_at": None,
            "created_at": NOW,
        },
    }
    assert list(answer["campaign"]) == [
        "id",
        "name",
        "status",
        "total",
        "max_segments",
        "counts",
        "send_at",
        "created_at",
    ]


def test_a_campaign_writes_one_scheduled_sms_per_patient_and_queues_them(
    client: FlaskClient,
    coordinator: Staff,
    container: Container,
    gateway: FakeGateway,
    queue: InMemorySendQueue,
) -> None:
    create(client, coordinator)

    assert count_rows(container) == recorded(text_messages=2)  # no activity before sending
    assert gateway.sent == []
    assert sorted(i for ids, _ in queue.queued for i in ids) == [1, 2]


def test_a_campaign_with_send_at_answers_it_in_utc(client: FlaskClient, coordinator: Staff) -> None:
    response = create(client, coordinator, {"campaign": fields(send_at="2024-12-04T09:00-08:00")})

    assert response.get_json()["campaign"]["send_at"] == "2024-12-04T17:00:00.000Z"


def test_max_segments_is_the_longest_rendered_message(
    client: FlaskClient, coordinator: Staff
) -> None:
    variables = {"123": {"appointment": "soon"}, "125": {"appointment": "x" * 160}}

    response = create(client, coordinator, {"campaign": fields(variables=variables)})

    assert response.get_json()["campaign"]["max_segments"] == 2


def test_patients_who_cannot_be_texted_are_counted_skipped(
    client: FlaskClient, coordinator: Staff
) -> None:
    variables = {"123": {"appointment": "Dec 4, 10am"}}

    response = create(
        client, coordinator, {"campaign": fields(patient_ids=[123, 125, 126], variables=variables)}
    )

    assert response.get_json()["campaign"]["counts"] == counts(scheduled=1, skipped=2)


def test_a_repeated_patient_id_counts_once(client: FlaskClient, coordinator: Staff) -> None:
    response = create(client, coordinator, {"campaign": fields(patient_ids=[123, 125, 123])})

    assert response.get_json()["campaign"]["total"] == 2


def test_a_repeated_create_with_an_idempotency_key_replays_the_first_answer(
    client: FlaskClient, coordinator: Staff, container: Container, queue: InMemorySendQueue
) -> None:
    first = create(client, coordinator, **{KEY_HEADER: "december-reminders"})

    repeat = create(client, coordinator, **{KEY_HEADER: "december-reminders"})

    assert refusal(repeat) == (202, first.get_json())
    assert repeat.headers["Idempotent-Replayed"] == "true"
    assert table_count(container, tables.campaigns) == 1
    assert len(queue.queued) == 1


def test_the_same_key_for_another_campaign_is_refused(
    client: FlaskClient, coordinator: Staff, container: Container
) -> None:
    create(client, coordinator, **{KEY_HEADER: "december-reminders"})

    response = create(
        client,
        coordinator,
        {"campaign": fields(name="January")},
        **{KEY_HEADER: "december-reminders"},
    )

    assert refusal(response) == (
        422,
        {"errors": ["Idempotency-Key was already used for a different request"]},
    )
    assert table_count(container, tables.campaigns) == 1


def test_a_campaign_body_may_be_larger_than_other_requests(
    client: FlaskClient, coordinator: Staff
) -> None:
    # Ten thousand ids of seven digits: well over the 64 KiB other requests may be.
    unknown = list(range(1_000_000, 1_009_999))
    payload = {
        "campaign": fields(body="Hi {{first_name}}", patient_ids=[123, *unknown], variables={})
    }
    assert len(json.dumps(payload)) > 64 * 1024

    response = create(client, coordinator, payload)

    assert refusal(response) == (
        422,
        {"errors": ["Patients not found: 1000000, 1000001 (and 9997 more)"]},
    )


def test_a_campaign_body_over_2_mib_is_413(client: FlaskClient, coordinator: Staff) -> None:
    payload = {"campaign": fields(name="x" * (2 * 1024 * 1024))}

    response = create(client, coordinator, payload)

    assert refusal(response) == (413, {"errors": ["Request body is too large"]})


def test_other_requests_keep_the_64_kib_limit(client: FlaskClient, coordinator: Staff) -> None:
    big = {"sms": {"phone_number": "+18051234567", "body": "x" * (64 * 1024)}}

    response = client.post(f"{API}/patients/123/sms", json=big, headers=coordinator.headers)

    assert response.status_code == 413


# --- creating: refusals -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("payload", "errors"),
    [
        pytest.param({}, ['"campaign" is required'], id="missing"),
        pytest.param({"campaign": None}, ['"campaign" is required'], id="null"),
        pytest.param({"campaign": []}, ['"campaign" must be an object'], id="list"),
        pytest.param({"campaign": "December"}, ['"campaign" must be an object'], id="string"),
    ],
)
def test_a_missing_or_malformed_campaign_object_is_422(
    client: FlaskClient,
    coordinator: Staff,
    container: Container,
    queue: InMemorySendQueue,
    payload: Any,
    errors: list[str],
) -> None:
    assert refusal(create(client, coordinator, payload)) == (422, {"errors": errors})
    nothing_recorded(container, queue)


@pytest.mark.parametrize(
    "patient_ids",
    [
        pytest.param("123,125", id="string"),
        pytest.param(123, id="integer"),
        pytest.param({"123": True}, id="object"),
        pytest.param([123, "125"], id="string-id"),
        pytest.param([123, 12.5], id="fraction"),
        pytest.param([123, 125.0], id="float"),
        pytest.param([True], id="boolean"),
        pytest.param([None], id="null-id"),
        pytest.param([-1], id="negative"),
        pytest.param([10**18], id="over-18-digits"),
        pytest.param([[123]], id="nested"),
    ],
)
def test_patient_ids_that_are_not_a_list_of_integer_ids_are_422(
    client: FlaskClient,
    coordinator: Staff,
    container: Container,
    queue: InMemorySendQueue,
    patient_ids: Any,
) -> None:
    response = create(client, coordinator, {"campaign": fields(patient_ids=patient_ids)})

    assert refusal(response) == (422, {"errors": [PATIENT_IDS_SHAPE]})
    nothing_recorded(container, queue)


@pytest.mark.parametrize(
    ("variables", "message"),
    [
        pytest.param([{"appointment": "Dec 4"}], VARIABLES_SHAPE, id="list"),
        pytest.param("appointment=Dec 4", VARIABLES_SHAPE, id="string"),
        pytest.param({"123": "Dec 4"}, VARIABLES_SHAPE, id="patient-not-an-object"),
        pytest.param({"123": ["Dec 4"]}, VARIABLES_SHAPE, id="patient-a-list"),
        pytest.param({"123": {"appointment": 4}}, VARIABLES_SHAPE, id="value-a-number"),
        pytest.param({"123": {"appointment": None}}, VARIABLES_SHAPE, id="value-null"),
        pytest.param({"123": {"appointment": {"day": "4"}}}, VARIABLES_SHAPE, id="value-object"),
        pytest.param({"Ana": {"appointment": "Dec 4"}}, VARIABLES_KEYS, id="key-a-name"),
        pytest.param({"-123": {"appointment": "Dec 4"}}, VARIABLES_KEYS, id="key-negative"),
        pytest.param({"12.5": {"appointment": "Dec 4"}}, VARIABLES_KEYS, id="key-a-fraction"),
        pytest.param({"": {"appointment": "Dec 4"}}, VARIABLES_KEYS, id="key-empty"),
    ],
)
def test_variables_that_are_not_objects_of_strings_by_patient_id_are_422(
    client: FlaskClient,
    coordinator: Staff,
    container: Container,
    queue: InMemorySendQueue,
    variables: Any,
    message: str,
) -> None:
    response = create(client, coordinator, {"campaign": fields(variables=variables)})

    assert refusal(response) == (422, {"errors": [message]})
    nothing_recorded(container, queue)


def test_every_wrong_shape_is_reported_at_once(client: FlaskClient, coordinator: Staff) -> None:
    payload = {
        "campaign": {
            "name": 5,
            "body": ["Hi"],
            "patient_ids": "123",
            "send_at": 1733331600,
            "variables": [],
        }
    }

    assert refusal(create(client, coordinator, payload)) == (
        422,
        {
            "errors": [
                "Name must be a string",
                "Body must be a string",
                PATIENT_IDS_SHAPE,
                "send_at must be a string",
                VARIABLES_SHAPE,
            ]
        },
    )


def test_every_unacceptable_field_is_reported_at_once(
    client: FlaskClient, coordinator: Staff, container: Container, queue: InMemorySendQueue
) -> None:
    payload = {"campaign": {"name": " ", "body": "", "patient_ids": [], "send_at": "soon"}}

    assert refusal(create(client, coordinator, payload)) == (
        422,
        {
            "errors": [
                "Name is required",
                "Body is required",
                "patient_ids must list 1 to 10000 patients",
                "send_at must be an ISO 8601 date and time with a time zone, e.g. "
                "2026-12-04T17:00:00Z",
            ]
        },
    )
    nothing_recorded(container, queue)


@pytest.mark.parametrize("name", ["Dec\x00ember", "Dec\ud800ember"], ids=["nul", "lone-surrogate"])
def test_a_name_that_cannot_be_stored_is_422(
    client: FlaskClient,
    coordinator: Staff,
    container: Container,
    queue: InMemorySendQueue,
    name: str,
) -> None:
    payload = json.dumps({"campaign": fields(name=name)})

    response = client.post(
        CAMPAIGNS, data=payload, content_type="application/json", headers=coordinator.headers
    )

    assert refusal(response) == (
        422,
        {"errors": ["Name contains characters that cannot be stored"]},
    )
    nothing_recorded(container, queue)


def test_missing_patient_ids_are_refused_as_no_patients(
    client: FlaskClient, coordinator: Staff
) -> None:
    payload = {"campaign": fields(body="Hi {{first_name}}", patient_ids=None, variables=None)}

    response = create(client, coordinator, payload)

    assert refusal(response) == (422, {"errors": ["patient_ids must list 1 to 10000 patients"]})


def test_patients_that_are_not_the_clinics_are_422_naming_the_first(
    client: FlaskClient, coordinator: Staff, container: Container, queue: InMemorySendQueue
) -> None:
    payload = {
        "campaign": fields(
            body="Hi {{first_name}}", patient_ids=[123, 999, 456, 1000, 1001], variables={}
        )
    }

    assert refusal(create(client, coordinator, payload)) == (
        422,
        {"errors": ["Patients not found: 999, 456 (and 2 more)"]},
    )
    nothing_recorded(container, queue)


def test_a_placeholder_nobody_gives_a_value_for_is_422(
    client: FlaskClient, coordinator: Staff
) -> None:
    response = create(client, coordinator, {"campaign": fields(body="Room {{room}}")})

    assert refusal(response) == (422, {"errors": ["Body has unknown placeholders: {{room}}"]})


def test_creating_without_a_token_is_401(client: FlaskClient) -> None:
    assert refusal(create(client, None)) == (401, NO_TOKEN)


# --- reading ------------------------------------------------------------------------------------


def test_a_campaign_reads_back_as_it_was_answered(client: FlaskClient, coordinator: Staff) -> None:
    created = create(client, coordinator).get_json()["campaign"]

    response = get(client, coordinator, f"{CAMPAIGNS}/{created['id']}")

    assert (response.status_code, response.get_json()) == (200, {"campaign": created})


def test_recipients_are_listed_in_the_order_given_with_their_outcome(
    client: FlaskClient, coordinator: Staff
) -> None:
    variables = {"125": {"appointment": "Dec 5, 9am"}}
    campaign_id = created_id(client, coordinator, patient_ids=[125, 126, 123], variables=variables)

    response = get(client, coordinator, f"{CAMPAIGNS}/{campaign_id}/recipients")

    assert response.status_code == 200
    answer = response.get_json()
    ben = answer["recipients"][0]
    assert answer == {
        "recipients": [
            {
                "patient_id": 125,
                "sms_id": ben["sms_id"],
                "status": "scheduled",
                "skip_reason": None,
            },
            {
                "patient_id": 126,
                "sms_id": None,
                "status": "skipped",
                "skip_reason": "no_phone_number",
            },
            {
                "patient_id": 123,
                "sms_id": None,
                "status": "skipped",
                "skip_reason": "missing_value:appointment",
            },
        ],
        "pagination": pagination(1, 1, 3, 25),
    }
    assert isinstance(ben["sms_id"], int)


def test_a_recipients_sms_reads_back_with_its_send_time(
    client: FlaskClient, coordinator: Staff
) -> None:
    campaign_id = created_id(client, coordinator, send_at="2024-12-04T17:00:00Z")
    first = get(client, coordinator, f"{CAMPAIGNS}/{campaign_id}/recipients").get_json()

    sms_id = first["recipients"][0]["sms_id"]
    sms = get(client, coordinator, f"{API}/sms/{sms_id}").get_json()["sms"]

    assert {key: sms[key] for key in ("body", "status", "send_at", "segments", "encoding")} == {
        "body": "Hi Ana, this is Sunrise Clinic: your appointment is Dec 4, 10am.",
        "status": "scheduled",
        "send_at": "2024-12-04T17:00:00.000Z",
        "segments": 1,
        "encoding": "GSM-7",
    }


def test_recipients_come_in_numbered_pages(client: FlaskClient, coordinator: Staff) -> None:
    campaign_id = created_id(client, coordinator, patient_ids=[123, 125, 126])
    path = f"{CAMPAIGNS}/{campaign_id}/recipients"

    second = get(client, coordinator, path, page=2, per_page=2).get_json()
    past_the_end = get(client, coordinator, path, page=3, per_page=2).get_json()

    assert [r["patient_id"] for r in second["recipients"]] == [126]
    assert second["pagination"] == pagination(2, 2, 3, 2)
    assert past_the_end == {"recipients": [], "pagination": pagination(3, 2, 3, 2)}


def test_a_page_far_past_the_end_is_empty(client: FlaskClient, coordinator: Staff) -> None:
    campaign_id = created_id(client, coordinator)
    last = "9" * 18

    response = get(client, coordinator, f"{CAMPAIGNS}/{campaign_id}/recipients", page=last)

    assert response.get_json() == {
        "recipients": [],
        "pagination": pagination(int(last), 1, 2, 25),
    }


@pytest.mark.parametrize(
    ("query", "errors"),
    [
        ({"page": "x"}, ["page must be a positive integer"]),
        ({"page": "0"}, ["page must be 1 or more"]),
        ({"per_page": "101"}, ["per_page must be between 1 and 100"]),
        ({"page": "-1", "per_page": "0"}, ["page must be a positive integer"]),
        (
            {"page": "0", "per_page": "0"},
            ["page must be 1 or more", "per_page must be between 1 and 100"],
        ),
    ],
)
def test_a_bad_page_parameter_is_422_naming_it(
    client: FlaskClient, coordinator: Staff, query: dict[str, str], errors: list[str]
) -> None:
    campaign_id = created_id(client, coordinator)

    response = get(client, coordinator, f"{CAMPAIGNS}/{campaign_id}/recipients", **query)

    assert refusal(response) == (422, {"errors": errors})


def test_empty_page_parameters_count_as_absent(client: FlaskClient, coordinator: Staff) -> None:
    campaign_id = created_id(client, coordinator)

    response = get(
        client, coordinator, f"{CAMPAIGNS}/{campaign_id}/recipients", page="", per_page=""
    )

    assert response.get_json()["pagination"] == pagination(1, 1, 2, 25)


# --- canceling ----------------------------------------------------------------------------------


def test_canceling_a_campaign_cancels_what_was_not_sent(
    client: FlaskClient, coordinator: Staff
) -> None:
    campaign_id = created_id(client, coordinator, patient_ids=[123, 125, 126])

    response = cancel(client, coordinator, campaign_id)

    assert response.status_code == 200
    assert response.get_json() == {
        "message": "Campaign canceled",
        "campaign": {
            "id": campaign_id,
            "name": "December reminders",
            "status": "canceled",
            "total": 3,
            "max_segments": 1,
            "counts": counts(skipped=1, canceled=2),
            "send_at": None,
            "created_at": NOW,
        },
    }


def test_a_canceled_campaigns_recipients_and_sms_read_canceled(
    client: FlaskClient, coordinator: Staff
) -> None:
    campaign_id = created_id(client, coordinator)
    cancel(client, coordinator, campaign_id)

    recipients = get(client, coordinator, f"{CAMPAIGNS}/{campaign_id}/recipients").get_json()
    statuses = [
        get(client, coordinator, f"{API}/sms/{r['sms_id']}").get_json()["sms"]["status"]
        for r in recipients["recipients"]
    ]

    assert [r["status"] for r in recipients["recipients"]] == ["canceled", "canceled"]
    assert statuses == ["canceled", "canceled"]


def test_canceling_a_campaign_twice_answers_it_as_it_stands(
    client: FlaskClient, coordinator: Staff
) -> None:
    campaign_id = created_id(client, coordinator)
    first = cancel(client, coordinator, campaign_id)

    again = cancel(client, coordinator, campaign_id)

    assert refusal(again) == (200, first.get_json())


# --- the clinic boundary, unknown ids and tokens ------------------------------------------------


def test_another_clinics_campaign_is_404_everywhere_and_stays_as_it_was(
    client: FlaskClient, coordinator: Staff, other_clinic_coordinator: Staff
) -> None:
    campaign_id = created_id(client, coordinator)
    path = f"{CAMPAIGNS}/{campaign_id}"

    answers = [
        get(client, other_clinic_coordinator, path),
        get(client, other_clinic_coordinator, f"{path}/recipients"),
        cancel(client, other_clinic_coordinator, campaign_id),
    ]

    assert [refusal(r) for r in answers] == [(404, CAMPAIGN_NOT_FOUND)] * 3
    assert get(client, coordinator, path).get_json()["campaign"]["status"] == "scheduled"


@pytest.mark.parametrize("campaign_id", ["999", "abc", "-1", "1" * 19])
def test_an_unknown_campaign_is_404_everywhere(
    client: FlaskClient, coordinator: Staff, campaign_id: str
) -> None:
    path = f"{CAMPAIGNS}/{campaign_id}"

    answers = [
        get(client, coordinator, path),
        get(client, coordinator, f"{path}/recipients"),
        cancel(client, coordinator, campaign_id),
    ]

    assert [refusal(r) for r in answers] == [(404, CAMPAIGN_NOT_FOUND)] * 3


def test_recipients_check_the_id_then_the_parameters_then_the_campaign(
    client: FlaskClient, coordinator: Staff
) -> None:
    not_an_id = get(client, coordinator, f"{CAMPAIGNS}/abc/recipients", page="x")
    unknown = get(client, coordinator, f"{CAMPAIGNS}/999/recipients", page="x")

    assert refusal(not_an_id) == (404, CAMPAIGN_NOT_FOUND)
    assert refusal(unknown) == (422, {"errors": ["page must be a positive integer"]})


def test_every_campaign_endpoint_needs_a_token(client: FlaskClient, coordinator: Staff) -> None:
    campaign_id = created_id(client, coordinator)
    path = f"{CAMPAIGNS}/{campaign_id}"

    answers = [
        get(client, None, path),
        get(client, None, f"{path}/recipients"),
        cancel(client, None, campaign_id),
        client.get(path, headers={"X-User-Token": "not-a-token"}),
    ]

    assert [refusal(r) for r in answers] == [
        (401, NO_TOKEN),
        (401, NO_TOKEN),
        (401, NO_TOKEN),
        (401, {"errors": ["Invalid user token"]}),
    ]


# --- the OpenAPI document -----------------------------------------------------------------------


def test_the_document_describes_the_campaign_endpoints(client: FlaskClient) -> None:
    paths = client.get("/openapi.json").get_json()["paths"]

    assert {
        (method, path.removeprefix(API))
        for path, item in paths.items()
        for method in item
        if "campaign" in path or path.endswith("/cancel")
    } == {
        ("post", "/campaigns"),
        ("get", "/campaigns/{campaign_id}"),
        ("get", "/campaigns/{campaign_id}/recipients"),
        ("post", "/campaigns/{campaign_id}/cancel"),
        ("post", "/sms/{sms_id}/cancel"),
    }


def test_campaign_answers_conform_to_the_openapi_document(
    client: FlaskClient, coordinator: Staff
) -> None:
    created = create(client, coordinator)
    campaign_id = created.get_json()["campaign"]["id"]
    path = f"{CAMPAIGNS}/{campaign_id}"
    answers = [
        ("post", "/campaigns", created),
        ("post", "/campaigns", create(client, coordinator, {"campaign": fields(patient_ids=[1])})),
        ("post", "/campaigns", create(client, coordinator, {"campaign": []})),
        ("get", "/campaigns/{campaign_id}", get(client, coordinator, path)),
        ("get", "/campaigns/{campaign_id}", get(client, coordinator, f"{CAMPAIGNS}/999")),
        (
            "get",
            "/campaigns/{campaign_id}/recipients",
            get(client, coordinator, f"{path}/recipients"),
        ),
        (
            "get",
            "/campaigns/{campaign_id}/recipients",
            get(client, coordinator, f"{path}/recipients", page=0),
        ),
        ("post", "/campaigns/{campaign_id}/cancel", cancel(client, coordinator, campaign_id)),
        ("get", "/campaigns/{campaign_id}", get(client, None, path)),
    ]

    assert [r.status_code for _, _, r in answers] == [202, 422, 422, 200, 404, 200, 422, 200, 401]
    for method, template, response in answers:
        assert_conforms(method, API + template, response)
