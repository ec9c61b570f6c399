"""Composing the body in $VISUAL/$EDITOR: the file it gets, running it, and reading back what it left.

No Textual here: `DraftSession.edit_in_editor` suspends the app around `run_editor`. The editor's
file is deleted only once its text is in the draft: when the editor fails or writes something that
is not UTF-8, the file stays and the rep is told where.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import signal
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


def editor_command() -> str:
    return os.environ.get("VISUAL") or os.environ.get("EDITOR") or "vi"


def write_body(body: str) -> str:
    """The body in a new temporary file (its path). Text files end with a newline (POSIX; editors
    warn or add one); `read_back` takes it off again."""
    with tempfile.NamedTemporaryFile(
        "w", prefix="lumina-draft-", suffix=".txt", delete=False, encoding="utf-8", newline=""
    ) as handle:
        handle.write(body if body.endswith("\n") else body + "\n")
        return handle.name


def command_for(editor: str, path: str) -> list[str]:
    return [*shlex.split(editor), path]


def run_editor(command: list[str], on_hang_up: Callable[[], None], **options: Any) -> int:
    """Run the editor and wait. The event loop is blocked meanwhile, so the app's own SIGTERM/
    SIGHUP handling cannot run: if the terminal goes away now, this handler calls `on_hang_up`
    (which saves the draft), stops the editor and exits at once (the terminal is gone; there is
    nothing to restore). It is in place before the editor starts, so no signal can slip in between."""
    editor: subprocess.Popen[bytes] | None = None

    def hang_up(number: int, _frame: object) -> None:
        if editor is not None:
            with contextlib.suppress(OSError):
                editor.terminate()
        on_hang_up()
        os._exit(128 + number)

    previous = {number: signal.signal(number, hang_up) for number in (signal.SIGHUP, signal.SIGTERM)}
    try:
        editor = subprocess.Popen(command, **options)
        return editor.wait()
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


@dataclass(frozen=True)
class EditorResult:
    """The new body (None: the draft stays as it was, and `message` says why at `severity`)."""

    text: str | None
    message: str = ""
    severity: str = "information"
    title: str = ""
    timeout: float | None = None


def read_back(editor: str, path: str, code: int, body: str) -> EditorResult:
    """What the editor left in `path`, as the new body; the file is removed once that is certain."""
    if code != 0:
        return EditorResult(
            None,
            f"{editor} exited with {code}; the draft is unchanged. What the editor left is kept in {path}",
            "warning",
            timeout=20,
        )
    try:
        with open(path, "rb") as handle:
            raw = handle.read()
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(path)
        return EditorResult(None, f"Could not run {editor}: {exc}; the draft is unchanged.", "error")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return EditorResult(
            None,
            f"{editor} saved text that is not UTF-8 (byte {raw[exc.start]:#04x} at offset {exc.start}); "
            f"the draft is unchanged. Your text is kept in {path}",
            "error",
            title="Not applied",
            timeout=30,
        )
    with contextlib.suppress(OSError):
        os.unlink(path)
    text = text.replace("\r\n", "\n")
    if text.endswith("\n") and not body.endswith("\n"):
        text = text[:-1]  # the final newline the file got (or the editor added), not the rep's
    return EditorResult(text)
