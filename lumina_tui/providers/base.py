"""What every sending provider is: a protocol and three kinds of failure.

The worker's retry policy depends only on the kind: a `TransientProviderError` (connection,
timeout, SMTP 4xx, HTTP 429/5xx) is retried with backoff; a `PermanentProviderError` (SMTP 5xx
such as 550 recipient refused) fails the email at once; an `AuthError` (bad password, revoked
token) fails at once too and tells the rep to reconnect the account.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any, Protocol, runtime_checkable

from lumina_tui.logs import scrub


class ProviderError(Exception):
    """Base of every provider failure; `reason` is what the rep sees in the outbox.

    A server's reply can echo what it was sent (a 535 quoting the password, a token in a JSON
    error): `reason` is scrubbed here, once, before anything can store, log or print it.
    """

    def __init__(self, reason: str, *, code: int | str | None = None) -> None:
        reason = scrub(reason)
        super().__init__(reason)
        self.reason = reason
        self.code = code


class TransientProviderError(ProviderError):
    """Worth retrying later: the provider may well accept the same message then."""


class PermanentProviderError(ProviderError):
    """The provider refused this message for good; retrying would only repeat the refusal."""


class AuthError(PermanentProviderError):
    """The account's credentials were refused; nothing will send until the rep reconnects it."""


@dataclass(frozen=True, slots=True)
class AccountConfig:
    """What a provider needs to connect: the account row's fields plus its secret, if any."""

    account_id: str
    provider: str
    email: str
    display_name: str = ""
    settings: dict[str, Any] = field(default_factory=dict)
    secret: str | None = field(default=None, repr=False)


@dataclass(frozen=True, slots=True)
class SendReceipt:
    provider_message_id: str
    detail: str = ""


@runtime_checkable
class Provider(Protocol):
    """A way out for a message. `find_sent` is optional (return None when it cannot tell)."""

    name: str

    def send(self, message: EmailMessage, *, email_id: str) -> SendReceipt:
        """Deliver `message`; raise a ProviderError subclass on failure."""
        ...

    def find_sent(self, *, email_id: str, message_id: str) -> SendReceipt | None:
        """After an uncertain failure: does the provider already have this message? None if unknown."""
        ...

    def close(self) -> None: ...
