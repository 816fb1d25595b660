"""The service's settings, read once from the environment (the design guide's table)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import phonenumbers

DEFAULT_DATABASE_URL = "sqlite:///ecm_comms.sqlite3"


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
    return {
        "database_url": env.get("ECM_DATABASE_URL") or DEFAULT_DATABASE_URL,
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
