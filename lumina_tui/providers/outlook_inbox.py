"""Outlook inbox reader: Microsoft Graph's delta query on the Inbox.

The cursor is the `@odata.deltaLink` Graph hands out after the last page. A first sync walks the
whole delta (the Inbox since the account began sending); a delta link Graph no longer knows
(410 SyncStateNotFound) starts that walk again. Each new message is fetched as MIME
(`/messages/{id}/$value`), so one parser reads Graph, Gmail and IMAP mail alike; its key is the
immutable id (the provider's client asks for `Prefer: IdType="ImmutableId"`), stable across
resyncs, and its thread is Graph's conversationId.

Calls go through `call(method, url, params=...)`: the Outlook provider's own caller (fresh token,
one refresh on 401, errors sorted by kind), so sign-in lives in one place.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

from lumina_tui.providers.base import ProviderError
from lumina_tui.providers.inbox import InboundMessage, InboxBatch

log = logging.getLogger(__name__)

Call = Callable[..., Any]
EXPIRED = 410  # SyncStateNotFound: the delta token is too old
DELTA_PATH = "me/mailFolders('inbox')/messages/delta"
SELECT = "id,conversationId,receivedDateTime,internetMessageId"


class OutlookInbox:
    """The Inbox of one Outlook account, read with Graph's delta query."""

    source = "outlook"
    provider = "outlook"

    def __init__(self, call: Call, *, close: Callable[[], None] | None = None) -> None:
        self._call = call
        self._close = close

    def read_since(self, cursor: dict[str, Any], *, since: datetime | None) -> Iterator[InboxBatch]:
        link = str(cursor.get("delta_link") or "")
        if link:
            try:
                yield from self._walk(link, None, cursor, resync=False)
                return
            except ProviderError as exc:
                if exc.code != EXPIRED:
                    raise
                log.info("outlook delta link expired; resyncing the inbox")
        params: dict[str, Any] = {"$select": SELECT}
        if since is not None:
            stamp = since.replace(tzinfo=UTC) if since.tzinfo is None else since
            params["$filter"] = f"receivedDateTime ge {stamp.strftime('%Y-%m-%dT%H:%M:%SZ')}"
        yield from self._walk(DELTA_PATH, params, cursor, resync=bool(link))

    def _walk(
        self, url: str, params: dict[str, Any] | None, cursor: dict[str, Any], *, resync: bool
    ) -> Iterator[InboxBatch]:
        first = True
        while True:
            answer = self._call("GET", url, params=params).json()
            params = None  # next and delta links carry their own query
            found = [
                item
                for item in answer.get("value") or []
                if item.get("id") and "@removed" not in item
            ]
            next_link = answer.get("@odata.nextLink")
            delta_link = answer.get("@odata.deltaLink")
            yield InboxBatch(
                messages=self._fetch(found),
                cursor={"delta_link": delta_link} if delta_link else dict(cursor),
                full_resync=resync and first,
            )
            first = False
            if not next_link:
                return
            url = next_link

    def _fetch(self, items: list[dict[str, Any]]) -> list[InboundMessage]:
        messages = []
        for item in items:
            graph_id = str(item["id"])
            try:
                raw = self._call("GET", f"me/messages/{graph_id}/$value").content
            except ProviderError as exc:
                if exc.code == 404:
                    continue  # deleted since the delta named it
                raise
            received = _when(item.get("receivedDateTime"))
            messages.append(
                InboundMessage(
                    key=f"outlook:{graph_id}",
                    raw=bytes(raw),
                    thread_id=str(item.get("conversationId") or "") or None,
                    received_at=received,
                )
            )
        return messages

    def close(self) -> None:
        if self._close is not None:
            self._close()


def _when(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed.astimezone(UTC).replace(tzinfo=None) if parsed.tzinfo else parsed
