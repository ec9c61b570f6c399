"""IMAP inbox reader: how an SMTP account hears replies and bounces (imapclient, read-only).

The cursor is UIDVALIDITY + the highest UID recorded. UIDs are only meaningful under one
UIDVALIDITY: when the server announces another one (a mailbox rebuilt or restored), every UID we
knew is void, so the reader starts over from the date the account began sending. That re-reads
messages already recorded, which costs nothing more than time: the events are keyed by each
message's Message-ID (or a digest of its bytes), never by its UID.

The folder is opened read-only and bodies are fetched with BODY.PEEK, so Lumina never marks the
rep's mail as read. A message larger than `MAX_FULL_BYTES` is fetched as headers only (enough to
match a reply; a bounce is never that large).
"""

from __future__ import annotations

import hashlib
import logging
import socket
import ssl
from collections.abc import Iterator
from datetime import datetime, timedelta
from email.parser import BytesHeaderParser
from email.policy import compat32
from typing import Any

from lumina_tui.providers.base import AuthError, ProviderError, TransientProviderError
from lumina_tui.providers.inbox import InboundMessage, InboxBatch

log = logging.getLogger(__name__)

SECURITY_MODES = ("ssl", "starttls", "plain")
DEFAULT_PORTS = {"ssl": 993, "starttls": 143, "plain": 143}
DEFAULT_TIMEOUT_SECONDS = 30.0
FETCH_CHUNK = 50
MAX_FULL_BYTES = 10 * 1024 * 1024


def message_key(raw: bytes) -> str:
    """A key that survives a UIDVALIDITY change: the Message-ID, else a digest of the bytes."""
    headers = BytesHeaderParser(policy=compat32).parsebytes(raw, headersonly=True)
    message_id = str(headers.get("Message-ID") or "").strip()
    if message_id:
        return "mid:" + message_id[:300]
    return "sha256:" + hashlib.sha256(raw).hexdigest()


class ImapInbox:
    """One IMAP folder of one account, read since a UIDVALIDITY + UID cursor."""

    provider = "imap"

    def __init__(
        self,
        *,
        host: str,
        port: int | None,
        security: str,
        username: str,
        password: str,
        folder: str = "INBOX",
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
        ca_file: str | None = None,
    ) -> None:
        if security not in SECURITY_MODES:
            raise ValueError(f"security: {security!r} is not one of {', '.join(SECURITY_MODES)}")
        self.host = host
        self.port = int(port or DEFAULT_PORTS[security])
        self.security = security
        self.username = username
        self._password = password
        self.folder = folder
        self.timeout = timeout
        self.ca_file = ca_file
        self.source = f"imap:{folder}"
        self._client: Any = None

    @property
    def where(self) -> str:
        return f"IMAP {self.host}:{self.port}"

    def _context(self) -> ssl.SSLContext:
        return (
            ssl.create_default_context(cafile=self.ca_file) if self.ca_file else ssl.create_default_context()
        )

    def _connect(self) -> Any:
        from imapclient import IMAPClient
        from imapclient.exceptions import LoginError

        if self._client is not None:
            return self._client
        try:
            client = IMAPClient(
                self.host,
                port=self.port,
                ssl=self.security == "ssl",
                ssl_context=self._context() if self.security == "ssl" else None,
                timeout=self.timeout,
            )
            if self.security == "starttls":
                client.starttls(self._context())
            client.login(self.username, self._password)
        except LoginError as exc:
            raise AuthError(f"{self.where} refused the login for {self.username}: {_text(exc)}") from None
        except Exception as exc:
            raise classify(exc, where=self.where) from None
        self._client = client
        return client

    def read_since(self, cursor: dict[str, Any], *, since: datetime | None) -> Iterator[InboxBatch]:
        """Batches of up to FETCH_CHUNK messages, oldest UID first, each with its cursor."""
        client = self._connect()
        try:
            status = client.select_folder(self.folder, readonly=True)
            uidvalidity = int(status[b"UIDVALIDITY"])
            known = cursor.get("uidvalidity")
            full_resync = known is not None and int(known) != uidvalidity
            resume = known is not None and not full_resync
            last_uid = int(cursor.get("last_uid") or 0) if resume else 0
            if resume:
                # `UID n:*` always names the newest message, even when it is older than n.
                uids = [uid for uid in client.search(["UID", f"{last_uid + 1}:*"]) if uid > last_uid]
            elif since is not None:
                uids = list(client.search(["SINCE", (since - timedelta(days=1)).date()]))
            else:
                uids = list(client.search(["ALL"]))
            uids.sort()
            if not uids:
                yield InboxBatch(
                    messages=[],
                    cursor={"uidvalidity": uidvalidity, "last_uid": last_uid},
                    full_resync=full_resync,
                )
                return
            for start in range(0, len(uids), FETCH_CHUNK):
                chunk = uids[start : start + FETCH_CHUNK]
                yield InboxBatch(
                    messages=self._fetch(client, chunk),
                    cursor={"uidvalidity": uidvalidity, "last_uid": chunk[-1]},
                    full_resync=full_resync and start == 0,
                )
        except ProviderError:
            raise
        except Exception as exc:
            self.close()
            raise classify(exc, where=self.where) from None

    def _fetch(self, client: Any, uids: list[int]) -> list[InboundMessage]:
        sizes = client.fetch(uids, ["RFC822.SIZE"])
        small = [uid for uid in uids if int(sizes.get(uid, {}).get(b"RFC822.SIZE", 0)) <= MAX_FULL_BYTES]
        large = [uid for uid in uids if uid not in set(small)]
        found: dict[int, tuple[bytes, Any]] = {}
        if small:
            for uid, data in client.fetch(small, ["BODY.PEEK[]", "INTERNALDATE"]).items():
                found[uid] = (bytes(data.get(b"BODY[]") or b""), data.get(b"INTERNALDATE"))
        if large:
            for uid, data in client.fetch(large, ["BODY.PEEK[HEADER]", "INTERNALDATE"]).items():
                found[uid] = (bytes(data.get(b"BODY[HEADER]") or b""), data.get(b"INTERNALDATE"))
        messages = []
        for uid in uids:
            if uid not in found or not found[uid][0]:
                continue  # expunged between SEARCH and FETCH
            raw, internal_date = found[uid]
            received = internal_date if isinstance(internal_date, datetime) else None
            messages.append(InboundMessage(key=message_key(raw), raw=raw, received_at=received))
        return messages

    def check(self) -> str:
        """Log in and open the folder read-only; nothing is read."""
        client = self._connect()
        try:
            status = client.select_folder(self.folder, readonly=True)
        except Exception as exc:
            self.close()
            raise classify(exc, where=self.where) from None
        count = int(status[b"EXISTS"])
        return f"{self.where}: logged in as {self.username}; {self.folder} has {count} message(s)"

    def close(self) -> None:
        client, self._client = self._client, None
        if client is None:
            return
        try:
            client.logout()
        except Exception:
            log.debug("IMAP logout failed", exc_info=True)
            try:
                client.shutdown()
            except Exception:
                log.debug("IMAP shutdown failed", exc_info=True)


def _text(exc: BaseException) -> str:
    value = exc.args[0] if exc.args else exc
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return str(value) or exc.__class__.__name__


def classify(exc: BaseException, *, where: str) -> ProviderError:
    """Every IMAP failure is worth retrying at the next sync, except a refused login."""
    if isinstance(exc, ProviderError):
        return exc
    if isinstance(exc, ConnectionRefusedError):
        return TransientProviderError(f"{where}: connection refused")
    if isinstance(exc, socket.timeout | TimeoutError):
        return TransientProviderError(f"{where}: timed out")
    if isinstance(exc, ssl.SSLError):
        return TransientProviderError(f"{where}: TLS failed: {exc.__class__.__name__}: {_text(exc)}")
    if isinstance(exc, OSError):
        return TransientProviderError(f"{where}: {exc.__class__.__name__}: {exc.strerror or _text(exc)}")
    return TransientProviderError(f"{where}: {exc.__class__.__name__}: {_text(exc)}")
