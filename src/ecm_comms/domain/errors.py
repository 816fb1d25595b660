"""Errors the business speaks of, each carrying the messages a caller is shown."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from ecm_comms.domain.channels import Channel


class DomainError(Exception):
    """A request the business refuses; ``messages`` are the words shown to the caller."""

    def __init__(self, messages: Sequence[str]) -> None:
        super().__init__("; ".join(messages))
        self.messages = list(messages)


class ValidationError(ValueError):
    """One field's value is unacceptable; collected into ``InvalidInput``."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidInput(DomainError):
    """Every problem found in a command's fields, reported together.

    ``fields`` names the command field of each message, where the use case knows it, so an
    entrypoint can say which of its own inputs (an option, a JSON key) was wrong.
    """

    def __init__(self, messages: Sequence[str], fields: Sequence[str | None] = ()) -> None:
        super().__init__(messages)
        self.fields = list(fields) or [None] * len(self.messages)

    @classmethod
    def of_fields(cls, problems: dict[str, str]) -> InvalidInput:
        return cls(list(problems.values()), list(problems))


class PatientNotFound(DomainError):
    """Unknown patient, or one of another clinic: the two are indistinguishable on purpose."""

    def __init__(self) -> None:
        super().__init__(["Patient not found"])


class RecordNotFound(DomainError):
    """An SMS or call that does not exist, or belongs to another clinic."""

    def __init__(self) -> None:
        super().__init__(["Not found"])


class RecipientOptedOut(DomainError):
    """The number replied STOP (or Twilio said so); no SMS may go to it until it says START."""

    def __init__(self) -> None:
        super().__init__(["Failed to send SMS: The recipient has opted out of SMS (replied STOP)"])


class StorageUnavailable(DomainError):
    """The database cannot be reached; what was under way was rolled back."""

    def __init__(self) -> None:
        super().__init__(["The database is unavailable; please retry shortly"])


class NotAuthenticated(DomainError):
    """No API token, or one that matches no user."""


class UnknownUser(DomainError):
    """An administrative command named a user that is not registered."""


class UserAlreadyExists(DomainError):
    """An administrative command tried to register a user id twice."""


class AdminRequired(DomainError):
    """Only a clinic's admins may produce its compliance reports."""

    def __init__(self) -> None:
        super().__init__(["Admin role required"])


class UnknownClinic(DomainError):
    """An administrative command named a clinic that has no record."""


class NumberTaken(DomainError):
    """A Twilio number belongs to one clinic at most."""


class StaffOptInRefused(DomainError):
    """Staff may record an opt-out, never an opt-in: the carrier keeps blocking until the
    patient texts START, so a staff opt-in would only turn into failed sends."""


class GatewayError(Exception):
    """The messaging provider refused or could not be reached.

    ``unavailable`` means the provider could not answer (5xx, network); otherwise it refused the
    request (4xx). ``retry_safe`` means repeating the request cannot cause a second delivery.
    """

    def __init__(
        self,
        reason: str,
        *,
        code: int | None = None,
        unavailable: bool = False,
        retry_safe: bool = False,
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.code = code
        self.unavailable = unavailable
        self.retry_safe = retry_safe

    @property
    def outcome_unknown(self) -> bool:
        """The provider may have acted on the request (a timeout, a 5xx): it may have been sent."""
        return self.unavailable and not self.retry_safe


class CommunicationFailed(DomainError):
    """The provider did not take the SMS or call (or may not have): it stays on record, as
    failed or, when the provider may have acted, as queued until its status callback says."""

    _ACTIONS: ClassVar[dict[Channel, str]] = {
        Channel.SMS: "Failed to send SMS",
        Channel.CALL: "Failed to initiate call",
    }

    def __init__(self, channel: Channel, error: GatewayError) -> None:
        super().__init__([f"{self._ACTIONS[channel]}: {error.reason}"])
        self.channel = channel
        self.code = error.code
        self.unavailable = error.unavailable


class NotScheduled(DomainError):
    """Only an SMS still waiting for the worker can be canceled."""

    def __init__(self) -> None:
        super().__init__(["Only a scheduled SMS can be canceled"])


class CampaignNotFound(DomainError):
    """Unknown campaign, or one of another clinic."""

    def __init__(self) -> None:
        super().__init__(["Campaign not found"])
