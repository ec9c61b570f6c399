"""A memo of the settings' last successful check, so a scripting verb can skip pydantic.

Reading and checking the settings (`config.py`: pydantic-settings over `config.toml` and the
`LUMINA_*` variables) costs about half of a `lumina prospects list --json` process, most of it
importing pydantic and pydantic-settings (issue 9 point 22: a read verb under 0.5 s as a whole
process). A script that calls the verb once per row pays that every time, for the same inputs.

The check is a function of its inputs: the `LUMINA_*` variables (pydantic-settings matches them
without regard to case), the bytes of `config.toml`, and the rules (this package's `config.py`,
Lumina's version, the pydantic packages that apply them). So after a check passed, the two values
the plain read path needs (the store's URL, when it names a SQLite file, and the busy timeout) are
kept in a 0600 file in the cache folder beside a salted SHA-256 digest of those inputs. A later
process whose inputs give the same digest takes the values without importing pydantic. Any change
(a variable set, unset or changed, the file edited, Lumina or pydantic upgraded) gives another
digest and a full check, so a wrong setting is the same `invalid_config` error as ever.

The file holds no secret: no variable's value, only the digest (salted per file, so it cannot be
looked up), and a URL only when it names a SQLite file (which has no password). Whatever goes wrong
with the file (missing, corrupt, unwritable) only means the full check, as before.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from lumina_tui import __version__
from lumina_tui.paths import PRIVATE_FILE_MODE, cache_dir, config_file, ensure_private_dir

MEMO_NAME = "settings-check.json"
_FORMAT = 1
#: The packages whose code decides what a valid setting is, besides this one's config.py.
_RULE_PACKAGES = ("pydantic", "pydantic_core", "pydantic_settings")


class StoreLocation(Protocol):
    """What the plain read path needs of the settings: `config.Settings` has both."""

    @property
    def resolved_database_url(self) -> str: ...

    @property
    def database_busy_timeout_seconds(self) -> float: ...


@dataclass(frozen=True)
class CheckedStore:
    """The store's location from settings that passed the full check with the same inputs."""

    resolved_database_url: str
    database_busy_timeout_seconds: float


def memo_path() -> Path:
    return cache_dir() / MEMO_NAME


def _stat_line(path: Path) -> str:
    try:
        stat = path.stat()
    except OSError:
        return f"{path}: missing"
    return f"{path}: {stat.st_size} {stat.st_mtime_ns}"


def _rule_files() -> list[Path]:
    """config.py and the pydantic packages' files that say their versions, found without importing
    them (importing them is the cost this module avoids)."""
    files = [Path(__file__).with_name("config.py")]
    for package in _RULE_PACKAGES:
        for folder in sys.path:
            init = Path(folder or ".") / package / "__init__.py"
            if init.is_file():
                files.append(init)
                break
        else:
            files.append(Path(package))  # not found: a stable line, so the digest stays comparable
    return files


def _inputs() -> bytes:
    """Everything the check reads, as bytes: the digest of this is the memo's key."""
    lines = [f"lumina {__version__}", f"python {sys.version}"]
    lines += [_stat_line(path) for path in _rule_files()]
    # pydantic-settings matches LUMINA_* names without regard to case (case_sensitive=False).
    variables = sorted((key, value) for key, value in os.environ.items()
                       if key.lower().startswith("lumina_"))
    lines += [f"env {key}={value}" for key, value in variables]
    source = config_file()
    try:
        lines.append(f"config {source}: {source.read_bytes().hex()}")
    except FileNotFoundError:
        lines.append(f"config {source}: none")
    except OSError as exc:  # unreadable: the full check says so; never a memo for it
        lines.append(f"config {source}: unreadable {secrets.token_hex(8)} {exc.errno}")
    return "\n".join(lines).encode("utf-8", "surrogateescape")


def _digest(salt: str, inputs: bytes) -> str:
    return hashlib.sha256(salt.encode("ascii") + inputs).hexdigest()


def recall() -> CheckedStore | None:
    """The store's location if settings with exactly these inputs passed the check before."""
    try:
        memo = json.loads(memo_path().read_bytes())
        if memo.get("format") != _FORMAT:
            return None
        salt, digest = str(memo["salt"]), str(memo["digest"])
        url, busy = memo["database_url"], memo["busy_timeout_seconds"]
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None
    if not (isinstance(url, str) and url.startswith("sqlite:///")
            and isinstance(busy, int | float) and not isinstance(busy, bool)):
        return None
    if not secrets.compare_digest(_digest(salt, _inputs()), digest):
        return None
    return CheckedStore(resolved_database_url=url, database_busy_timeout_seconds=float(busy))


def inputs_now() -> bytes:
    """The inputs as they are now: take them before the check, and pass them to `remember`."""
    return _inputs()


def remember(checked: StoreLocation, inputs_before: bytes) -> bool:
    """Keep `checked`'s location for the next process, keyed by the inputs the check read.

    Nothing is kept when the inputs changed while the check ran (a config.toml edited meanwhile:
    the check may have read either version) or when the store is not a SQLite file (another URL
    may carry a password, and has no plain read path anyway). Returns whether a memo was written.
    """
    url = checked.resolved_database_url
    if not url.startswith("sqlite:///") or _inputs() != inputs_before:
        return False
    salt = secrets.token_hex(16)
    memo = {"format": _FORMAT, "salt": salt, "digest": _digest(salt, inputs_before),
            "database_url": url,
            "busy_timeout_seconds": float(checked.database_busy_timeout_seconds)}
    path = memo_path()
    partial = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    try:
        ensure_private_dir(path.parent)
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE_MODE)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(memo, handle)
        os.replace(partial, path)  # atomic: a concurrent reader sees the old memo or this one
    except OSError:
        return False
    return True
