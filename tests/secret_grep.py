"""Grep a whole LUMINA_HOME (and whatever a test captured) for a secret, in every form it can take.

The promise under test: a password, token or key never reaches SQLite (the database *and* its -wal /
-shm files, the queue database), a log file, a worker's output or a printed error. Only the secret
store itself may hold it: the 0600 fallback file `config/secrets.json` (and its lock) that child
processes use when there is no OS keyring.

    leaks = find_secret(PASSWORD, lumina_home, result.stdout, result.stderr)
    assert not leaks, leaks
    assert_no_secret(PASSWORD, lumina_home, *captured)   # the same, with a readable failure

Extend it rather than writing another: the OAuth tests grep for access tokens, refresh tokens and
client secrets with the same call.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import quote

#: Files that exist to hold secrets (the keyring's 0600 fallback), relative to LUMINA_HOME.
SECRET_STORE_FILES = ("config/secrets.json", "config/secrets.json.lock")


def secret_forms(secret: str) -> dict[str, bytes]:
    """How a secret can appear on disk or in output: as is, URL-quoted, JSON-escaped, base64, UTF-16."""
    forms = {
        "plain": secret.encode("utf-8"),
        "url-quoted": quote(secret, safe="").encode("ascii"),
        "json-escaped": json.dumps(secret)[1:-1].encode("ascii"),
        "base64": base64.b64encode(secret.encode("utf-8")),
        "utf-16-le": secret.encode("utf-16-le"),
    }
    return {name: form for name, form in forms.items() if len(form) >= 4}


def _files(home: Path) -> list[Path]:
    skip = {home / relative for relative in SECRET_STORE_FILES}
    return sorted(p for p in home.rglob("*") if p.is_file() and not p.is_symlink() and p not in skip)


def find_secret(secret: str, home: Path, *captured: str | bytes | None) -> list[str]:
    """Where the secret was found: 'path (form)' for files under `home`, 'captured[i] (form)' else."""
    assert secret, "an empty secret would match everywhere"
    forms = secret_forms(secret)
    found: list[str] = []
    for path in _files(home):
        try:
            data = path.read_bytes()
        except OSError:
            continue  # a file removed while we walked (a queue's journal)
        found += [f"{path.relative_to(home)} ({name})" for name, form in forms.items() if form in data]
    for index, text in enumerate(captured):
        if text is None:
            continue
        data = text.encode("utf-8", errors="surrogateescape") if isinstance(text, str) else text
        found += [f"captured[{index}] ({name})" for name, form in forms.items() if form in data]
    return found


def assert_no_secret(secret: str, home: Path, *captured: str | bytes | None) -> None:
    """Fail with the places the secret leaked to, if any."""
    leaks = find_secret(secret, home, *captured)
    assert not leaks, f"the secret leaked to: {', '.join(leaks)}"


def assert_no_secrets(secrets: Iterable[str], home: Path, *captured: str | bytes | None) -> None:
    """Every one of many secrets (an OAuth server's access and refresh tokens, a client secret)."""
    leaks = {secret[:6] + "…": find_secret(secret, home, *captured) for secret in secrets if secret}
    leaks = {secret: found for secret, found in leaks.items() if found}
    assert not leaks, f"secrets leaked: {leaks}"


def assert_grep_works(secret: str, home: Path) -> None:
    """A grep that cannot find anything proves nothing: plant the secret once and see it found."""
    canary = home / "logs" / "secret-grep-canary.txt"
    canary.parent.mkdir(parents=True, exist_ok=True)
    canary.write_text(f"planted {secret}\n", encoding="utf-8")
    try:
        assert find_secret(secret, home), "secret_grep did not find a planted secret"
    finally:
        canary.unlink()
