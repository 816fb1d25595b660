"""The service's settings: one typed, frozen object, read once from the environment.

Every value is parsed here (numbers as ``PhoneNumber`` in the configured region, the gateway as a
``GatewayKind``); the container hands the parsed values on, so no adapter knows a variable name.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import phonenumbers

from ecm_comms.domain.errors import ValidationError
from ecm_comms.domain.phone_numbers import PhoneNumber
from ecm_comms.domain.reporting import DEFAULT_ENCOUNTER_MIN_CALL_SECONDS

DEFAULT_DATABASE_URL = "sqlite:///ecm_comms.sqlite3"
DEFAULT_REGION = "US"
# Said on a call when no one can be connected: a patient answering ours, or calling the clinic.
DEFAULT_CALL_UNAVAILABLE_MESSAGE = (
    "Hello, this is your care team. No one is available to talk right now. "
    "Please call us back later, or send us a text message."
)


class SettingsError(ValueError):
    """A setting has a value the service cannot start with."""


class GatewayKind(StrEnum):
    TWILIO = "twilio"
    SIMULATED = "simulated"


class LogFormat(StrEnum):
    TEXT = "text"  # a line a person reads
    JSON = "json"  # one JSON object a line, for a log pipeline


@dataclass(frozen=True, slots=True)
class DatabasePool:
    """Per server worker: each worker process has its own pool (None: SQLAlchemy's default)."""

    size: int | None = None
    max_overflow: int | None = None

    def engine_options(self) -> dict[str, int]:
        options = {"pool_size": self.size, "max_overflow": self.max_overflow}
        return {name: value for name, value in options.items() if value is not None}


@dataclass(frozen=True, slots=True)
class TwilioSettings:
    account_sid: str | None = None
    auth_token: str | None = field(default=None, repr=False)
    from_number: PhoneNumber | None = None
    api_base_url: str | None = None  # a local stand-in instead of Twilio

    def missing(self) -> list[str]:
        """The variables the Twilio gateway needs that are not set."""
        needed = (
            ("TWILIO_ACCOUNT_SID", self.account_sid),
            ("TWILIO_AUTH_TOKEN", self.auth_token),
            ("TWILIO_FROM_NUMBER", self.from_number),
        )
        return [name for name, value in needed if not value]


@dataclass(frozen=True, slots=True)
class Settings:
    database_url: str = DEFAULT_DATABASE_URL
    database_pool: DatabasePool = DatabasePool()
    default_region: str = DEFAULT_REGION
    gateway: GatewayKind = GatewayKind.SIMULATED
    gateway_reason: str = "TWILIO_ACCOUNT_SID is not set"
    public_base_url: str | None = None  # the URL Twilio calls; None: derived from the request
    clinic_number: PhoneNumber | None = None
    call_unavailable_message: str = DEFAULT_CALL_UNAVAILABLE_MESSAGE
    # Development only: Twilio's signatures go unchecked, and the server says so loudly.
    skip_webhook_signatures: bool = False
    twilio: TwilioSettings = TwilioSettings()
    # A completed call at least this long is a PRTF "Telehealth Encounter".
    encounter_min_call_seconds: int = DEFAULT_ENCOUNTER_MIN_CALL_SECONDS
    log_format: LogFormat = LogFormat.TEXT
    metrics_enabled: bool = True
    # When set, GET /metrics asks for it as a bearer token.
    metrics_token: str | None = field(default=None, repr=False)


def settings_from_environ(environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
    """The settings from ``environ`` (default ``os.environ``); ``overrides`` replace fields."""
    env = os.environ if environ is None else environ
    region = (env.get("ECM_DEFAULT_REGION") or DEFAULT_REGION).upper()
    if region not in phonenumbers.SUPPORTED_REGIONS:
        raise SettingsError(f"ECM_DEFAULT_REGION {region!r} is not a region phonenumbers knows")
    account_sid = env.get("TWILIO_ACCOUNT_SID") or None
    values: dict[str, Any] = {
        "database_url": env.get("ECM_DATABASE_URL") or DEFAULT_DATABASE_URL,
        "database_pool": _database_pool(env),
        "default_region": region,
        **_gateway(env.get("ECM_GATEWAY"), account_sid),
        "public_base_url": (env.get("ECM_PUBLIC_BASE_URL") or "").rstrip("/") or None,
        "clinic_number": _phone(env, "ECM_CLINIC_PHONE_NUMBER", region),
        "call_unavailable_message": env.get("ECM_CALL_UNAVAILABLE_MESSAGE")
        or DEFAULT_CALL_UNAVAILABLE_MESSAGE,
        "skip_webhook_signatures": _switch(
            env, "ECM_INSECURE_SKIP_TWILIO_SIGNATURES", default=False
        ),
        "encounter_min_call_seconds": DEFAULT_ENCOUNTER_MIN_CALL_SECONDS
        if (encounter := _count(env, "ECM_ENCOUNTER_MIN_CALL_SECONDS")) is None
        else encounter,
        "log_format": _log_format(env.get("ECM_LOG_FORMAT")),
        "metrics_enabled": _switch(env, "ECM_METRICS", default=True),
        "metrics_token": env.get("ECM_METRICS_TOKEN") or None,
        "twilio": TwilioSettings(
            account_sid=account_sid,
            auth_token=env.get("TWILIO_AUTH_TOKEN") or None,
            from_number=_phone(env, "TWILIO_FROM_NUMBER", region),
            api_base_url=env.get("TWILIO_API_BASE_URL") or None,
        ),
    }
    return Settings(**(values | overrides))


def _gateway(chosen: str | None, account_sid: str | None) -> dict[str, Any]:
    if chosen:
        try:
            return {"gateway": GatewayKind(chosen), "gateway_reason": "ECM_GATEWAY is set"}
        except ValueError:
            raise SettingsError(
                f"ECM_GATEWAY must be 'twilio' or 'simulated', not {chosen!r}"
            ) from None
    if account_sid:
        return {"gateway": GatewayKind.TWILIO, "gateway_reason": "TWILIO_ACCOUNT_SID is set"}
    return {"gateway": GatewayKind.SIMULATED, "gateway_reason": "TWILIO_ACCOUNT_SID is not set"}


def _log_format(chosen: str | None) -> LogFormat:
    try:
        return LogFormat((chosen or LogFormat.TEXT.value).lower())
    except ValueError:
        raise SettingsError(f"ECM_LOG_FORMAT must be 'text' or 'json', not {chosen!r}") from None


_ON, _OFF = ("1", "true", "yes", "on"), ("0", "false", "no", "off")


def _switch(env: Mapping[str, str], variable: str, *, default: bool) -> bool:
    raw = (env.get(variable) or "").strip().lower()
    if not raw:
        return default
    if raw not in _ON + _OFF:
        raise SettingsError(f"{variable} must be on or off, not {env[variable]!r}")
    return raw in _ON


def _phone(env: Mapping[str, str], variable: str, region: str) -> PhoneNumber | None:
    raw = env.get(variable)
    if not raw:
        return None
    try:
        return PhoneNumber.parse(raw, region)
    except ValidationError as error:
        raise SettingsError(f"{variable} is not a phone number") from error


def _database_pool(env: Mapping[str, str]) -> DatabasePool:
    pool = DatabasePool(
        size=_count(env, "ECM_DATABASE_POOL_SIZE"),
        max_overflow=_count(env, "ECM_DATABASE_MAX_OVERFLOW"),
    )
    # An inbound webhook holds two connections at once (its transaction, the patient lookup);
    # a pool size of 0 would mean "no limit" to SQLAlchemy.
    size = 5 if pool.size is None else pool.size
    overflow = 10 if pool.max_overflow is None else pool.max_overflow
    if size < 1 or size + overflow < 2:
        raise SettingsError(
            "ECM_DATABASE_POOL_SIZE must be at least 1, and at least 2 with "
            "ECM_DATABASE_MAX_OVERFLOW"
        )
    return pool


def _count(env: Mapping[str, str], variable: str) -> int | None:
    raw = env.get(variable)
    if not raw:
        return None
    if not raw.isdigit():
        raise SettingsError(f"{variable} must be a whole number, not {raw!r}")
    return int(raw)
