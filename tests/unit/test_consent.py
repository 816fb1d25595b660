"""Reading the consent ledger: opted out when the latest entry is; what a clinic sees."""

from __future__ import annotations

from datetime import UTC, datetime

from ecm_comms.domain.consent import Consent, ConsentAction, ConsentEntry, ConsentSource
from ecm_comms.domain.phone_numbers import PhoneNumber

PHONE = PhoneNumber("+18051234567")
AT = datetime(2024, 11, 27, 10, 0, tzinfo=UTC)


def entry(action: ConsentAction, recorded_for: int | None = 1) -> ConsentEntry:
    return ConsentEntry(
        PHONE,
        None,
        action,
        ConsentSource.STAFF,
        AT,
        sms_id=7,
        user_id=101,
        note="asked by phone",
        recorded_for=recorded_for,
    )


def test_a_number_with_no_entries_is_not_opted_out() -> None:
    assert Consent(PHONE).sms_opted_out is False


def test_a_number_is_opted_out_when_its_latest_entry_is_an_opt_out() -> None:
    history = (entry(ConsentAction.OPT_OUT), entry(ConsentAction.OPT_IN))

    assert Consent(PHONE, history).sms_opted_out is True


def test_a_number_is_opted_in_again_when_its_latest_entry_is_an_opt_in() -> None:
    history = (entry(ConsentAction.OPT_IN), entry(ConsentAction.OPT_OUT))

    assert Consent(PHONE, history).sms_opted_out is False


def test_a_clinic_sees_its_own_entries_whole() -> None:
    own = entry(ConsentAction.OPT_OUT, recorded_for=1)

    assert Consent(PHONE, (own,)).as_seen_by(1).history == (own,)


def test_a_clinic_sees_another_clinics_entry_without_its_sms_staff_member_or_note() -> None:
    theirs = entry(ConsentAction.OPT_OUT, recorded_for=2)

    [seen] = Consent(PHONE, (theirs,)).as_seen_by(1).history

    assert (seen.action, seen.source, seen.at, seen.sms_id, seen.user_id, seen.note) == (
        ConsentAction.OPT_OUT,
        ConsentSource.STAFF,
        AT,
        None,
        None,
        None,
    )
