"""Gmail: `users.messages.send` with the raw message, through the official google-api-python-client.

The client is built from the discovery document bundled with the library (no network at build time)
over our own `httplib2.Http` (so `google.api_url` can point it at a local server in tests), and each
request carries a bearer token from `GoogleTokens`. Every call runs with `execute(num_retries=0)`: a
5xx or a timeout may mean Gmail sent the message, so only the worker decides about a retry, after
`find_sent` has looked in Sent for our `X-Lumina-Email-Id` header. (Gmail replaces the Message-ID we
set, so the header is how we recognise our message; Gmail's search cannot match a header, so the
search narrows by recipient, subject and date and the header is compared on each candidate.)

Failures, as the worker needs them: 429, 5xx and 403 rateLimitExceeded/userRateLimitExceeded are
transient (5xx and timeouts `uncertain`); 403 dailyLimitExceeded is transient until the daily quota
resets (midnight Pacific time); 400 is permanent; 401 refreshes the token once, then it is an auth
error; a refused refresh token (invalid_grant) is `SignInRequired`.

After a send, Gmail's id and threadId come from the answer and the Message-ID Gmail assigned is read
back (`messages.get`, metadata); the worker stores them on the email row (provider_message_id,
provider_thread_id, sent_message_id) for reply matching. A failure of that read-back never fails
the send: the message is out.
"""

from __future__ import annotations

import base64
import contextlib
import json
import logging
import re
import socket
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import getaddresses, parsedate_to_datetime
from typing import Any

from lumina_tui.config import GoogleSettings
from lumina_tui.providers.base import (
    AccountConfig,
    AuthError,
    PermanentProviderError,
    ProviderError,
    SendReceipt,
    SignInRequired,
    TransientProviderError,
)
from lumina_tui.providers.google_oauth import GoogleGrant, GoogleTokens
from lumina_tui.providers.mime_builder import EMAIL_ID_HEADER

log = logging.getLogger(__name__)

RATE_REASONS = {"rateLimitExceeded", "userRateLimitExceeded"}
DAILY_REASONS = {"dailyLimitExceeded", "quotaExceeded"}
SCOPE_REASONS = {"insufficientPermissions", "ACCESS_TOKEN_SCOPE_INSUFFICIENT"}
# How far find_sent looks: candidates per page, pages.
SEARCH_PAGE = 50
SEARCH_PAGES = 10


def seconds_until_quota_reset(now: datetime | None = None) -> float:
    """Google's daily quotas reset at midnight Pacific time."""
    now = now or datetime.now(UTC)
    try:
        from zoneinfo import ZoneInfo

        pacific = now.astimezone(ZoneInfo("America/Los_Angeles"))
    except Exception:  # no tz database (some Windows installs): Pacific standard time
        pacific = now.astimezone(UTC) - timedelta(hours=8)
    midnight = (pacific + timedelta(days=1)).replace(hour=0, minute=0, second=5, microsecond=0)
    return max(60.0, (midnight - pacific).total_seconds())


def _error_parts(exc: Any) -> tuple[int, str, str]:
    """(status, reason, message) of a googleapiclient HttpError, from Gmail's JSON error body."""
    status = int(getattr(exc.resp, "status", 0) or 0)
    reason, message = "", ""
    try:
        error = json.loads(exc.content.decode("utf-8"))["error"]
        message = str(error.get("message") or "")
        details = error.get("errors") or []
        if details and isinstance(details[0], dict):
            reason = str(details[0].get("reason") or "")
    except (ValueError, KeyError, TypeError, AttributeError):
        message = str(getattr(exc, "reason", "") or "")
    return status, reason, message


def _retry_after(exc: Any) -> float | None:
    value = exc.resp.get("retry-after") if hasattr(exc.resp, "get") else None
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        try:
            return max(0.0, (parsedate_to_datetime(str(value)) - datetime.now(UTC)).total_seconds())
        except (TypeError, ValueError):
            return None


def classify_http_error(exc: Any, *, sending: bool) -> ProviderError:
    """A Gmail HTTP error as the kind of failure the worker acts on (401 is handled before this)."""
    status, reason, message = _error_parts(exc)
    said = f"Gmail {status}{' ' + reason if reason else ''}: {message or 'no details'}"
    if status == 429 or (status == 403 and reason in RATE_REASONS):
        return TransientProviderError(said, code=status, retry_after=_retry_after(exc))
    if status == 403 and reason in DAILY_REASONS:
        wait = seconds_until_quota_reset()
        return TransientProviderError(
            f"{said}; waiting for the daily quota to reset (in {wait / 3600:.1f} h)",
            code=status,
            retry_after=wait,
        )
    if status == 403 and reason in SCOPE_REASONS:
        return SignInRequired(f"{said}; Lumina needs the gmail.send and gmail.readonly permissions")
    if status == 401:
        return AuthError(said, code=status)
    if status >= 500:
        return TransientProviderError(said, code=status, uncertain=sending, retry_after=_retry_after(exc))
    return PermanentProviderError(said, code=status)


def _network_error(exc: BaseException, *, sending: bool, where: str) -> TransientProviderError:
    if isinstance(exc, ConnectionRefusedError):
        return TransientProviderError(f"{where} refused the connection")
    if isinstance(exc, TimeoutError | socket.timeout):
        return TransientProviderError(f"{where} did not answer in time", uncertain=sending)
    return TransientProviderError(
        f"network error talking to {where}: {exc.__class__.__name__}: {exc}", uncertain=sending
    )


def _subject_words(subject: str, limit: int = 10) -> list[str]:
    return re.findall(r"\w+", subject or "")[:limit]


class GmailProvider:
    """One Gmail account; one per worker thread (httplib2 is not thread-safe)."""

    name = "gmail"

    def __init__(self, config: AccountConfig, google: GoogleSettings) -> None:
        self.account_id = config.account_id
        self.email = config.email
        if not config.secret:
            raise SignInRequired(f"no Google sign-in is stored for {config.email}")
        self._tokens = GoogleTokens(GoogleGrant.loads(config.secret), google)
        self._api_url = google.api_url
        self._timeout = google.timeout_seconds
        self._service: Any = None
        self._http: Any = None

    # -- the client -------------------------------------------------------------------------------

    def _client(self) -> Any:
        if self._service is None:
            import httplib2
            from googleapiclient.discovery import build

            self._http = httplib2.Http(timeout=self._timeout)
            self._service = build(
                "gmail",
                "v1",
                http=self._http,
                static_discovery=True,
                cache_discovery=False,
                client_options={"api_endpoint": self._api_url} if self._api_url else None,
            )
        return self._service

    @property
    def _where(self) -> str:
        return "Gmail" if not self._api_url else f"Gmail ({self._api_url})"

    def _execute(self, make: Callable[[Any], Any], *, sending: bool = False) -> Any:
        """Run one API call with a fresh token; a 401 refreshes the token once and tries again."""
        import httplib2
        from googleapiclient.errors import HttpError

        for attempt in (1, 2):
            token = self._tokens.access_token(force_refresh=attempt == 2)
            request = make(self._client().users())
            request.headers["Authorization"] = f"Bearer {token}"
            try:
                return request.execute(num_retries=0)
            except HttpError as exc:
                if getattr(exc.resp, "status", 0) == 401 and attempt == 1:
                    log.info("gmail %s: access token refused; refreshing it once", self.email)
                    continue  # a 401 means nothing was done: safe to repeat
                raise classify_http_error(exc, sending=sending) from None
            except (httplib2.HttpLib2Error, OSError) as exc:
                self._reset()
                raise _network_error(exc, sending=sending, where=self._where) from None
        raise AssertionError("unreachable")  # pragma: no cover

    def _reset(self) -> None:
        """Drop the HTTP connection (after a network error it may be half-used)."""
        if self._http is not None:
            for connection in list(getattr(self._http, "connections", {}).values()):
                with contextlib.suppress(Exception):
                    connection.close()
            getattr(self._http, "connections", {}).clear()

    # -- sending ----------------------------------------------------------------------------------

    def send(self, message: EmailMessage, *, email_id: str) -> SendReceipt:
        if not getaddresses([str(v) for k in ("To", "Cc", "Bcc") for v in message.get_all(k, [])]):
            raise PermanentProviderError("the message has no recipient")
        data = message.as_bytes(policy=message.policy.clone(linesep="\r\n"))
        raw = base64.urlsafe_b64encode(data).decode("ascii")
        sent = self._execute(
            lambda users: users.messages().send(userId="me", body={"raw": raw}), sending=True
        )
        gmail_id = str(sent.get("id") or "")
        thread_id = sent.get("threadId")
        return SendReceipt(
            provider_message_id=gmail_id,
            thread_id=str(thread_id) if thread_id else None,
            sent_message_id=self._read_back_message_id(gmail_id),
            detail=f"accepted by Gmail as {gmail_id} (thread {thread_id})",
        )

    def _read_back_message_id(self, gmail_id: str) -> str | None:
        """The Message-ID Gmail gave the message; None (logged) if it cannot be read right now."""
        if not gmail_id:
            return None
        try:
            meta = self._metadata(gmail_id, ["Message-ID"])
        except Exception as exc:  # the message is sent: nothing here may turn into a resend
            log.warning("gmail %s: sent %s but could not read its Message-ID: %s", self.email, gmail_id, exc)
            return None
        return meta.get("message-id")

    def _metadata(self, gmail_id: str, headers: list[str]) -> dict[str, str]:
        found = self._execute(
            lambda users: users.messages().get(
                userId="me", id=gmail_id, format="metadata", metadataHeaders=headers
            )
        )
        values = {
            str(h.get("name", "")).lower(): str(h.get("value", ""))
            for h in (found.get("payload") or {}).get("headers") or []
        }
        values["_thread_id"] = str(found.get("threadId") or "")
        return values

    def _search(self, message: EmailMessage | None) -> str:
        terms = ["in:sent"]
        if message is None:
            terms.append("newer_than:3d")
            return " ".join(terms)
        recipients = [
            a
            for _n, a in getaddresses([str(v) for k in ("To", "Cc", "Bcc") for v in message.get_all(k, [])])
            if a
        ]
        if recipients:
            terms.append(f"to:{recipients[0]}")
        try:
            date = parsedate_to_datetime(str(message.get("Date")))
            terms.append(f"after:{int(date.timestamp()) - 86400}")
        except (TypeError, ValueError):
            terms.append("newer_than:3d")
        words = _subject_words(str(message.get("Subject") or ""))
        if words:
            terms.append('subject:"' + " ".join(words) + '"')
        return " ".join(terms)

    def find_sent(
        self, *, email_id: str, message_id: str, message: EmailMessage | None = None
    ) -> SendReceipt | None:
        """Look in Sent for a message carrying our X-Lumina-Email-Id; None if it is not there."""
        query = self._search(message)
        page_token: str | None = None
        for _page in range(SEARCH_PAGES):

            def listing(users: Any, token: str | None = page_token) -> Any:
                return users.messages().list(userId="me", q=query, maxResults=SEARCH_PAGE, pageToken=token)

            page = self._execute(listing)
            for candidate in page.get("messages") or []:
                gmail_id = str(candidate.get("id"))
                try:
                    meta = self._metadata(gmail_id, [EMAIL_ID_HEADER, "Message-ID"])
                except PermanentProviderError:
                    continue  # deleted meanwhile
                if meta.get(EMAIL_ID_HEADER.lower()) == email_id:
                    thread_id = meta.get("_thread_id") or candidate.get("threadId")
                    return SendReceipt(
                        provider_message_id=gmail_id,
                        thread_id=str(thread_id) if thread_id else None,
                        sent_message_id=meta.get("message-id"),
                        detail=f"found in Gmail's Sent as {gmail_id} after an interrupted attempt",
                    )
            page_token = page.get("nextPageToken")
            if not page_token:
                return None
        log.warning("gmail %s: gave up looking for %s after %d pages", self.email, email_id, SEARCH_PAGES)
        return None

    def check(self) -> str:
        """For `lumina accounts test`: refresh the token and read the profile; nothing is sent."""
        profile = self._execute(lambda users: users.getProfile(userId="me"))
        address = profile.get("emailAddress", "?")
        if str(address).lower() != self.email.lower():
            return (
                f"Gmail: signed in as {address} (the account says {self.email}); messages go out as {address}"
            )
        return f"Gmail: signed in as {address}; {profile.get('messagesTotal', 0)} messages in the mailbox"

    def profile_email(self) -> str:
        return str(self._execute(lambda users: users.getProfile(userId="me")).get("emailAddress") or "")

    def close(self) -> None:
        self._reset()
        self._service = None
        self._http = None
