"""Patients' opt-out keywords, as carriers and Twilio honour them."""

from __future__ import annotations

from enum import Enum

OPT_OUT_WORDS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"})
OPT_IN_WORDS = frozenset({"START", "YES", "UNSTOP"})
HELP_WORDS = frozenset({"HELP"})
# Twilio's error for a send to a number that has opted out.
OPTED_OUT_ERROR_CODE = 21610


class OptOutRequest(Enum):
    OPT_OUT = "opt-out"
    OPT_IN = "opt-in"
    HELP = "help"


def opt_out_request(body: str, reported_type: str | None = None) -> OptOutRequest | None:
    """What an inbound SMS asks of its sender's subscription, if anything.

    ``reported_type`` is Twilio's ``OptOutType`` (sent when Advanced Opt-Out is on), which wins;
    otherwise the body must be a single keyword, trimmed, in any case.
    """
    if reported_type:
        word = reported_type.strip().upper()
        for request, words in _BY_REPORTED_TYPE.items():
            if word in words:
                return request
    word = body.strip().upper()
    if word in OPT_OUT_WORDS:
        return OptOutRequest.OPT_OUT
    if word in OPT_IN_WORDS:
        return OptOutRequest.OPT_IN
    if word in HELP_WORDS:
        return OptOutRequest.HELP
    return None


_BY_REPORTED_TYPE = {
    OptOutRequest.OPT_OUT: OPT_OUT_WORDS,
    OptOutRequest.OPT_IN: OPT_IN_WORDS,
    OptOutRequest.HELP: HELP_WORDS,
}
