"""Gmail inbox reader: what arrived since the stored historyId (`users.history.list`, messageAdded).

The cursor is Gmail's historyId. A first sync, or one whose historyId Gmail no longer keeps (it
answers 404 after about a week), lists the INBOX since the account began sending instead, and takes
the mailbox's historyId *before* listing, so nothing that arrives meanwhile is missed. Messages are
fetched whole (`format=raw`) so one parser reads Gmail, Graph and IMAP mail alike; their key is
Gmail's message id, stable across resyncs, and their thread is Gmail's threadId.

The API calls go through `execute(make)`: the Gmail provider's own caller (fresh access token, one
refresh on 401, errors sorted into transient / permanent / auth), so sign-in lives in one place.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

from lumina_tui.providers.base import ProviderError
from lumina_tui.providers.inbox import InboundMessage, InboxBatch

log = logging.getLogger(__name__)


def _raw_message(gmail_id: str) -> Callable[[Any], Any]:
    """The API call that fetches one message as RFC 5322 bytes (base64url)."""
    return lambda users: users.messages().get(userId="me", id=gmail_id, format="raw")

Execute = Callable[[Callable[[Any], Any]], Any]
PAGE_SIZE = 100
EXPIRED = 404  # Gmail's answer to a startHistoryId it no longer keeps


class GmailInbox:
    """The INBOX of one Gmail account, read since a historyId."""

    source = "gmail"
    provider = "gmail"

    def __init__(self, execute: Execute, *, close: Callable[[], None] | None = None) -> None:
        self._execute = execute
        self._close = close

    def read_since(self, cursor: dict[str, Any], *, since: datetime | None) -> Iterator[InboxBatch]:
        start = str(cursor.get("history_id") or "")
        if start:
            try:
                yield from self._history(start, cursor)
                return
            except ProviderError as exc:
                if exc.code != EXPIRED:
                    raise
                log.info("gmail history %s expired; resyncing the inbox", start)
        yield from self._full(cursor, since, resync=bool(start))

    def _history(self, start: str, cursor: dict[str, Any]) -> Iterator[InboxBatch]:
        page_token: str | None = None
        latest = start
        while True:

            def page(users: Any, token: str | None = page_token) -> Any:
                return users.history().list(
                    userId="me",
                    startHistoryId=start,
                    historyTypes="messageAdded",
                    labelId="INBOX",
                    maxResults=PAGE_SIZE,
                    pageToken=token,
                )

            answer = self._execute(page)
            latest = str(answer.get("historyId") or latest)
            added: dict[str, str] = {}
            for record in answer.get("history") or []:
                for item in record.get("messagesAdded") or []:
                    message = item.get("message") or {}
                    if message.get("id") and "INBOX" in (message.get("labelIds") or ["INBOX"]):
                        added.setdefault(str(message["id"]), str(message.get("threadId") or ""))
            page_token = answer.get("nextPageToken")
            done = not page_token
            # The new historyId is only true once every page is recorded.
            yield InboxBatch(
                messages=self._fetch(added),
                cursor={"history_id": latest} if done else dict(cursor),
            )
            if done:
                return

    def _full(self, cursor: dict[str, Any], since: datetime | None, *, resync: bool) -> Iterator[InboxBatch]:
        profile = self._execute(lambda users: users.getProfile(userId="me"))
        history_id = str(profile.get("historyId") or "")
        query = f"after:{int(since.replace(tzinfo=UTC).timestamp()) - 86400}" if since is not None else None
        page_token: str | None = None
        first = True
        while True:

            def page(users: Any, token: str | None = page_token) -> Any:
                return users.messages().list(
                    userId="me", labelIds=["INBOX"], q=query, maxResults=PAGE_SIZE, pageToken=token
                )

            answer = self._execute(page)
            found = {str(m["id"]): str(m.get("threadId") or "") for m in answer.get("messages") or []}
            page_token = answer.get("nextPageToken")
            done = not page_token
            yield InboxBatch(
                messages=self._fetch(found),
                cursor={"history_id": history_id} if done else dict(cursor),
                full_resync=resync and first,
            )
            first = False
            if done:
                return

    def _fetch(self, ids: dict[str, str]) -> list[InboundMessage]:
        messages = []
        for gmail_id, thread_id in ids.items():
            try:
                data = self._execute(_raw_message(gmail_id))
            except ProviderError as exc:
                if exc.code == 404:
                    continue  # deleted since it was listed
                raise
            raw = base64.urlsafe_b64decode(str(data.get("raw") or "") + "==")
            received = None
            if data.get("internalDate"):
                received = datetime.fromtimestamp(int(data["internalDate"]) / 1000, UTC).replace(tzinfo=None)
            messages.append(
                InboundMessage(
                    key=f"gmail:{gmail_id}",
                    raw=raw,
                    thread_id=str(data.get("threadId") or thread_id) or None,
                    received_at=received,
                )
            )
        return messages

    def close(self) -> None:
        if self._close is not None:
            self._close()
