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
    """Worth retrying later: the provider may well accept the same message then.

    `uncertain`: the provider may have accepted the message before failing (a timeout, a 5xx after
    the request went out), so the next attempt must first ask it (`find_sent`). `retry_after`: the
    provider said when to come back (HTTP Retry-After, a daily quota's reset), in seconds.
    """

    def __init__(
        self,
        reason: str,
        *,
        code: int | str | None = None,
        uncertain: bool = False,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(reason, code=code)
        self.uncertain = uncertain
        self.retry_after = retry_after


class PermanentProviderError(ProviderError):
    """The provider refused this message for good; retrying would only repeat the refusal."""


class AuthError(PermanentProviderError):
    """The account's credentials were refused; nothing will send until the rep reconnects it."""


class SignInRequired(AuthError):
    """The provider refused the account's refresh token (revoked, expired: OAuth `invalid_grant`).

    Unlike other failures this one does not fail the email: the account is marked "needs sign-in"
    and its emails wait, PENDING_SEND, until the rep signs in again.
    """


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
    """What the provider said about a sent message.

    `thread_id` (Gmail threadId, Graph conversationId) and `sent_message_id` (the Message-ID the
    message went out with, when the provider replaced ours) are stored on the email row for reply
    matching; None where the provider has no such thing or could not say.
    """

    provider_message_id: str
    detail: str = ""
    thread_id: str | None = None
    sent_message_id: str | None = None


@runtime_checkable
class Provider(Protocol):
    """A way out for a message. `find_sent` is optional (return None when it cannot tell)."""

    name: str

    def send(self, message: EmailMessage, *, email_id: str) -> SendReceipt:
        """Deliver `message`; raise a ProviderError subclass on failure."""
        ...

    def find_sent(
        self, *, email_id: str, message_id: str, message: EmailMessage | None = None
    ) -> SendReceipt | None:
        """After an uncertain failure: does the provider already have this message? None if unknown.

        `message` is the message that would be sent (a search can narrow by recipient and subject).
        """
        ...

    def close(self) -> None: ...
