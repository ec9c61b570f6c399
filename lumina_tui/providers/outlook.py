"""Outlook / Microsoft 365: Microsoft Graph over httpx, in two steps so the message's id is known
before it goes.

1. `POST /me/messages` creates the message as a draft, with `Prefer: IdType="ImmutableId"` (its id
   stays the same when sending moves it to Sent Items) and our `x-lumina-email-id` in
   `internetMessageHeaders` (Graph accepts only x- headers there).
2. `POST /me/messages/{id}/send`.

Before a retry after an uncertain failure, `find_sent` asks Graph for a message carrying the header
(the header is exposed as the extended property `String {00020386-0000-0000-C000-000000000046} Name
x-lumina-email-id`, which `$filter` can match): a sent one finishes the email as SENT; a draft left
by an attempt cut off between the two steps is sent instead of creating a second one.

Failures: 429 and 503 are transient and honour Retry-After (the worker waits at least that long);
other 5xx and timeouts are transient and, on the send step, `uncertain`; 401 refreshes the token
once, then it is an auth error; 400/404 are permanent; a refused refresh token is
`SignInRequired`. After the send, Graph's conversationId and internetMessageId are read back for
reply matching (a failure there never fails the send).
"""

from __future__ import annotations

import contextlib
import logging
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import getaddresses, parsedate_to_datetime
from pathlib import Path
from typing import Any

from lumina_tui.config import MicrosoftSettings
from lumina_tui.providers.base import (
    AccountConfig,
    AuthError,
    PermanentProviderError,
    ProviderError,
    SendReceipt,
    SignInRequired,
    TransientProviderError,
)
from lumina_tui.providers.microsoft_oauth import MicrosoftKey, MicrosoftTokens, cache_path
from lumina_tui.providers.token_cache import EncryptedTokenCache

log = logging.getLogger(__name__)

HEADER = "x-lumina-email-id"
PS_INTERNET_HEADERS = "{00020386-0000-0000-C000-000000000046}"
HEADER_PROPERTY = f"String {PS_INTERNET_HEADERS} Name {HEADER}"
IMMUTABLE = 'IdType="ImmutableId"'


def _retry_after(response: Any) -> float | None:
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        try:
            return max(0.0, (parsedate_to_datetime(value) - datetime.now(UTC)).total_seconds())
        except (TypeError, ValueError):
            return None


def classify_response(response: Any, *, sending: bool) -> ProviderError:
    """A Graph error answer as the kind of failure the worker acts on (401 is handled before this)."""
    status = response.status_code
    code, message = "", ""
    try:
        error = response.json()["error"]
        code, message = str(error.get("code") or ""), str(error.get("message") or "")
    except (ValueError, KeyError, TypeError):
        message = response.text[:200]
    said = f"Microsoft Graph {status}{' ' + code if code else ''}: {message or 'no details'}"
    if status == 429:
        return TransientProviderError(said, code=status, retry_after=_retry_after(response))
    if status >= 500:
        return TransientProviderError(
            said, code=status, uncertain=sending, retry_after=_retry_after(response)
        )
    if status == 401:
        return AuthError(said, code=status)
    if status == 403 and code in ("ErrorAccessDenied", "AccessDenied", "Authorization_RequestDenied"):
        return AuthError(f"{said}; the app needs Mail.Send and Mail.ReadWrite", code=status)
    return PermanentProviderError(said, code=status)


def _recipients(message: EmailMessage, *names: str) -> list[dict[str, Any]]:
    values = [str(v) for name in names for v in message.get_all(name, [])]
    return [
        {"emailAddress": {"name": name, "address": address} if name else {"address": address}}
        for name, address in getaddresses(values)
        if address
    ]


def graph_message(message: EmailMessage, email_id: str) -> dict[str, Any]:
    """The message as a Graph message resource, with our header."""
    html = message.get_body(preferencelist=("html",))
    text = message.get_body(preferencelist=("plain",))
    if html is not None:
        body = {"contentType": "HTML", "content": str(html.get_content())}
    else:
        body = {"contentType": "Text", "content": str(text.get_content()) if text is not None else ""}
    resource: dict[str, Any] = {
        "subject": str(message.get("Subject") or ""),
        "body": body,
        "toRecipients": _recipients(message, "To"),
        "ccRecipients": _recipients(message, "Cc"),
        "bccRecipients": _recipients(message, "Bcc"),
        "internetMessageHeaders": [{"name": HEADER, "value": email_id}],
    }
    return resource


class OutlookProvider:
    """One Outlook account over Graph; one per worker thread."""

    name = "outlook"

    def __init__(self, config: AccountConfig, microsoft: MicrosoftSettings, *, token_dir: Path) -> None:
        import httpx

        self.account_id = config.account_id
        self.email = config.email
        if not config.secret:
            raise SignInRequired(f"no Microsoft sign-in is stored for {config.email}")
        store = EncryptedTokenCache(
            cache_path(token_dir, config.account_id), MicrosoftKey.loads(config.secret).cache_key
        )
        self._tokens = MicrosoftTokens(
            microsoft,
            store,
            home_account_id=(config.settings or {}).get("home_account_id"),
            email=config.email,
        )
        self._base = microsoft.graph_url.rstrip("/") + "/"
        self._client = httpx.Client(
            base_url=self._base, timeout=microsoft.timeout_seconds, headers={"Prefer": IMMUTABLE}
        )
        self._pending_drafts: dict[str, str] = {}

    def _call(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict[str, Any] | None = None,
        sending: bool = False,
    ) -> Any:
        import httpx

        for attempt in (1, 2):
            token = self._tokens.access_token(force_refresh=attempt == 2)
            try:
                response = self._client.request(
                    method, path, json=json, params=params, headers={"Authorization": f"Bearer {token}"}
                )
            except httpx.TimeoutException:
                raise TransientProviderError(
                    "Microsoft Graph did not answer in time", uncertain=sending
                ) from None
            except httpx.ConnectError as exc:
                raise TransientProviderError(f"cannot connect to Microsoft Graph: {exc}") from None
            except httpx.TransportError as exc:
                raise TransientProviderError(
                    f"network error talking to Microsoft Graph: {exc.__class__.__name__}: {exc}",
                    uncertain=sending,
                ) from None
            if response.status_code == 401 and attempt == 1:
                log.info("outlook %s: access token refused; refreshing it once", self.email)
                continue
            if response.status_code >= 400:
                raise classify_response(response, sending=sending)
            return response
        raise AssertionError("unreachable")  # pragma: no cover

    # -- sending ----------------------------------------------------------------------------------

    def send(self, message: EmailMessage, *, email_id: str) -> SendReceipt:
        resource = graph_message(message, email_id)
        if not (resource["toRecipients"] or resource["ccRecipients"] or resource["bccRecipients"]):
            raise PermanentProviderError("the message has no recipient")
        draft_id = self._pending_drafts.pop(email_id, None)
        created: dict[str, Any] = {}
        if draft_id is None:
            created = self._call("POST", "me/messages", json=resource).json()
            draft_id = str(created["id"])
        try:
            self._call("POST", f"me/messages/{draft_id}/send", sending=True)
        except TransientProviderError as exc:
            if not exc.uncertain:
                self._discard_draft(draft_id)  # certainly not sent: leave no draft behind
            raise
        except ProviderError:
            self._discard_draft(draft_id)
            raise
        details = self._read_back(draft_id) or created
        thread_id = details.get("conversationId")
        return SendReceipt(
            provider_message_id=draft_id,
            thread_id=str(thread_id) if thread_id else None,
            sent_message_id=details.get("internetMessageId"),
            detail=f"sent through Microsoft Graph as {draft_id}",
        )

    def _discard_draft(self, draft_id: str) -> None:
        with contextlib.suppress(Exception):
            self._call("DELETE", f"me/messages/{draft_id}")

    def _read_back(self, message_id: str) -> dict[str, Any]:
        try:
            return self._call(
                "GET", f"me/messages/{message_id}", params={"$select": "id,conversationId,internetMessageId"}
            ).json()
        except Exception as exc:  # the message is sent: nothing here may turn into a resend
            log.warning("outlook %s: sent %s but could not read it back: %s", self.email, message_id, exc)
            return {}

    def find_sent(
        self, *, email_id: str, message_id: str, message: EmailMessage | None = None
    ) -> SendReceipt | None:
        """A message with our header that is no longer a draft is sent; a draft is sent next time."""
        match = (
            f"singleValueExtendedProperties/any(ep: ep/id eq '{HEADER_PROPERTY}' "
            f"and ep/value eq '{email_id}')"
        )
        found = self._call(
            "GET",
            "me/messages",
            params={"$filter": match, "$select": "id,isDraft,conversationId,internetMessageId", "$top": "10"},
        ).json()
        drafts = []
        for item in found.get("value") or []:
            if not item.get("isDraft"):
                thread_id = item.get("conversationId")
                return SendReceipt(
                    provider_message_id=str(item["id"]),
                    thread_id=str(thread_id) if thread_id else None,
                    sent_message_id=item.get("internetMessageId"),
                    detail=f"found in Outlook's Sent Items as {item['id']} after an interrupted attempt",
                )
            drafts.append(str(item["id"]))
        if drafts:
            self._pending_drafts[email_id] = drafts[0]
            for extra in drafts[1:]:
                self._discard_draft(extra)
        return None

    def check(self) -> str:
        me = self._call("GET", "me", params={"$select": "mail,userPrincipalName"}).json()
        address = me.get("mail") or me.get("userPrincipalName") or "?"
        return f"Microsoft Graph: signed in as {address}"

    def profile_email(self) -> str:
        me = self._call("GET", "me", params={"$select": "mail,userPrincipalName"}).json()
        return str(me.get("mail") or me.get("userPrincipalName") or "")

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._client.close()
