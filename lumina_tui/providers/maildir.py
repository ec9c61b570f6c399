"""The demo account's provider: a local outbox (a Maildir mutt or neomutt can open), not delivered.

Nothing leaves the machine. Each email is one file named after its email id, created with an
exclusive hard link from `tmp/` into `new/`, so a retried send — even two workers racing on the same
email — finds the file already there and never writes a second copy; `find_sent` answers from the
same names (in `new/`, or in `cur/` once a mail reader has seen it).
"""

from __future__ import annotations

import mailbox
import os
import re
import socket
import threading
from email import policy
from email.message import EmailMessage
from pathlib import Path

from lumina_tui.providers.base import PermanentProviderError, SendReceipt, TransientProviderError

LABEL = "local outbox, not delivered"
_SAFE_ID = re.compile(r"^[A-Za-z0-9\-]+$")
_SUFFIX = ".lumina"


def outbox_key(email_id: str) -> str:
    """The Maildir key (file name before any `:2,` flags) of an email's message."""
    if not _SAFE_ID.match(email_id or ""):
        raise PermanentProviderError(f"email id {email_id!r} cannot name a Maildir file")
    return f"{email_id}{_SUFFIX}"


class MaildirProvider:
    """Writes each sent message into a Maildir under the data dir; labelled "local outbox, not delivered"."""

    name = "maildir"
    label = LABEL
    smtputf8 = True  # a file on disk carries UTF-8 headers as they are

    def __init__(self, path: Path) -> None:
        self.path = Path(path).expanduser()
        self._ready = False
        self._lock = threading.Lock()

    def _ensure(self) -> None:
        if self._ready:
            return
        with self._lock:
            if not self._ready:
                try:
                    # tmp/ new/ cur/ as mail readers expect; made with exist_ok because several workers
                    # may create the outbox at once (mailbox.Maildir(create=True) is not race-safe).
                    for sub in ("tmp", "new", "cur"):
                        (self.path / sub).mkdir(mode=0o700, parents=True, exist_ok=True)
                    mailbox.Maildir(self.path, create=False)
                except (OSError, mailbox.Error) as exc:
                    why = getattr(exc, "strerror", None) or exc
                    raise TransientProviderError(
                        f"{LABEL}: cannot create the outbox at {self.path}: {why}"
                    ) from None
                self._ready = True

    def _existing(self, key: str) -> Path | None:
        direct = self.path / "new" / key
        if direct.exists():
            return direct
        cur = self.path / "cur"
        try:
            names = os.listdir(cur)
        except FileNotFoundError:
            return None
        for name in names:
            if name == key or name.startswith(key + ":"):
                return cur / name
        return None

    def _receipt(self, message_id: str, path: Path) -> SendReceipt:
        return SendReceipt(provider_message_id=message_id, detail=f"{LABEL}: {path}")

    def send(self, message: EmailMessage, *, email_id: str) -> SendReceipt:
        key = outbox_key(email_id)
        self._ensure()
        message_id = str(message.get("Message-ID", "")).strip()
        existing = self._existing(key)
        if existing is not None:
            return self._receipt(message_id, existing)
        utf8 = getattr(message.policy, "utf8", False)  # only an EmailPolicy has the flag
        data = message.as_bytes(policy=message.policy if utf8 else policy.default)
        tmp = self.path / "tmp" / f"{key}.{os.getpid()}.{threading.get_ident()}.{socket.gethostname()}"
        target = self.path / "new" / key
        try:
            with open(tmp, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            try:
                os.link(tmp, target)  # atomic and exclusive: a racing second writer gets FileExistsError
            except FileExistsError:
                pass
            except (AttributeError, NotImplementedError, PermissionError):
                # Filesystems without hard links: a rename is still atomic, just not exclusive.
                if self._existing(key) is None:
                    os.replace(tmp, target)
            self._sync_dir(self.path / "new")
        except OSError as exc:
            raise TransientProviderError(
                f"{LABEL}: cannot write to {self.path}: {exc.strerror or exc}"
            ) from None
        finally:
            tmp.unlink(missing_ok=True)
        return self._receipt(message_id, self._existing(key) or target)

    def find_sent(
        self, *, email_id: str, message_id: str, message: EmailMessage | None = None
    ) -> SendReceipt | None:
        existing = self._existing(outbox_key(email_id))
        return None if existing is None else self._receipt(message_id, existing)

    def check(self) -> str:
        """For `lumina accounts test`: the outbox folder exists (or can be made) and is writable."""
        self._ensure()
        probe = self.path / "tmp" / f".probe.{os.getpid()}.{threading.get_ident()}"
        try:
            probe.write_bytes(b"")
            probe.unlink()
        except OSError as exc:
            raise PermanentProviderError(
                f"{LABEL}: {self.path} is not writable: {exc.strerror or exc}"
            ) from None
        return f"{LABEL}: {self.path} is writable"

    def close(self) -> None:
        """Nothing to release: every send opens and closes its own file."""

    @staticmethod
    def _sync_dir(path: Path) -> None:
        """fsync the directory so the new name survives a crash (POSIX only)."""
        if os.name != "posix":
            return
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
