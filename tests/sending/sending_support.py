"""Helpers for the send-path tests: polling with a deadline, a timed SMTP sink, a worker process,
and the chaos tests' attribution of SMTP duplicates to the kills that explain them.

(A module of its own, not conftest.py, so test files can import these names unambiguously.)
"""

from __future__ import annotations

import asyncio
import os
import signal
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from polling import wait_until
from smtp_sink import ReceivedMessage, SmtpSink, _Handler

from lumina_tui.config import Settings

#: A held DATA is released by the test; this only bounds a test that forgot to.
HOLD_LIMIT_SECONDS = 120.0

# -- SMTP ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Acceptance:
    at: float  # time.time() when the server accepted the message (its 250 reply to DATA)
    message: ReceivedMessage
    data_received_at: float  # when the whole message had arrived (the client's final ".")

    @property
    def email_id(self) -> str:
        return str(self.message.parsed().get("X-Lumina-Email-Id", ""))


class _SlowHandler(_Handler):
    """Holds DATA before accepting: for `sink.data_delay` seconds (latency), and, while
    `sink.hold_data` is set, until the test sets `sink.data_release` (a send that stays in flight
    for as long as the test needs, however slow the machine)."""

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        received_at = time.time()
        self.sink.data_started.append(received_at)  # type: ignore[attr-defined]
        if self.sink.data_delay:  # type: ignore[attr-defined]
            await asyncio.sleep(self.sink.data_delay)  # type: ignore[attr-defined]
        if self.sink.hold_data:  # type: ignore[attr-defined]
            await asyncio.to_thread(self.sink.data_release.wait, HOLD_LIMIT_SECONDS)  # type: ignore[attr-defined]
        self.sink._receiving = received_at  # type: ignore[attr-defined]
        return await super().handle_DATA(server, session, envelope)


class TimedSink(SmtpSink):
    """The shared SmtpSink, also recording when each message was accepted, with an optional DATA delay."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.acceptances: list[Acceptance] = []
        self.data_started: list[float] = []
        self.data_delay = 0.0
        self.hold_data = False
        self.data_release = threading.Event()
        self._receiving = 0.0  # set just before the base handler records (one event loop: no race)
        self._controller.handler = _SlowHandler(self)

    def _record(self, message: ReceivedMessage) -> None:
        with self._cond:
            self.acceptances.append(Acceptance(time.time(), message, self._receiving or time.time()))
        super()._record(message)

    def count_for(self, email_id: str) -> int:
        return sum(1 for acceptance in list(self.acceptances) if acceptance.email_id == email_id)


# -- the worker process ----------------------------------------------------------------------------


def lumina_command(*args: str) -> list[str]:
    script = Path(sys.executable).with_name("lumina")
    if script.exists():
        return [str(script), *args]
    return [sys.executable, "-c", "from lumina_tui.cli import main; main(prog_name='lumina')", *args]


class WorkerProcess:
    """A real `lumina worker` subprocess on the test's LUMINA_HOME (environment inherited)."""

    def __init__(self, settings: Settings, env: dict[str, str] | None = None, args: tuple[str, ...] = ()):
        self.settings = settings
        self.env = {**os.environ, **(env or {})}
        self.args = args
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = settings.log_dir / "worker-test.out"
        self.started: list[float] = []

    def start(self, *, wait_online: bool = True) -> WorkerProcess:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        output = open(self.log, "ab")  # noqa: SIM115 - handed to the child
        try:
            self.proc = subprocess.Popen(
                lumina_command("worker", *self.args),
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=output,
            )
        finally:
            output.close()
        self.started.append(time.time())
        if wait_online:
            self.wait_online()
        return self

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def wait_online(self, timeout: float = 60.0) -> None:
        from lumina_tui.services.worker_status import read_status

        def online() -> bool:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise AssertionError(f"worker exited early with {self.proc.returncode}: {self.output()}")
            status = read_status(self.settings)
            return status.online and status.pid == self.proc.pid

        wait_until(online, timeout=timeout)

    def signal(self, signum: int) -> None:
        assert self.proc is not None
        self.proc.send_signal(signum)

    def kill(self) -> None:
        self.signal(signal.SIGKILL)
        self.wait(10)

    def wait(self, timeout: float = 60.0) -> int:
        assert self.proc is not None
        return self.proc.wait(timeout)

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def output(self) -> str:
        try:
            return self.log.read_text(encoding="utf-8", errors="replace")[-4000:]
        except FileNotFoundError:
            return ""

    def stop(self) -> None:
        if self.alive():
            self.signal(signal.SIGTERM)
            try:
                self.wait(20)
            except subprocess.TimeoutExpired:
                self.kill()


# -- chaos: which duplicates a kill explains -------------------------------------------------------


@dataclass(frozen=True)
class KilledWorker:
    """One SIGKILLed worker, as the chaos tests attribute duplicates to it."""

    killed: float  # time.time() of the SIGKILL
    #: Which of the server's acceptances can have come from this worker: by time when one worker
    #: runs at once (from its start to its successor's), by its taken-back claims when several do.
    owns: Callable[[Acceptance], bool]


def kills_in_window(
    killed: Sequence[KilledWorker], acceptances: Sequence[Acceptance], sent_at: Mapping[str, float]
) -> tuple[Counter[str], int]:
    """Per email, how many kills landed in its window, and how many kills landed in any.

    A kill lands in an email's window when the server had accepted the email's message from the
    killed worker (its 250, or data already on the wire that the server accepted just after) and
    the email's final SENT commit came after the kill: the worker died between the two, so the
    row still said "not sent" and a retry sent it again (SMTP cannot be asked whether it has it).
    """
    in_window: Counter[str] = Counter()
    kills_hit = 0
    for worker in killed:
        hit = {a.email_id for a in acceptances if worker.owns(a) and sent_at[a.email_id] > worker.killed}
        kills_hit += bool(hit)
        in_window.update(hit)
    return in_window, kills_hit


def duplicates_outside_window(received: Counter[str], in_window: Counter[str]) -> dict[str, int]:
    """The emails that arrived more often than the kills in their window explain (should be empty)."""
    return {email_id: count - 1 for email_id, count in received.items() if count - 1 > in_window[email_id]}


def window_ms(
    acceptances: Sequence[Acceptance], sent_at: Mapping[str, float], received: Counter[str]
) -> tuple[list[float], list[float]]:
    """The measured window of each email that arrived once: from the message's last byte at the
    server to the SENT commit (server hold + reply + the worker's UPDATE), and its worker-side part
    alone (the server's 250 to the SENT commit), in ms."""
    full, worker = [], []
    for acceptance in acceptances:
        if received[acceptance.email_id] == 1:
            full.append(max(0.0, (sent_at[acceptance.email_id] - acceptance.data_received_at) * 1000))
            worker.append(max(0.0, (sent_at[acceptance.email_id] - acceptance.at) * 1000))
    return full, worker


def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def spread(values: Sequence[float]) -> str:
    return (
        f"p50 {statistics.median(values):.1f} ms, p99 {percentile(values, 0.99):.1f} ms, "
        f"max {max(values):.1f} ms"
    )
