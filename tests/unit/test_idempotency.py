"""Idempotency keys (the HTTP layer's replay rules) on the fakes: the first answer is replayed, a
reused key is refused, and a key is forgotten once its request died or its lifetime ended."""

from __future__ import annotations

from datetime import timedelta

import pytest

from ecm_comms.adapters.memory import FixedClock
from ecm_comms.adapters.memory.idempotency import InMemoryIdempotencyKeys
from ecm_comms.entrypoints.http.idempotency import (
    IdempotencyKeyReused,
    IdempotentRequests,
    InvalidIdempotencyKey,
    RequestAbandoned,
    RequestInProgress,
)
from ecm_comms.ports.idempotency import KeyUse, StoredResponse

DANA, SAM = 101, 102
KEY = "4f1e2d3c-retry-me"
SMS_REQUEST = "fingerprint of POST …/patients/123/sms {the sms}"
OTHER_REQUEST = "fingerprint of POST …/patients/123/sms {another sms}"
CREATED = StoredResponse(201, '{"message": "SMS sent successfully", "sms": {"id": 1}}')
KEY_MESSAGE = "Idempotency-Key must be 1 to 255 printable ASCII characters"


@pytest.fixture
def keys() -> InMemoryIdempotencyKeys:
    return InMemoryIdempotencyKeys()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()


@pytest.fixture
def begin(keys: InMemoryIdempotencyKeys, clock: FixedClock) -> IdempotentRequests:
    return IdempotentRequests(keys, clock)


@pytest.fixture
def finish(begin: IdempotentRequests) -> IdempotentRequests:
    return begin


def start(
    begin: IdempotentRequests,
    *,
    user_id: int = DANA,
    key: str = KEY,
    fingerprint: str = SMS_REQUEST,
) -> StoredResponse | None:
    return begin.begin(user_id, key, fingerprint)


def answered(
    begin: IdempotentRequests,
    finish: IdempotentRequests,
    response: StoredResponse = CREATED,
) -> None:
    """Dana's request with KEY ran and answered ``response``."""
    assert start(begin) is None
    finish.finish(DANA, KEY, response)


# --- the first use --------------------------------------------------------------------------------


def test_a_new_key_lets_the_request_run_and_is_held_in_progress(
    begin: IdempotentRequests, keys: InMemoryIdempotencyKeys, clock: FixedClock
) -> None:
    assert start(begin) is None

    assert keys.uses == {(DANA, KEY): KeyUse(DANA, KEY, SMS_REQUEST, clock.now(), response=None)}


def test_finishing_a_request_keeps_its_answer(
    begin: IdempotentRequests,
    finish: IdempotentRequests,
    keys: InMemoryIdempotencyKeys,
) -> None:
    answered(begin, finish)

    assert keys.uses[(DANA, KEY)].response == CREATED


# --- repeats --------------------------------------------------------------------------------------


def test_a_repeat_of_a_finished_request_gets_its_answer(
    begin: IdempotentRequests, finish: IdempotentRequests
) -> None:
    answered(begin, finish)

    assert start(begin) == CREATED


def test_an_error_answer_is_replayed_like_any_other(
    begin: IdempotentRequests, finish: IdempotentRequests
) -> None:
    unavailable = StoredResponse(502, '{"errors": ["Failed to send SMS: Service unavailable"]}')
    answered(begin, finish, unavailable)

    assert start(begin) == unavailable


def test_a_repeat_while_the_first_request_runs_is_refused_as_in_progress(
    begin: IdempotentRequests, clock: FixedClock
) -> None:
    start(begin)
    clock.advance(timedelta(seconds=30))

    with pytest.raises(RequestInProgress):
        start(begin)


def test_the_same_key_for_a_different_request_is_refused(
    begin: IdempotentRequests, finish: IdempotentRequests
) -> None:
    answered(begin, finish)

    with pytest.raises(IdempotencyKeyReused) as refused:
        start(begin, fingerprint=OTHER_REQUEST)
    assert refused.value.messages == ["Idempotency-Key was already used for a different request"]


def test_the_same_key_for_a_different_request_is_refused_while_the_first_runs(
    begin: IdempotentRequests,
) -> None:
    start(begin)

    with pytest.raises(IdempotencyKeyReused):
        start(begin, fingerprint=OTHER_REQUEST)


def test_a_refused_reuse_leaves_the_first_answer_in_place(
    begin: IdempotentRequests, finish: IdempotentRequests
) -> None:
    answered(begin, finish)
    with pytest.raises(IdempotencyKeyReused):
        start(begin, fingerprint=OTHER_REQUEST)

    assert start(begin) == CREATED


def test_two_users_with_the_same_key_have_two_independent_keys(
    begin: IdempotentRequests,
    finish: IdempotentRequests,
    keys: InMemoryIdempotencyKeys,
) -> None:
    answered(begin, finish)

    assert start(begin, user_id=SAM, fingerprint=OTHER_REQUEST) is None
    assert keys.uses[(SAM, KEY)].response is None
    assert keys.uses[(DANA, KEY)].response == CREATED


# --- abandoned and expired keys -------------------------------------------------------------------


def test_a_request_unfinished_after_two_minutes_keeps_its_key_for_it_may_have_been_sent(
    begin: IdempotentRequests, keys: InMemoryIdempotencyKeys, clock: FixedClock
) -> None:
    start(begin)
    first_started = clock.now()
    clock.advance(timedelta(minutes=2, seconds=1))

    with pytest.raises(RequestAbandoned):
        start(begin)
    assert keys.uses[(DANA, KEY)].started_at == first_started


def test_a_request_unfinished_for_less_than_two_minutes_still_holds_its_key(
    begin: IdempotentRequests, clock: FixedClock
) -> None:
    start(begin)
    clock.advance(timedelta(minutes=1, seconds=59))

    with pytest.raises(RequestInProgress):
        start(begin)


def test_an_abandoned_key_is_not_taken_over_by_a_different_request(
    begin: IdempotentRequests, clock: FixedClock
) -> None:
    start(begin)
    clock.advance(timedelta(minutes=5))

    with pytest.raises(IdempotencyKeyReused):
        start(begin, fingerprint=OTHER_REQUEST)


def test_a_finished_request_is_never_abandoned(
    begin: IdempotentRequests, finish: IdempotentRequests, clock: FixedClock
) -> None:
    answered(begin, finish)
    clock.advance(timedelta(hours=23))

    assert start(begin) == CREATED


def test_a_key_older_than_24_hours_acts_as_new(
    begin: IdempotentRequests,
    finish: IdempotentRequests,
    keys: InMemoryIdempotencyKeys,
    clock: FixedClock,
) -> None:
    answered(begin, finish)
    clock.advance(timedelta(hours=24, seconds=1))

    assert start(begin) is None
    assert keys.uses[(DANA, KEY)] == KeyUse(DANA, KEY, SMS_REQUEST, clock.now())


def test_a_key_older_than_24_hours_may_be_used_for_a_different_request(
    begin: IdempotentRequests, finish: IdempotentRequests, clock: FixedClock
) -> None:
    answered(begin, finish)
    clock.advance(timedelta(hours=25))

    assert start(begin, fingerprint=OTHER_REQUEST) is None


class TakenOverByAnotherRequest(InMemoryIdempotencyKeys):
    """Another retry takes the stale key over between this request's claim and its take-over."""

    def take_over(self, stale: KeyUse, use: KeyUse) -> bool:
        rival = KeyUse(use.user_id, use.key, use.fingerprint, use.started_at)
        assert super().take_over(stale, rival)
        return super().take_over(stale, use)


def test_of_two_retries_taking_over_an_expired_key_the_second_is_in_progress(
    clock: FixedClock,
) -> None:
    keys = TakenOverByAnotherRequest()
    begin = IdempotentRequests(keys, clock)
    start(begin)
    clock.advance(timedelta(hours=25))

    with pytest.raises(RequestInProgress):
        start(begin)


# --- the key itself -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "key",
    [
        pytest.param("k" * 255, id="255 characters"),
        pytest.param("a", id="one character"),
        pytest.param("retry 1: POST /sms ~!@#$%^&*()", id="spaces and punctuation"),
    ],
)
def test_printable_ascii_keys_of_1_to_255_characters_are_accepted(
    begin: IdempotentRequests, key: str
) -> None:
    assert start(begin, key=key) is None


@pytest.mark.parametrize(
    "key",
    [
        pytest.param("k" * 256, id="256 characters"),
        pytest.param("", id="empty"),
        pytest.param("clé-1", id="non-ASCII"),
        pytest.param("tab\there", id="control character"),
    ],
)
def test_other_keys_are_refused_and_nothing_is_stored(
    begin: IdempotentRequests, keys: InMemoryIdempotencyKeys, key: str
) -> None:
    with pytest.raises(InvalidIdempotencyKey) as refused:
        start(begin, key=key)

    assert refused.value.messages == [KEY_MESSAGE]
    assert keys.uses == {}


# --- releasing and pruning ------------------------------------------------------------------------


def test_releasing_an_unfinished_request_frees_its_key_for_a_retry(
    begin: IdempotentRequests, keys: InMemoryIdempotencyKeys
) -> None:
    start(begin)

    begin.release(DANA, KEY)

    assert keys.uses == {}
    assert start(begin) is None


def test_releasing_a_finished_request_keeps_its_answer(
    begin: IdempotentRequests,
    finish: IdempotentRequests,
    keys: InMemoryIdempotencyKeys,
) -> None:
    answered(begin, finish)

    begin.release(DANA, KEY)

    assert start(begin) == CREATED


def test_pruning_forgets_only_keys_older_than_24_hours(
    begin: IdempotentRequests, keys: InMemoryIdempotencyKeys, clock: FixedClock
) -> None:
    start(begin, key="old")
    clock.advance(timedelta(hours=2))
    start(begin, key="recent")
    clock.advance(timedelta(hours=23))

    forgotten = begin.prune()

    assert forgotten == 1
    assert [key for _, key in keys.uses] == ["recent"]
