"""Identifiers shaped like Twilio's: a two-letter prefix and 32 hex digits."""

import secrets


def new_sid(prefix: str) -> str:
    return prefix + secrets.token_hex(16)
