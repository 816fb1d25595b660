"""The service's settings, read once from the environment (the design guide's table)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import phonenumbers

DEFAULT_DATABASE_URL = "sqlite:///ecm_comms.sqlite3"
# Said on a call when no one can be connected: a patient answering ours, or calling the clinic.
DEFAULT_CALL_UNAVAILABLE_MESSAGE = (
    "Hello, this is your care team. No one is available to talk right now. "
    "Please call us back later, or send us a text message."
)


class SettingsError(ValueError):
    """A setting has a value the service cannot start with."""


def settings_from_environ(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The container's configuration as a plain dict, from ``environ`` (default ``os.environ``)."""
    env = os.environ if environ is None else environ
    account_sid = env.get("TWILIO_ACCOUNT_SID") or None
    gateway = env.get("ECM_GATEWAY") or ("twilio" if account_sid else "simulated")
    if gateway not in ("twilio", "simulated"):
        raise SettingsError(f"ECM_GATEWAY must be 'twilio' or 'simulated', not {gateway!r}")
    region = (env.get("ECM_DEFAULT_REGION") or "US").upper()
    if region not in phonenumbers.SUPPORTED_REGIONS:
        raise SettingsError(f"ECM_DEFAULT_REGION {region!r} is not a region phonenumbers knows")
    clinic_number = env.get("ECM_CLINIC_PHONE_NUMBER") or None
    if clinic_number and not phonenumbers.is_possible_number(_parsed(clinic_number, region)):
        raise SettingsError("ECM_CLINIC_PHONE_NUMBER is not a phone number")
    return {
        "database_url": env.get("ECM_DATABASE_URL") or DEFAULT_DATABASE_URL,
        "database_pool": _database_pool(env),
        "clinic_number": clinic_number,
        "call_unavailable_message": env.get("ECM_CALL_UNAVAILABLE_MESSAGE")
        or DEFAULT_CALL_UNAVAILABLE_MESSAGE,
        # Development only: Twilio's signatures go unchecked, and the server says so loudly.
        "skip_webhook_signatures": env.get("ECM_INSECURE_SKIP_TWILIO_SIGNATURES", "").lower()
        in ("1", "true", "yes"),
        "public_base_url": (env.get("ECM_PUBLIC_BASE_URL") or "").rstrip("/") or None,
        "default_region": region,
        "gateway": gateway,
        "gateway_reason": (
            "ECM_GATEWAY is set"
            if env.get("ECM_GATEWAY")
            else ("TWILIO_ACCOUNT_SID is set" if account_sid else "TWILIO_ACCOUNT_SID is not set")
        ),
        "twilio": {
            "account_sid": account_sid,
            "auth_token": env.get("TWILIO_AUTH_TOKEN") or None,
            "from_number": env.get("TWILIO_FROM_NUMBER") or None,
            "api_base_url": env.get("TWILIO_API_BASE_URL") or None,
        },
    }


def _parsed(number: str, region: str) -> phonenumbers.PhoneNumber:
    try:
        return phonenumbers.parse(number, region)
    except phonenumbers.NumberParseException as error:
        raise SettingsError(f"not a phone number: {error}") from error


def _database_pool(env: Mapping[str, str]) -> dict[str, int]:
    """Per server worker: each worker process has its own pool (SQLAlchemy's 5 + 10 if unset)."""
    pool = {
        option: _count(env, variable)
        for option, variable in (
            ("pool_size", "ECM_DATABASE_POOL_SIZE"),
            ("max_overflow", "ECM_DATABASE_MAX_OVERFLOW"),
        )
        if env.get(variable)
    }
    # An inbound webhook holds two connections at once (its transaction, the patient lookup);
    # a pool size of 0 would mean "no limit" to SQLAlchemy.
    size, overflow = pool.get("pool_size", 5), pool.get("max_overflow", 10)
    if size < 1 or size + overflow < 2:
        raise SettingsError(
            "ECM_DATABASE_POOL_SIZE must be at least 1, and at least 2 with "
            "ECM_DATABASE_MAX_OVERFLOW"
        )
    return pool


def _count(env: Mapping[str, str], variable: str) -> int:
    raw = env[variable]
    if not raw.isdigit():
        raise SettingsError(f"{variable} must be a whole number, not {raw!r}")
    return int(raw)
