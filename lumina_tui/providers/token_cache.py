"""An encrypted token cache file: the MSAL cache in the data folder, its key in the OS keyring.

An MSAL token cache (refresh token, access tokens, id token, account records) easily exceeds the
2,560 bytes Windows Credential Manager holds per secret, so the keyring keeps only a Fernet key
(`cryptography`), and the cache itself is Fernet-encrypted (AES-128-CBC + HMAC-SHA256) in a 0600
file. Writes are atomic (temporary file + rename) under a file lock, because the worker's threads,
a second worker and the CLI may refresh the same account's tokens at once; the last write wins,
which is safe because Microsoft keeps an older refresh token valid after issuing a new one.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from lumina_tui.providers.base import SignInRequired


def new_key() -> str:
    from cryptography.fernet import Fernet

    return Fernet.generate_key().decode("ascii")


class EncryptedTokenCache:
    def __init__(self, path: Path, key: str) -> None:
        from cryptography.fernet import Fernet

        self.path = path
        try:
            self._fernet = Fernet(key.encode("ascii"))
        except (ValueError, UnicodeEncodeError):
            raise SignInRequired("the key of the saved Microsoft sign-in is unreadable") from None

    def _lock(self):
        from filelock import FileLock

        return FileLock(str(self.path) + ".lock", timeout=30)

    def load(self) -> str | None:
        from cryptography.fernet import InvalidToken

        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return None
        try:
            return self._fernet.decrypt(data).decode("utf-8")
        except InvalidToken:
            raise SignInRequired(
                f"the saved Microsoft sign-in ({self.path.name}) cannot be decrypted with the keyring's key"
            ) from None

    def save(self, text: str) -> None:
        token = self._fernet.encrypt(text.encode("utf-8"))
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._lock():
            fd, tmp = tempfile.mkstemp(prefix=".tokens-", dir=self.path.parent)
            try:
                os.chmod(tmp, 0o600)
                with os.fdopen(fd, "wb") as handle:
                    handle.write(token)
                    handle.flush()
                    os.fsync(handle.fileno())
                os.replace(tmp, self.path)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise

    def delete(self) -> None:
        self.path.unlink(missing_ok=True)
        Path(str(self.path) + ".lock").unlink(missing_ok=True)
