"""API tokens: handed to a user once, kept only as a digest."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ApiToken:
    value: str

    @classmethod
    def generate(cls) -> ApiToken:
        return cls(secrets.token_urlsafe(32))

    @property
    def digest(self) -> str:
        # 256 random bits need no salt or slow hash: a fast digest is as hard to reverse as the
        # token is to guess, and it lets a lookup go straight to an indexed column.
        return hashlib.sha256(self.value.encode()).hexdigest()

    def __repr__(self) -> str:
        return "ApiToken(<hidden>)"
