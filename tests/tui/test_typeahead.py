"""Keys typed while `lumina` starts are kept as typed (issue 10 point 9: a Ctrl+S typed during
start-up once never showed the send review).

Until Textual's driver makes the terminal raw, the kernel's line discipline acts on keys as they
arrive: Ctrl+S is taken as XOFF and dropped, Enter becomes Ctrl+J, lines are buffered. `lumina`
takes that away first thing (`cli/typeahead.py`). Real terminals (ptys) and real processes here.
"""

from __future__ import annotations

import contextlib
import os
import pty
import select
import subprocess
import sys
import termios
import time

import pytest
from polling import wait_until
from pty_session import lumina_argv

from lumina_tui.cli import typeahead
from lumina_tui.services import demo, drafts, prospects
from lumina_tui.services.runtime import open_runtime

DEADLINE_SECONDS = 60.0


def read_until(fd: int, needle: bytes, seen: bytearray) -> bytes:
    """Read the pty's output into `seen` until `needle` is in it (a generous deadline)."""
    deadline = time.monotonic() + DEADLINE_SECONDS
    while needle not in seen:
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError(f"{needle!r} never came: {bytes(seen[-400:])!r}")
        ready, _, _ = select.select([fd], [], [], left)
        if ready:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                chunk = b""
            if not chunk:
                raise AssertionError(f"the process closed before {needle!r}: {bytes(seen[-400:])!r}")
            seen.extend(chunk)
    return bytes(seen)


HOLDER = """
import os, termios
from lumina_tui.cli import typeahead
held = typeahead.hold()
os.write(1, b"held=%d|" % (held is not None))
got = b""
while len(got) < 4:
    got += os.read(0, 16)
typeahead.release(held)
os.write(1, b"got=%r restored=%d|end" % (got, termios.tcgetattr(0) == held.before))
"""


def test_keys_typed_after_hold_arrive_as_typed_and_the_terminal_is_put_back() -> None:
    pid, fd = pty.fork()
    if pid == 0:  # the child: its terminal is the pty, in the default (cooked) mode
        try:
            os.execv(sys.executable, [sys.executable, "-c", HOLDER])
        finally:
            os._exit(127)
    seen = bytearray()
    try:
        read_until(fd, b"held=1|", seen)
        # Ctrl+S, a letter, Ctrl+U, Enter: cooked mode would eat the first (XOFF), erase the letter
        # with the third and turn the last into a line feed; the child would get "\n" and wait on.
        os.write(fd, b"\x13x\x15\r")
        text = read_until(fd, b"|end", seen)
        assert b"got=b'\\x13x\\x15\\r'" in text, text
        assert b"restored=1" in text
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, 9)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, 0)
        os.close(fd)


def test_nothing_is_held_when_stdin_is_not_a_terminal() -> None:
    read, write = os.pipe()
    try:
        with os.fdopen(read, closefd=False) as stream:
            assert typeahead.hold(stream) is None
        assert typeahead.driver_restoring(None) is None
        typeahead.release(None)  # nothing to put back
    finally:
        os.close(read)
        os.close(write)


def test_ctrl_s_typed_while_lumina_starts_opens_the_review_and_the_terminal_is_put_back(
    settings,  # this test's LUMINA_HOME
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    runtime = open_runtime(settings)
    demo.seed(runtime.db, runtime.actor)
    ana = prospects.get(runtime.db, runtime.actor, "ana.okafor@brightwave.example")
    draft = drafts.create(
        runtime.db, runtime.actor, prospect_id=ana.id, subject="Hello", body="Hi Ana,\n\nA call?"
    )
    master, slave = os.openpty()
    before = termios.tcgetattr(slave)
    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "100", "LINES": "30"}
    # A session of its own with the pty as its controlling (and foreground) terminal, as a shell
    # starts it; the test keeps the slave end to watch the terminal's modes.
    shim = (
        "import fcntl, os, sys, termios; os.setsid(); fcntl.ioctl(0, termios.TIOCSCTTY, 0); "
        "os.execvp(sys.argv[1], sys.argv[1:])"
    )
    child = subprocess.Popen(
        [sys.executable, "-c", shim, *lumina_argv("--no-worker", "--draft", draft.id)],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env=env,
        close_fds=True,
    )
    seen = bytearray()
    try:
        # As soon as `lumina` holds the keys (XON/XOFF off), type Ctrl+S: usually long before
        # Textual's driver runs and the first frame is drawn.
        wait_until(lambda: not termios.tcgetattr(slave)[0] & termios.IXON, timeout=DEADLINE_SECONDS)
        os.write(master, b"\x13")
        read_until(master, b"Send this email?", seen)  # the review, for the draft on screen
        os.write(master, b"\x1b")  # Esc: back to the draft, nothing sent
        os.write(master, b"\x11")  # Ctrl+Q: save and quit
        deadline = time.monotonic() + DEADLINE_SECONDS
        while child.poll() is None and time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.5)
            if ready:
                with contextlib.suppress(OSError):
                    seen.extend(os.read(master, 65536))
        assert child.poll() == 0, bytes(seen[-400:])
        assert termios.tcgetattr(slave) == before  # the terminal as the shell left it
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        os.close(master)
        os.close(slave)
