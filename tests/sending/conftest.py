"""Fixtures for the send path: short worker timings, a real SMTP sink, SMTP accounts, drafts, and a
real `lumina worker` process started with the test's own LUMINA_HOME.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from memory_keyring import MemoryKeyring, memory_keyring
from sending_support import TimedSink, WorkerProcess

from lumina_tui.config import Settings
from lumina_tui.services import accounts, drafts, prospects
from lumina_tui.services.actors import Actor
from lumina_tui.store import Database
from lumina_tui.store.models import Account, EmailDraft, Prospect

# Timings every test of the send path runs with (a worker process reads them from its environment).
# Fast where speed is harmless (polling, backoff, sweeps: at worst an extra doorbell); ample where a
# slow machine would change the outcome: a lease that runs out under a live, merely slow send is
# taken back and the email sent twice, and a heartbeat older than its staleness reads as "offline"
# (a worker killed on this host is seen gone by its pid at once, whatever these are).
FAST_WORKER_ENV = {
    "LUMINA_UNDO_WINDOW_SECONDS": "0",
    "LUMINA_WORKER__LEASE_SECONDS": "120",
    "LUMINA_WORKER__SWEEP_INTERVAL_SECONDS": "0.5",
    "LUMINA_WORKER__BACKOFF_BASE_SECONDS": "0.2",
    "LUMINA_WORKER__BACKOFF_CAP_SECONDS": "2",
    "LUMINA_WORKER__HEARTBEAT_INTERVAL_SECONDS": "0.2",
    "LUMINA_WORKER__HEARTBEAT_STALE_SECONDS": "60",
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


@pytest.fixture
def child_readable_secrets() -> Iterator[None]:
    """Secrets written by this test go to the 0600 file the worker processes read (no OS keyring)."""
    import keyring
    from keyring.backends.fail import Keyring as FailKeyring

    previous = keyring.get_keyring()
    keyring.set_keyring(FailKeyring())
    try:
        yield
    finally:
        keyring.set_keyring(previous)


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
        settings={"host": sink.host, "port": sink.port, "security": "plain", "timeout": 60},
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
