"""Logging to a file under the log dir, with secrets scrubbed from every record.

Secrets must never reach a log file: `SecretScrubber` replaces any value registered with
`register_secret` (API keys, passwords, tokens read at run time) and anything that looks like a
bearer token or an `sk-...` key, in the message and its arguments alike.
"""

from __future__ import annotations

import logging
import re
import threading
from logging.handlers import RotatingFileHandler
from pathlib import Path

_SECRETS: set[str] = set()
_LOCK = threading.Lock()
_PATTERNS = [
    re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._\-~+/]+=*"),
    re.compile(r"\bsk-[A-Za-z0-9_\-]{8,}"),
    re.compile(r"(?i)((?:password|passwd|api[_-]?key|token|secret)\s*[=:]\s*)\S+"),
]


def register_secret(value: str | None) -> None:
    """Remember a secret so that any log line containing it is scrubbed."""
    if value and len(value) >= 4:
        with _LOCK:
            _SECRETS.add(value)


def scrub(text: str) -> str:
    for secret in list(_SECRETS):
        if secret in text:
            text = text.replace(secret, "***")
    for pattern in _PATTERNS:
        text = pattern.sub(lambda m: (m.group(1) if m.groups() else "") + "***", text)
    return text


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
    handler._lumina = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level)
    _configured = path
    return path
