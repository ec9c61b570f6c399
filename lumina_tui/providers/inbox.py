"""Reading a mailbox back: what every inbox reader yields, whatever the provider.

Lumina has no public URL for provider webhooks, so it watches the rep's mailbox for replies and
bounces instead. Each reader (IMAP for SMTP accounts, Gmail history, Graph delta) turns "what is new
since this cursor" into batches of whole RFC 5322 messages, so one parser decides what a message is
(bounce, reply, or nothing of ours) for every provider. A batch carries the cursor to store once its
messages are recorded: the sync writes both in one transaction, so a crash re-reads a batch at
worst, and the events it leads to are keyed by the message's own stable id, so re-reading never
duplicates anything.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, runtime_checkable


@dataclass(frozen=True, slots=True)
class InboundMessage:
    """One message found in the mailbox.

    `key` is stable across resyncs (Gmail's message id, Graph's immutable id; for IMAP the
    Message-ID header or a digest of the bytes, because UIDs change with UIDVALIDITY).
    `thread_id` is Gmail's threadId or Graph's conversationId when the provider has one.
    """

    key: str
    raw: bytes = field(repr=False)
    thread_id: str | None = None
    received_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class InboxBatch:
    """Messages to record, then the cursor that is true once they are recorded."""

    messages: list[InboundMessage]
    cursor: dict[str, Any]
    full_resync: bool = False  # the stored cursor was no longer valid; the reader started over


@runtime_checkable
class InboxReader(Protocol):
    """What mailbox sync asks of a provider: new messages since a cursor, in batches."""

    source: str  # e.g. "imap:INBOX", "gmail", "outlook": one cursor per (account, source)
    provider: str  # the events' `provider` column: "imap", "gmail", "outlook"

    def read_since(self, cursor: dict[str, Any], *, since: datetime | None) -> Iterator[InboxBatch]:
        """Batches of messages newer than `cursor` (an empty cursor: those since `since`)."""
        ...

    def close(self) -> None: ...
