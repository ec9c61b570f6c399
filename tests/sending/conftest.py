"""Fixtures for the send path: short worker timings, a real SMTP sink, SMTP accounts, drafts, and a
real `lumina worker` process started with the test's own LUMINA_HOME.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from memory_keyring import MemoryKeyring, memory_keyring
from smtp_sink import ReceivedMessage, SmtpSink, _Handler

from lumina_tui.config import Settings
from lumina_tui.services import accounts, drafts, prospects
from lumina_tui.services.context import Actor
from lumina_tui.store import Database
from lumina_tui.store.models import Account, EmailDraft, Prospect

# Timings every test of the send path runs with (a worker process reads them from its environment).
FAST_WORKER_ENV = {
    "LUMINA_UNDO_WINDOW_SECONDS": "0",
    "LUMINA_WORKER__LEASE_SECONDS": "5",
    "LUMINA_WORKER__SWEEP_INTERVAL_SECONDS": "0.5",
    "LUMINA_WORKER__BACKOFF_BASE_SECONDS": "0.2",
    "LUMINA_WORKER__BACKOFF_CAP_SECONDS": "2",
    "LUMINA_WORKER__HEARTBEAT_INTERVAL_SECONDS": "0.2",
    "LUMINA_WORKER__HEARTBEAT_STALE_SECONDS": "3",
    "LUMINA_WORKER__POLLING_DELAY_SECONDS": "0.01",
    "LUMINA_WORKER__THREADS": "2",
}


@pytest.fixture(autouse=True)
def fast_worker_env(lumina_home: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    for name, value in FAST_WORKER_ENV.items():
        monkeypatch.setenv(name, value)
    return dict(FAST_WORKER_ENV)


@pytest.fixture(autouse=True)
def ring() -> Iterator[MemoryKeyring]:
    with memory_keyring() as ring:
        yield ring


@pytest.fixture(autouse=True)
def _close_queues() -> Iterator[None]:
    yield
    from lumina_tui import queue

    queue.clear_handlers()
    queue.close_all()


def wait_until(predicate: Callable[[], Any], timeout: float = 15.0, interval: float = 0.02) -> Any:
    """Poll a condition until it holds (returns its value) or fail the test at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"condition not met within {timeout} s: {predicate}")
        time.sleep(interval)


# -- SMTP ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Acceptance:
    at: float  # time.time() when the server accepted the message (end of DATA)
    message: ReceivedMessage

    @property
    def email_id(self) -> str:
        return str(self.message.parsed().get("X-Lumina-Email-Id", ""))


class _SlowHandler(_Handler):
    """Holds DATA for `sink.data_delay` seconds before accepting: a send that is visibly in flight."""

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.sink.data_started.append(time.time())  # type: ignore[attr-defined]
        if self.sink.data_delay:  # type: ignore[attr-defined]
            await asyncio.sleep(self.sink.data_delay)  # type: ignore[attr-defined]
        return await super().handle_DATA(server, session, envelope)


class TimedSink(SmtpSink):
    """The shared SmtpSink, also recording when each message was accepted, with an optional DATA delay."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.acceptances: list[Acceptance] = []
        self.data_started: list[float] = []
        self.data_delay = 0.0
        self._controller.handler = _SlowHandler(self)

    def _record(self, message: ReceivedMessage) -> None:
        with self._cond:
            self.acceptances.append(Acceptance(time.time(), message))
        super()._record(message)

    def count_for(self, email_id: str) -> int:
        return sum(1 for acceptance in list(self.acceptances) if acceptance.email_id == email_id)


@pytest.fixture
def sink() -> Iterator[TimedSink]:
    with TimedSink() as server:
        yield server


@pytest.fixture
def smtp_account(db: Database, actor: Actor, sink: TimedSink) -> Account:
    return accounts.add_account(
        db,
        actor,
        provider="smtp",
        email="sam@acme.test",
        name="Acme SMTP",
        display_name="Sam Müller",
        settings={"host": sink.host, "port": sink.port, "security": "plain", "timeout": 10},
        make_default=True,
    )


@pytest.fixture
def maildir_account(db: Database, actor: Actor) -> Account:
    return accounts.add_account(
        db, actor, provider="maildir", email="sam@acme.test", name="Outbox", make_default=True
    )


@pytest.fixture
def prospect(db: Database, actor: Actor) -> Prospect:
    return prospects.create(
        db,
        actor,
        email="ana.okafor@brightwave.example",
        first_name="Ána",
        last_name="Okafor",
        company="Brightwave Logistics",
        job_title="VP Operations",
    )


@pytest.fixture
def make_draft(db: Database, actor: Actor, prospect: Prospect) -> Callable[..., EmailDraft]:
    def make(
        subject: str = "Grüße aus Rotterdam — a quick question",
        body: str = "Hi Ána,\n\nWould a 15-minute call next Tuesday be useful?\n\nBest,\nSam",
        prospect_id: str | None = "default",
        **extra: Any,
    ) -> EmailDraft:
        return drafts.create(
            db,
            actor,
            prospect_id=prospect.id if prospect_id == "default" else prospect_id,
            subject=subject,
            body=body,
            **extra,
        )

    return make


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

    def wait_online(self, timeout: float = 20.0) -> None:
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

    def wait(self, timeout: float = 20.0) -> int:
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


@pytest.fixture
def start_worker(settings: Settings) -> Iterator[Callable[..., WorkerProcess]]:
    started: list[WorkerProcess] = []

    def start(env: dict[str, str] | None = None, args: tuple[str, ...] = (), wait_online: bool = True):
        worker = WorkerProcess(settings, env, args)
        started.append(worker)
        return worker.start(wait_online=wait_online)

    yield start
    for worker in started:
        worker.stop()
