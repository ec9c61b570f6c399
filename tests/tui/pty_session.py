"""A real terminal for a real `lumina` process: a pty, a reader thread, keystrokes in, signals out.

Pilot drives the app inside the test process; these tests need the app as a rep runs it (its own
process, its own terminal), because they kill it.
"""

from __future__ import annotations

import fcntl
import os
import pty
import signal
import struct
import sys
import termios
import threading
import time
from pathlib import Path


def lumina_argv(*args: str) -> list[str]:
    script = Path(sys.executable).with_name("lumina")
    if script.exists():
        return [str(script), *args]
    return [sys.executable, "-c", "from lumina_tui.cli import main; main(prog_name='lumina')", *args]


class PtySession:
    def __init__(self, argv: list[str], env: dict[str, str], *, cols: int = 100, rows: int = 30) -> None:
        env = {**env, "TERM": "xterm-256color", "COLUMNS": str(cols), "LINES": str(rows)}
        pid, fd = pty.fork()
        if pid == 0:  # the child: size its terminal, then become lumina
            try:
                fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
                os.execvpe(argv[0], argv, env)
            finally:
                os._exit(127)
        self.pid = pid
        self.fd = fd
        self._output = bytearray()
        self._lock = threading.Lock()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self.status: int | None = None

    def _read(self) -> None:
        while True:
            try:
                chunk = os.read(self.fd, 65536)
            except OSError:
                return
            if not chunk:
                return
            with self._lock:
                self._output.extend(chunk)

    @property
    def output(self) -> bytes:
        with self._lock:
            return bytes(self._output)

    def wait_for_output(self, needle: bytes, timeout: float = 60.0, *, since: int = 0) -> None:
        """Wait until `needle` has been written (after byte `since` of the output, when given)."""
        deadline = time.monotonic() + timeout
        while needle not in self.output[since:]:
            if time.monotonic() > deadline:
                tail = self.output[-2000:]
                raise AssertionError(f"{needle!r} not seen within {timeout} s; last output: {tail!r}")
            if self.exited():
                raise AssertionError(
                    f"lumina exited ({self.status}) before {needle!r}: {self.output[-2000:]!r}"
                )
            time.sleep(0.02)

    def write(self, data: bytes) -> None:
        os.write(self.fd, data)

    def exited(self) -> bool:
        if self.status is not None:
            return True
        pid, status = os.waitpid(self.pid, os.WNOHANG)
        if pid == 0:
            return False
        self.status = status
        return True

    def send_signal(self, number: int) -> None:
        os.kill(self.pid, number)

    def wait(self, timeout: float = 60.0) -> int:
        deadline = time.monotonic() + timeout
        while not self.exited():
            if time.monotonic() > deadline:
                raise AssertionError(f"lumina did not exit within {timeout} s")
            time.sleep(0.02)
        assert self.status is not None
        return self.status

    def close(self) -> None:
        if not self.exited():
            self.send_signal(signal.SIGKILL)
            self.wait()
        os.close(self.fd)
