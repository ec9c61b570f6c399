"""Keys typed while `lumina` starts reach the composer: Ctrl+S, Enter and Ctrl+U included.

Until Textual's driver puts the terminal in raw mode (after importing Textual and the composer and
reading their CSS: most of a cold start), the terminal is still in the shell's "cooked" mode, where
the kernel's line discipline acts on each key as it arrives: Ctrl+S (XOFF) stops the output and is
dropped, Ctrl+Q is dropped, Enter becomes Ctrl+J, Ctrl+U and Ctrl+W erase what was typed before
them, Ctrl+C, Ctrl+Z and Ctrl+\\ send signals, and every key is echoed onto the shell's screen.
A rep who types Ctrl+S while `lumina` starts never saw the send review (issue 10 point 9).

So the first thing `lumina` does (`cli/tui_entry.py`) is the input half of Textual's raw mode: the
same flags its driver clears, and nothing else. Keys typed from then on wait in the terminal, as
typed, until the app reads them (the app holds them until the store is open: `tui/app.py`). The
terminal is put back as it was when the app has closed; `driver_restoring` makes Textual restore
that same state whenever it leaves application mode (`app.suspend()` for $EDITOR), not the
half-raw one it found.

Keys typed before `lumina` gets this far (Python's start and the CLI's imports, ~50-100 ms) are
still the line discipline's: no program can take them back.
"""

from __future__ import annotations

import contextlib
import os
import sys
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    from textual.driver import Driver


@dataclass(frozen=True)
class HeldTerminal:
    """A terminal whose typed keys are being held for the app, and how it was before."""

    fd: int
    before: list[Any]


def hold(stream: IO[str] | None = None) -> HeldTerminal | None:
    """Stop the line discipline acting on typed keys (no echo, no line editing, no XON/XOFF, no CR
    to LF, no signal keys), keeping the keys already typed. None when `stream` is not the
    foreground terminal (a pipe, a test, `lumina &`): nothing is changed then."""
    try:
        import termios
    except ImportError:  # Windows: the console has no line discipline to outrun
        return None
    stream = sys.stdin if stream is None else stream
    try:
        fd = stream.fileno()
        if not os.isatty(fd) or os.tcgetpgrp(fd) != os.getpgrp():
            return None  # a background process changing the terminal would be stopped (SIGTTOU)
        before = termios.tcgetattr(fd)
        raw = termios.tcgetattr(fd)
        # Textual's own flags (drivers/linux_driver.py: _patch_lflag, _patch_iflag).
        signal_keys = 0 if os.environ.get("TEXTUAL_ALLOW_SIGNALS") else termios.ISIG
        raw[3] &= ~(termios.ECHO | termios.ICANON | termios.IEXTEN | signal_keys)
        raw[0] &= ~(termios.IXON | termios.IXOFF | termios.ICRNL | termios.INLCR | termios.IGNCR)
        raw[6][termios.VMIN] = 1
        raw[6][termios.VTIME] = 0
        # TCSANOW, not TCSAFLUSH: flushing would drop exactly the keys this is here to keep.
        termios.tcsetattr(fd, termios.TCSANOW, raw)
    except (AttributeError, ValueError, OSError, termios.error):
        return None
    return HeldTerminal(fd, before)


def release(held: HeldTerminal | None) -> None:
    """Put the terminal back as `hold` found it (after the app has closed)."""
    if held is None:
        return
    import termios

    with contextlib.suppress(OSError, termios.error):
        termios.tcsetattr(held.fd, termios.TCSANOW, held.before)


def driver_restoring(held: HeldTerminal | None) -> type[Driver] | None:
    """Textual's terminal driver, except that leaving application mode restores the terminal as
    it was before `hold` (Textual records the state it finds, which is `hold`'s). None: Textual's
    own choice (nothing was held)."""
    if held is None:
        return None
    from textual.drivers.linux_driver import LinuxDriver

    before = held.before

    class RestoringDriver(LinuxDriver):
        def start_application_mode(self) -> None:
            super().start_application_mode()
            if self.attrs_before is not None:  # None: Textual could not read the terminal's modes
                self.attrs_before = before

    return RestoringDriver
