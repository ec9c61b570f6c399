"""kill -9 while typing loses only the last moments (a suffix); SIGTERM loses nothing.

A real `lumina --no-worker` in a real pty on a demo workspace; keystrokes are written to the
terminal one every 15 ms, each with its time; then the process is killed and the store is read.
What is missing is a suffix of what was typed: its first character's age at the kill is the loss.
That age is printed (about the save interval on a quiet machine), not asserted: on a loaded CI box
a key can wait in the pty longer than that before the app even reads it. What is asserted does not
depend on timing: saves land *while* typing goes on (a throttle, not a debounce), and what is
stored is exactly a prefix of what was typed.
"""

from __future__ import annotations

import os
import random
import signal
import string
import time
from pathlib import Path

import pytest
from polling import wait_until
from pty_session import PtySession, lumina_argv

from lumina_tui.services import demo, drafts
from lumina_tui.services.runtime import open_runtime

pytestmark = pytest.mark.chaos  # make chaos (they also run in make test)

TYPE_SECONDS = 3.0
KEY_INTERVAL = 0.015
LIMIT_SECONDS = 0.5  # the save interval: what a quiet machine shows (printed, see the docstring)
DEADLINE_SECONDS = 60.0


def _only_explicit_saves(monkeypatch: pytest.MonkeyPatch) -> None:
    """No timer, score or personalize saves: only the signal handler can (see compose_support)."""
    monkeypatch.setenv("LUMINA_COMPOSER__SAVE_INTERVAL_MS", "600000")
    monkeypatch.setenv("LUMINA_COMPOSER__SCORE_PAUSE_MS", "600000")
    monkeypatch.setenv("LUMINA_COMPOSER__AUTO_PERSONALIZE_PAUSE_MS", "600000")


def _prepare() -> object:
    runtime = open_runtime()
    demo.seed(runtime.db, runtime.actor)
    return runtime


def _saved_body(runtime) -> str:  # type: ignore[no-untyped-def]
    draft = drafts.latest_unsent(runtime.db, runtime.actor)
    return draft.body_text if draft is not None else ""


def _start(runtime) -> PtySession:  # type: ignore[no-untyped-def]
    session = PtySession(lumina_argv("--no-worker"), dict(os.environ))
    session.wait_for_output(b"Lumina")
    # The app is ready when a first key reaches the store.
    session.write(b"S")
    wait_until(lambda: _saved_body(runtime) == "S", timeout=DEADLINE_SECONDS)
    return session


def _type(session: PtySession, runtime, seconds: float) -> tuple[str, list[float], set[str]]:  # type: ignore[no-untyped-def]
    """Type for at least `seconds`, and on until two saves have landed while typing went on."""
    letters = string.ascii_lowercase
    typed: list[str] = []
    times: list[float] = []
    seen: set[str] = set()
    end = time.monotonic() + seconds
    deadline = time.monotonic() + DEADLINE_SECONDS
    while time.monotonic() < end or len(seen) < 2:
        assert time.monotonic() < deadline, f"no saves while typing: {seen}"
        char = letters[len(typed) % len(letters)]
        session.write(char.encode())
        times.append(time.monotonic())
        typed.append(char)
        time.sleep(KEY_INTERVAL)  # a typist's pace, not synchronisation
        if len(typed) % 10 == 0:
            body = _saved_body(runtime).removeprefix("S")
            if body and body != "".join(typed):
                seen.add(body)
    return "".join(typed), times, seen


def test_kill_nine_loses_only_the_last_keys() -> None:
    runtime = _prepare()
    session = _start(runtime)
    try:
        # A random length, so the kill lands anywhere in the save cycle (the worst case included).
        seconds = TYPE_SECONDS + random.uniform(0, 0.5)
        typed, times, seen = _type(session, runtime, seconds)
        session.send_signal(signal.SIGKILL)
        killed_at = time.monotonic()
        session.wait()
    finally:
        session.close()
    assert all(typed.startswith(body) for body in seen), "every save was a prefix of the typing"
    saved = _saved_body(runtime).removeprefix("S")
    assert typed.startswith(saved), "what was saved is exactly what was typed, in order"
    missing = len(typed) - len(saved)
    lost_seconds = killed_at - times[len(saved)] if missing else 0.0
    print(
        f"\nkill -9 after {len(typed)} keys in {seconds:.2f} s: {missing} keys missing, "
        f"the oldest typed {lost_seconds * 1000:.0f} ms before the kill "
        f"(the save interval is {LIMIT_SECONDS * 1000:.0f} ms; {len(seen)} saves seen while typing)"
    )
    assert len(saved) >= max(len(body) for body in seen)  # nothing stored was lost by the kill


def test_sigterm_saves_everything_typed(monkeypatch: pytest.MonkeyPatch) -> None:
    _only_explicit_saves(monkeypatch)  # only the signal handler can save
    runtime = _prepare()
    session = PtySession(lumina_argv("--no-worker"), dict(os.environ))
    try:
        session.wait_for_output(b"Tone")
        session.write(b"the rest of my email")
        session.wait_for_output(b"the rest of my email")  # on screen: the app has every key
        assert _saved_body(runtime) == ""
        session.send_signal(signal.SIGTERM)
        status = session.wait()
    finally:
        session.close()
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 128 + signal.SIGTERM
    assert _saved_body(runtime) == "the rest of my email"


def test_sighup_while_the_editor_runs_saves_and_exits(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """During "Compose in $EDITOR" the event loop waits for the editor; a hangup must still save."""
    started = tmp_path / "editor-started"
    editor = tmp_path / "slow-editor"
    editor.write_text(f'#!/bin/sh\necho $$ > "{started}"\nexec sleep 60\n')
    editor.chmod(0o755)
    monkeypatch.setenv("EDITOR", str(editor))
    monkeypatch.delenv("VISUAL", raising=False)
    _only_explicit_saves(monkeypatch)
    runtime = _prepare()
    session = PtySession(lumina_argv("--no-worker"), dict(os.environ))
    try:
        session.wait_for_output(b"Tone")
        session.write(b"words nobody saved yet")
        session.wait_for_output(b"words nobody saved yet")
        session.write(b"\x10")  # ctrl+p: the command palette
        session.wait_for_output(b"for commands")
        mark = len(session.output)
        session.write(b"EDITOR")
        session.wait_for_output(b"Compose in", since=mark)  # the palette found the command
        session.write(b"\r")
        wait_until(started.exists, timeout=DEADLINE_SECONDS)
        editor_pid = int(started.read_text().strip())
        session.send_signal(signal.SIGHUP)
        status = session.wait(timeout=DEADLINE_SECONDS)
    finally:
        session.close()
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 128 + signal.SIGHUP
    assert _saved_body(runtime) == "words nobody saved yet"
    deadline = time.monotonic() + DEADLINE_SECONDS
    while True:  # the editor was stopped too
        try:
            os.kill(editor_pid, 0)
        except ProcessLookupError:
            break
        if time.monotonic() > deadline:
            os.kill(editor_pid, signal.SIGKILL)
            raise AssertionError("the editor outlived the composer")
        time.sleep(0.02)
