"""The TwiML of a call with a patient: put them through to someone, or apologise and hang up.

One builder for both directions: an outbound call the patient answers (the gateway's ``twiml``)
and an inbound call (the voice webhook's answer).
"""

from __future__ import annotations

from twilio.twiml.voice_response import VoiceResponse

from ecm_comms.domain.phone_numbers import PhoneNumber


def connect_or_apologise(connect_to: PhoneNumber | None, unavailable_message: str) -> VoiceResponse:
    """Dial ``connect_to``; with no one to connect, say ``unavailable_message`` (if any) and hang
    up."""
    reply = VoiceResponse()
    if connect_to is not None:
        reply.dial(connect_to.e164)
        return reply
    if unavailable_message:
        reply.say(unavailable_message)
    reply.hangup()
    return reply
