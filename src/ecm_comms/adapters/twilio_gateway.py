"""The messaging gateway on Twilio, through twilio-python's ``Client``."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit, urlunsplit

import requests
from requests.adapters import HTTPAdapter
from twilio.base.exceptions import TwilioRestException, TwilioServiceException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client
from urllib3.util.retry import Retry

from ecm_comms.adapters.twiml import connect_or_apologise
from ecm_comms.domain.errors import GatewayError
from ecm_comms.domain.phone_numbers import PhoneNumber
from ecm_comms.domain.statuses import CallStatus, SmsStatus
from ecm_comms.ports.gateway import CallReceipt, OutboundCall, OutboundSms, SmsReceipt
from ecm_comms.webhook_routes import CALL_STATUS, SMS_STATUS, status_callback_url

MAX_ATTEMPTS = 3
BACKOFF_FACTOR = 0.25
# All attempts and the backoff between them end within this, so that a request (with its own
# work) answers before the server's 30 s limit: each attempt gets its share, less a second kept
# for the backoff.
RETRY_BUDGET_SECONDS = 25.0
REQUEST_TIMEOUT_SECONDS = (RETRY_BUDGET_SECONDS - 1.0) / MAX_ATTEMPTS
# Twilio's answers that promise nothing was done, so asking again cannot send twice.
_RETRYABLE_HTTP_STATUSES = frozenset({429, 503})
_RETRYABLE_CODES = frozenset({20429})
_CALL_EVENTS = ["initiated", "ringing", "answered", "completed"]


def twilio_retries(attempts: int = MAX_ATTEMPTS) -> Retry:
    """Retry what cannot have been acted on: a connection never made, a 429 or a 503.

    Reads are never retried (``read=False`` hands the timeout back as it is): a request that went
    out may have been acted on, and a second one could text the patient twice. Retry-After is not
    waited for, so the worst case stays within the budget; after the last attempt Twilio's own
    answer is raised, with its code and words.
    """
    return Retry(
        total=attempts - 1,
        connect=attempts - 1,
        read=False,
        status=attempts - 1,
        other=0,
        allowed_methods=None,  # Twilio's creates are POSTs
        status_forcelist=_RETRYABLE_HTTP_STATUSES,
        backoff_factor=BACKOFF_FACTOR,
        respect_retry_after_header=False,
        raise_on_status=False,
    )


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
    ) -> None:
        self._client = client
        self._sender = sender
        self._public_base_url = public_base_url
        self._unavailable_message = unavailable_message

    @property
    def sender(self) -> PhoneNumber:
        return self._sender

    def send_sms(self, sms: OutboundSms) -> SmsReceipt:
        options: dict[str, Any] = {}
        if self._public_base_url:
            options["status_callback"] = status_callback_url(
                self._public_base_url, SMS_STATUS, sms.record_id
            )
        if sms.sender.messaging_service_sid:
            options["messaging_service_sid"] = sms.sender.messaging_service_sid
        else:
            options["from_"] = sms.sender.number.e164
        message = _asking_twilio(
            self._client.messages.create, to=sms.to.e164, body=sms.body.text, **options
        )
        return SmsReceipt(
            sid=message.sid,
            status=SmsStatus(message.status),
            sender=_sender_of(message, sms.sender.number),
        )

    def start_call(self, call: OutboundCall) -> CallReceipt:
        options: dict[str, Any] = {}
        if self._public_base_url:
            options["status_callback"] = status_callback_url(
                self._public_base_url, CALL_STATUS, call.record_id
            )
            options["status_callback_event"] = _CALL_EVENTS
        on_answer = connect_or_apologise(call.connect_to, self._unavailable_message)
        created = _asking_twilio(
            self._client.calls.create,
            to=call.to.e164,
            from_=call.sender.number.e164,
            twiml=str(on_answer),
            **options,
        )
        return CallReceipt(
            sid=created.sid,
            status=CallStatus(created.status),
            sender=_sender_of(created, call.sender.number),
        )


def _sender_of(resource: Any, asked: PhoneNumber) -> PhoneNumber:
    """The number Twilio says it used (a Messaging Service picks one of its own), else the one
    asked for."""
    reported = getattr(resource, "from_", None) or getattr(resource, "from_formatted", None)
    try:
        return PhoneNumber.parse(reported) if reported else asked
    except ValueError:
        return asked


def _asking_twilio(create: Any, **fields: Any) -> Any:
    """``create(**fields)``, with Twilio's failures as ``GatewayError``s (retries happen below,
    in the HTTP client)."""
    try:
        return create(**fields)
    except TwilioRestException as error:
        raise _refusal(int(error.status), error.code, _twilio_message(error.msg)) from error
    except TwilioServiceException as error:  # Twilio's newer RFC 9457 error bodies
        raise _refusal(int(error.status), error.code, error.detail or error.title) from error
    except requests.exceptions.ConnectTimeout as error:
        # Connecting never finished, so Twilio never saw the request.
        raise GatewayError(
            "Twilio could not be reached", unavailable=True, retry_safe=True
        ) from error
    except requests.exceptions.Timeout as error:
        # The request went out; Twilio may have acted on it.
        raise GatewayError("Twilio did not answer in time", unavailable=True) from error
    except requests.exceptions.ConnectionError as error:
        raise GatewayError(
            "Twilio could not be reached", unavailable=True, retry_safe=True
        ) from error


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

    def __init__(self, base_url: str, *, max_retries: Retry, **options: Any) -> None:
        super().__init__(max_retries=max_retries, **options)
        self._base = urlsplit(base_url)
        # twilio-python mounts its retrying adapter for https only; a stand-in may be plain http.
        self.session.mount("http://", HTTPAdapter(max_retries=max_retries))

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


def twilio_client(
    account_sid: str,
    auth_token: str,
    api_base_url: str | None = None,
    timeout_seconds: float = REQUEST_TIMEOUT_SECONDS,
    attempts: int = MAX_ATTEMPTS,
) -> Client:
    """twilio-python's client: every attempt bounded by ``timeout_seconds``, retried as
    ``twilio_retries`` says, optionally sent to ``api_base_url`` (a local stand-in)."""
    retries = twilio_retries(attempts)
    if api_base_url:
        http_client: TwilioHttpClient = _RebasedHttpClient(
            api_base_url, timeout=timeout_seconds, max_retries=retries
        )
    else:
        http_client = TwilioHttpClient(timeout=timeout_seconds, max_retries=retries)
    return Client(account_sid, auth_token, http_client=http_client)
