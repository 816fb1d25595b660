"""The messaging gateway on Twilio, through twilio-python's ``Client``."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

import requests
from twilio.base.exceptions import TwilioRestException, TwilioServiceException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client
from twilio.twiml.voice_response import VoiceResponse

from ecm_comms.domain.errors import GatewayError
from ecm_comms.domain.phone_numbers import PhoneNumber
from ecm_comms.domain.statuses import CallStatus, SmsStatus
from ecm_comms.ports.gateway import CallReceipt, OutboundCall, OutboundSms, SmsReceipt
from ecm_comms.webhook_routes import CALL_STATUS, SMS_STATUS, status_callback_url

log = logging.getLogger(__name__)

T = TypeVar("T")

REQUEST_TIMEOUT_SECONDS = 10.0
# A retry is only started if it can end within this, so that with the answer's own work a
# request stays under the server's 30 s limit.
RETRY_BUDGET_SECONDS = 25.0
MAX_ATTEMPTS = 3
BACKOFF_SECONDS = 0.25
# Twilio's answers that promise nothing was done, so asking again cannot send twice.
_RETRYABLE_HTTP_STATUSES = {429, 503}
_RETRYABLE_CODES = {20429}
_CALL_EVENTS = ["initiated", "ringing", "answered", "completed"]


class TwilioGateway:
    """SMS and calls through twilio-python.

    With ``public_base_url``, Twilio is asked to report every status to the webhooks, at a URL
    carrying our record's id; without it, no status callbacks are asked for.
    """

    def __init__(
        self,
        client: Client,
        sender: PhoneNumber,
        *,
        public_base_url: str | None = None,
        unavailable_message: str = "",
        max_attempts: int = MAX_ATTEMPTS,
        backoff_seconds: float = BACKOFF_SECONDS,
        request_timeout_seconds: float = REQUEST_TIMEOUT_SECONDS,
        retry_budget_seconds: float = RETRY_BUDGET_SECONDS,
        sleep: Callable[[float], None] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._sender = sender
        self._public_base_url = public_base_url
        self._unavailable_message = unavailable_message
        self._max_attempts = max_attempts
        self._backoff_seconds = backoff_seconds
        self._request_timeout_seconds = request_timeout_seconds
        self._retry_budget_seconds = retry_budget_seconds
        self._sleep = sleep
        self._monotonic = monotonic

    @property
    def sender(self) -> PhoneNumber:
        return self._sender

    def send_sms(self, sms: OutboundSms) -> SmsReceipt:
        options: dict[str, Any] = {}
        if self._public_base_url:
            options["status_callback"] = status_callback_url(
                self._public_base_url, SMS_STATUS, sms.record_id
            )
        message = self._with_retries(
            lambda: self._client.messages.create(
                to=sms.to.e164, from_=self._sender.e164, body=sms.body.text, **options
            )
        )
        return SmsReceipt(
            sid=message.sid, status=SmsStatus(message.status), sender=self._sender_of(message)
        )

    def start_call(self, call: OutboundCall) -> CallReceipt:
        options: dict[str, Any] = {}
        if self._public_base_url:
            options["status_callback"] = status_callback_url(
                self._public_base_url, CALL_STATUS, call.record_id
            )
            options["status_callback_event"] = _CALL_EVENTS
        created = self._with_retries(
            lambda: self._client.calls.create(
                to=call.to.e164,
                from_=self._sender.e164,
                twiml=str(self._on_answer(call.connect_to)),
                **options,
            )
        )
        return CallReceipt(
            sid=created.sid, status=CallStatus(created.status), sender=self._sender_of(created)
        )

    def _on_answer(self, connect_to: PhoneNumber | None) -> VoiceResponse:
        twiml = VoiceResponse()
        if connect_to is not None:
            twiml.dial(connect_to.e164)
        else:
            if self._unavailable_message:
                twiml.say(self._unavailable_message)
            twiml.hangup()
        return twiml

    def _sender_of(self, resource: Any) -> PhoneNumber:
        reported = getattr(resource, "from_", None) or getattr(resource, "from_formatted", None)
        try:
            return PhoneNumber.parse(reported) if reported else self._sender
        except ValueError:
            return self._sender

    def _with_retries(self, request: Callable[[], T]) -> T:
        started = self._monotonic()
        attempt = 1
        while True:
            try:
                return request()
            except TwilioRestException as error:
                failure = _refusal(int(error.status), error.code, _twilio_message(error.msg))
            except TwilioServiceException as error:  # Twilio's newer RFC 9457 error bodies
                failure = _refusal(int(error.status), error.code, error.detail or error.title)
            except requests.exceptions.ConnectTimeout:
                # Connecting never finished, so Twilio never saw the request.
                failure = GatewayError(
                    "Twilio could not be reached", unavailable=True, retry_safe=True
                )
            except requests.exceptions.Timeout:
                # The request went out; Twilio may have acted on it. Never repeat it.
                failure = GatewayError("Twilio did not answer in time", unavailable=True)
            except requests.exceptions.ConnectionError:
                failure = GatewayError(
                    "Twilio could not be reached", unavailable=True, retry_safe=True
                )
            backoff = self._backoff_seconds * 2 ** (attempt - 1)
            worst_end = self._monotonic() - started + backoff + self._request_timeout_seconds
            if (
                not failure.retry_safe
                or attempt >= self._max_attempts
                or worst_end > self._retry_budget_seconds
            ):
                raise failure
            log.warning(
                "Twilio request failed (code %s), retrying (attempt %d of %d)",
                failure.code,
                attempt + 1,
                self._max_attempts,
            )
            self._sleep(backoff)
            attempt += 1


def _refusal(status: int, code: int | None, message: str | None) -> GatewayError:
    return GatewayError(
        message or f"Twilio answered HTTP {status}",
        code=code,
        unavailable=status >= 500 or status == 429,
        retry_safe=status in _RETRYABLE_HTTP_STATUSES or code in _RETRYABLE_CODES,
    )


def _twilio_message(message: str) -> str:
    """Twilio's own words: twilio-python puts "Unable to create record: " in front of them."""
    return message.split(": ", 1)[1] if message.startswith("Unable to ") else message


class _RebasedHttpClient(TwilioHttpClient):  # type: ignore[misc]
    """Sends every request to ``base_url`` instead of Twilio's hosts (a local stand-in)."""

    def __init__(self, base_url: str, **options: Any) -> None:
        super().__init__(**options)
        self._base = urlsplit(base_url)

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        parts = urlsplit(url)
        rebased = urlunsplit(
            (
                self._base.scheme,
                self._base.netloc,
                self._base.path.rstrip("/") + parts.path,
                parts.query,
                "",
            )
        )
        return super().request(method, rebased, *args, **kwargs)


def make_twilio_gateway(
    account_sid: str | None,
    auth_token: str | None,
    from_number: str | None,
    api_base_url: str | None = None,
    public_base_url: str | None = None,
    unavailable_message: str = "",
    timeout_seconds: float = REQUEST_TIMEOUT_SECONDS,
) -> TwilioGateway:
    """The gateway as configured from the environment; refuses to start without credentials."""
    missing = [
        name
        for name, value in (
            ("TWILIO_ACCOUNT_SID", account_sid),
            ("TWILIO_AUTH_TOKEN", auth_token),
            ("TWILIO_FROM_NUMBER", from_number),
        )
        if not value
    ]
    if missing:
        raise ValueError(f"the Twilio gateway needs {', '.join(missing)}")
    assert from_number is not None
    client = twilio_client(account_sid, auth_token, api_base_url, timeout_seconds)
    if not public_base_url:
        log.warning(
            "ECM_PUBLIC_BASE_URL is not set: Twilio will not report statuses of outbound SMS "
            "and calls, and records stay at the status Twilio first answered"
        )
    return TwilioGateway(
        client,
        PhoneNumber.parse(from_number),
        request_timeout_seconds=timeout_seconds,
        public_base_url=public_base_url,
        unavailable_message=unavailable_message,
    )


def twilio_client(
    account_sid: str | None,
    auth_token: str | None,
    api_base_url: str | None = None,
    timeout_seconds: float = REQUEST_TIMEOUT_SECONDS,
) -> Client:
    """twilio-python's client, every request bounded by ``timeout_seconds``, optionally sent to
    ``api_base_url`` (a local stand-in) instead of Twilio."""
    http_client = (
        _RebasedHttpClient(api_base_url, timeout=timeout_seconds)
        if api_base_url
        else TwilioHttpClient(timeout=timeout_seconds)
    )
    return Client(account_sid, auth_token, http_client=http_client)
