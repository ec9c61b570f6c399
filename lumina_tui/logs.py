"""The one secret scrubber, and logging to a file under the log dir with it applied to every record.

Secrets must never reach SQLite, a log file, a printed error or a snapshot. Every path that keeps or
shows text it did not write itself (a provider's error reply, an AI server's error, an exception's
message) runs it through `scrub` first. `scrub` hides:

* every value registered with `register_secret` (passwords, OAuth access/refresh tokens, client
  secrets, API keys: anything read from the keyring or typed by the rep), together with the forms it
  takes on the wire (percent-encoded, JSON-escaped, base64, as an SMTP AUTH server could echo it);
* URL userinfo (`http://user:pw@host` -> `http://***@host`), registered or not;
* anything that looks like a bearer token, an `sk-...` key or `password=...`.

Register a secret as soon as the process holds it (`secrets.get_secret`/`set_secret` do it for every
keyring read and write); `scrub_data` cleans a JSON-like structure (event data) the same way.
"""

from __future__ import annotations

import base64
import contextlib
import json
import logging
import re
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlsplit

MASK = "***"
#: Shorter values are not registered: hiding every "abc" in every message would garble text.
MIN_SECRET_CHARS = 4

_SECRETS: set[str] = set()
_ORDERED: tuple[str, ...] = ()  # longest first, so a secret containing another is hidden whole
_LOCK = threading.Lock()
# Userinfo is everything between "scheme://" and the last "@" before the host (RFC 3986 forbids
# "/", "?" and "#" in it; quotes and brackets end a URL in running text).
_URL_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.\-]*://)[^\s/?#\"'<>\[\]]+@")
_BASIC = re.compile(r"(?i)\b(basic\s+)([A-Za-z0-9+/]{4,}={0,2})")
_PATTERNS = [
    re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._\-~+/]+=*"),
    re.compile(r"\bsk-[A-Za-z0-9_\-]{8,}"),
    re.compile(r"(?i)((?:password|passwd|api[_-]?key|token|secret)\s*[=:]\s*)\S+"),
]


def _forms(value: str) -> set[str]:
    """The secret and how it may appear in text: URL-quoted, JSON-escaped, base64 (SMTP AUTH LOGIN)."""
    forms = {
        value,
        quote(value, safe=""),
        json.dumps(value, ensure_ascii=False)[1:-1],
        json.dumps(value)[1:-1],
    }
    with contextlib.suppress(UnicodeEncodeError):  # a lone surrogate has no wire form to hide
        forms.add(base64.b64encode(value.encode("utf-8")).decode("ascii"))
    return {form for form in forms if len(form) >= MIN_SECRET_CHARS}


def register_secret(value: str | None) -> None:
    """Remember a secret so that `scrub` hides it from every stored, logged or printed text.

    Call it for anything secret the process holds: an SMTP password, an OAuth access token, a refresh
    token, a client secret, an API key. Values shorter than `MIN_SECRET_CHARS` are ignored.
    """
    if not isinstance(value, str) or len(value) < MIN_SECRET_CHARS:
        return
    global _ORDERED
    with _LOCK:
        new = _forms(value) - _SECRETS
        if new:
            _SECRETS.update(new)
            _ORDERED = tuple(sorted(_SECRETS, key=len, reverse=True))


def register_secrets(values: Iterable[str | None]) -> None:
    """`register_secret` for each value (e.g. an OAuth token response's access and refresh tokens)."""
    for value in values:
        register_secret(value)


def register_url_credentials(url: str | None) -> None:
    """Register the password (or a lone token-like user name) in a URL such as LUMINA_AI_BASE_URL."""
    if not url or "@" not in url:
        return
    try:
        parts = urlsplit(url)
        password, username = parts.password, parts.username
    except ValueError:
        return
    if password:
        register_secrets([password, unquote(password)])
        # ... and as HTTP Basic auth sends them, should a server quote its Authorization header.
        for user, secret in ((username or "", password), (unquote(username or ""), unquote(password))):
            register_secret(base64.b64encode(f"{user}:{secret}".encode()).decode("ascii"))
    elif username and len(username) >= 8:
        register_secret(username)
        register_secret(unquote(username))


def scrub(text: Any) -> str:
    """`text` with every registered secret, URL userinfo and token-like value replaced by ***.

    The one scrubber: provider errors, AI errors, CLI errors, stored events and log lines all pass
    through it. Not a secret store: it only makes sure what it is shown cannot leak what it knows.
    """
    if not isinstance(text, str):
        text = str(text)
    for secret in _ORDERED:
        if secret in text:
            text = text.replace(secret, MASK)
    text = _URL_USERINFO.sub(lambda m: m.group(1) + MASK + "@", text)
    text = _BASIC.sub(_basic_credentials, text)
    for pattern in _PATTERNS:
        text = pattern.sub(lambda m: (m.group(1) if m.groups() else "") + MASK, text)
    return text


def _basic_credentials(match: re.Match[str]) -> str:
    """HTTP Basic credentials (base64 of "user:password") are hidden; the words "basic setup" are not."""
    try:
        decoded = base64.b64decode(match.group(2), validate=True).decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        return match.group(0)
    return match.group(1) + MASK if ":" in decoded else match.group(0)


def scrub_url(url: str | None) -> str | None:
    """A URL fit to show: its userinfo (and any registered secret in it) replaced by ***."""
    return None if url is None else scrub(url)


def scrub_data(value: Any) -> Any:
    """A JSON-like structure (dicts, lists, strings) with every string scrubbed; other leaves as they are."""
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, dict):
        return {key: scrub_data(inner) for key, inner in value.items()}
    if isinstance(value, list | tuple):
        return [scrub_data(inner) for inner in value]
    return value


class SecretScrubber(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = scrub(message)
        if cleaned != message or record.args:
            record.msg, record.args = cleaned, None
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = scrub(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        return True


_configured: Path | None = None


def setup_logging(log_dir: Path, level: int = logging.INFO, filename: str = "lumina.log") -> Path:
    """Send the `lumina_tui` loggers to a rotating file under `log_dir` (idempotent per process)."""
    global _configured
    path = log_dir / filename
    if _configured == path:
        return path
    from logging.handlers import RotatingFileHandler  # only a process that logs to a file pays for it

    log_dir.mkdir(parents=True, exist_ok=True)
    handler = RotatingFileHandler(path, maxBytes=5_000_000, backupCount=3, encoding="utf-8")
    handler.setFormatter(
        logging.Formatter("%(asctime)s %(process)d %(threadName)s %(levelname)s %(name)s: %(message)s")
    )
    handler.addFilter(SecretScrubber())
    root = logging.getLogger("lumina_tui")
    for old in list(root.handlers):
        if getattr(old, "_lumina", False):
            root.removeHandler(old)
            old.close()
    handler._lumina = True  # type: ignore[attr-defined]  # marks our handler, so a re-setup replaces it
    root.addHandler(handler)
    root.setLevel(level)
    _configured = path
    return path
