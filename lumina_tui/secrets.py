"""Secrets (SMTP passwords, OAuth tokens, API keys) in the OS keyring, never in SQLite or logs.

Where the machine has no usable keyring (a headless server, a container), the secret goes to a file
readable only by its owner (mode 0600) under the config dir, and a warning says so — in the log and
in `backend_info()`, which `lumina doctor` repeats. keyrings.alt's plaintext backends are refused in
the same way: a "keyring" that writes plain text must not pass for a secure store. Every secret read
is registered with `logs.register_secret`, so it is scrubbed from any log line that would contain it.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import threading
from pathlib import Path
from typing import Any

from lumina_tui.config import config_dir
from lumina_tui.logs import register_secret

log = logging.getLogger(__name__)

SERVICE = "lumina"
FALLBACK_FILENAME = "secrets.json"

# Backends that store nothing, or store plain text: never treated as the OS keyring.
_NO_STORE = {"keyring.backends.fail.Keyring", "keyring.backends.null.Keyring"}
_PLAINTEXT_MODULE_PREFIXES = ("keyrings.alt.file", "keyrings.alt.Windows", "keyrings.alt.pyfs")
_PLAINTEXT_CLASS_NAMES = {"PlaintextKeyring"}


class SecretStoreError(Exception):
    """The keyring (or the fallback file) refused to store or read a secret."""


def _class_path(backend: Any) -> str:
    cls = type(backend)
    return f"{cls.__module__}.{cls.__qualname__}"


def _is_plaintext(backend: Any) -> bool:
    cls = type(backend)
    return cls.__name__ in _PLAINTEXT_CLASS_NAMES or cls.__module__.startswith(_PLAINTEXT_MODULE_PREFIXES)


def _is_chainer(backend: Any) -> bool:
    return _class_path(backend) == "keyring.backends.chainer.ChainerBackend"


def _choose_keyring() -> tuple[Any | None, str | None]:
    """The secure keyring backend to use, or None and why not (a sentence for the warning)."""
    try:
        import keyring
        from keyring.errors import KeyringError
    except ImportError:  # pragma: no cover - keyring is a dependency
        return None, "the keyring package is not installed"
    try:
        backend = keyring.get_keyring()
    except (KeyringError, RuntimeError) as exc:
        return None, f"no keyring backend could be loaded ({exc.__class__.__name__})"
    candidates = list(getattr(backend, "backends", ())) if _is_chainer(backend) else [backend]
    refused_plaintext = [b for b in candidates if _is_plaintext(b)]
    usable = [
        b
        for b in candidates
        if _class_path(b) not in _NO_STORE and not _is_plaintext(b) and not _is_chainer(b)
    ]
    if usable:
        return usable[0], None
    if refused_plaintext:
        return None, f"the only keyring backend ({_class_path(refused_plaintext[0])}) stores plain text"
    return None, "this machine has no OS keyring backend"


class _FallbackFile:
    """A JSON map of ref -> secret in a 0600 file; every change is an atomic replace under a lock."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._thread_lock = threading.Lock()

    def _file_lock(self) -> Any:
        from filelock import FileLock

        return FileLock(str(self.path) + ".lock", timeout=30)

    def _load(self) -> dict[str, str]:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {}
        except OSError as exc:
            raise SecretStoreError(f"cannot read the secrets file {self.path}: {exc.strerror}") from None
        try:
            data = json.loads(text) if text.strip() else {}
        except json.JSONDecodeError:
            raise SecretStoreError(f"the secrets file {self.path} is not valid JSON") from None
        return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}

    def _save(self, data: dict[str, str]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".secrets-", dir=self.path.parent)
        try:
            os.chmod(tmp, 0o600)  # mkstemp already uses 0600; say so explicitly for other platforms
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(data, handle, indent=1, sort_keys=True)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        os.chmod(self.path, 0o600)

    def get(self, ref: str) -> str | None:
        return self._load().get(ref)

    def set(self, ref: str, value: str) -> None:
        with self._thread_lock, self._file_lock():
            data = self._load()
            data[ref] = value
            self._save(data)

    def delete(self, ref: str) -> bool:
        with self._thread_lock, self._file_lock():
            data = self._load()
            if ref not in data:
                return False
            del data[ref]
            self._save(data)
            return True


_warned: set[str] = set()
_warn_lock = threading.Lock()


def fallback_path() -> Path:
    return config_dir() / FALLBACK_FILENAME


def _fallback() -> _FallbackFile:
    return _FallbackFile(fallback_path())


def _warning_text(why: str) -> str:
    return (
        f"{why}: secrets are stored in {fallback_path()} (readable only by you, mode 0600) instead "
        "of an OS keyring. Install a keyring backend (e.g. gnome-keyring or KWallet with secretstorage) "
        "to keep them encrypted."
    )


def _warn_once(why: str) -> None:
    text = _warning_text(why)
    with _warn_lock:
        if text in _warned:
            return
        _warned.add(text)
    log.warning("%s", text)


def backend_info() -> dict[str, Any]:
    """Which store holds secrets: `name`, `secure`, `warning` (None when secure), `path` (file mode)."""
    backend, why = _choose_keyring()
    if backend is not None:
        return {"name": _class_path(backend), "secure": True, "warning": None, "path": None}
    assert why is not None
    return {
        "name": "file (0600)",
        "secure": False,
        "warning": _warning_text(why),
        "path": str(fallback_path()),
    }


def _check_ref(ref: str) -> str:
    if not isinstance(ref, str) or not ref.strip():
        raise ValueError("a secret reference must be a non-empty string")
    return ref


def set_secret(ref: str, value: str) -> None:
    """Store `value` under `ref` (e.g. "account:<id>") in the keyring, else in the 0600 file."""
    ref = _check_ref(ref)
    if not isinstance(value, str) or value == "":
        raise ValueError("a secret must be a non-empty string")
    register_secret(value)
    backend, why = _choose_keyring()
    if backend is None:
        assert why is not None
        _warn_once(why)
        _fallback().set(ref, value)
        return
    from keyring.errors import KeyringError

    try:
        backend.set_password(SERVICE, ref, value)
    except (KeyringError, NotImplementedError) as exc:
        raise SecretStoreError(
            f"the keyring ({_class_path(backend)}) refused to store the secret: {exc.__class__.__name__}"
        ) from None


def get_secret(ref: str) -> str | None:
    """The secret under `ref`, or None. Looks in the keyring, then the fallback file."""
    ref = _check_ref(ref)
    value: str | None = None
    backend, why = _choose_keyring()
    if backend is not None:
        from keyring.errors import KeyringError

        try:
            value = backend.get_password(SERVICE, ref)
        except (KeyringError, NotImplementedError) as exc:
            raise SecretStoreError(
                f"the keyring ({_class_path(backend)}) could not be read: {exc.__class__.__name__}"
            ) from None
    if value is None:
        # A secret written while there was no keyring stays readable after one appears.
        value = _fallback().get(ref)
        if value is not None and backend is None and why is not None:
            _warn_once(why)
    register_secret(value)
    return value


def delete_secret(ref: str) -> None:
    """Forget the secret under `ref` wherever it is; a missing secret is not an error."""
    ref = _check_ref(ref)
    backend, _why = _choose_keyring()
    if backend is not None:
        from keyring.errors import KeyringError, PasswordDeleteError

        try:
            backend.delete_password(SERVICE, ref)
        except PasswordDeleteError:
            pass
        except (KeyringError, NotImplementedError) as exc:
            raise SecretStoreError(
                f"the keyring ({_class_path(backend)}) could not delete the secret: {exc.__class__.__name__}"
            ) from None
    if fallback_path().exists():
        _fallback().delete(ref)
