"""Fixtures for mailbox sync: real Postfix + Dovecot (session-scoped), the rep's SMTP+IMAP account,
and the send path's helpers (a real `lumina worker`, fast timings)."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "sending"))

from mail_servers import (
    REP_ADDRESS,
    REP_PASSWORD,
    MailServers,
    MailServersUnavailable,
    start_mail_servers,
)
from sending_support import WorkerProcess

from lumina_tui.config import Settings
from lumina_tui.services import accounts
from lumina_tui.services.actors import Actor
from lumina_tui.store import Database
from lumina_tui.store.models import Account

FAST_ENV = {
    "LUMINA_UNDO_WINDOW_SECONDS": "0",
    # Ample where a slow machine would change the outcome (see tests/sending/conftest.py): a lease
    # run out under a live, slow send is taken back and sent twice; a stale heartbeat reads offline.
    "LUMINA_WORKER__LEASE_SECONDS": "120",
    "LUMINA_WORKER__SWEEP_INTERVAL_SECONDS": "0.5",
    "LUMINA_WORKER__HEARTBEAT_INTERVAL_SECONDS": "0.2",
    "LUMINA_WORKER__HEARTBEAT_STALE_SECONDS": "60",
    "LUMINA_WORKER__POLLING_DELAY_SECONDS": "0.01",
    # Tests that want the worker's periodic sync turn it on; the rest sync by calling the service.
    "LUMINA_WORKER__MAILBOX_SYNC_INTERVAL_SECONDS": "0",
}


@pytest.fixture(scope="session")
def mail_servers() -> Iterator[MailServers]:
    """Real Postfix + Dovecot on 127.0.0.1, or a skip that says why (pytest -ra prints it)."""
    try:
        servers = start_mail_servers()
    except MailServersUnavailable as exc:
        reason = f"real Postfix/Dovecot unavailable: {exc}"
        print(f"\nSKIP mailbox tests with real servers: {reason}", file=sys.stderr)
        pytest.skip(reason)
    try:
        yield servers
    finally:
        servers.stop()


@pytest.fixture(autouse=True)
def fast_env(lumina_home: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    for name, value in FAST_ENV.items():
        monkeypatch.setenv(name, value)
    return dict(FAST_ENV)


@pytest.fixture(autouse=True)
def file_keyring() -> Iterator[None]:
    """Secrets in the 0600 fallback file of the test's LUMINA_HOME (keyring's "fail" backend), where
    a real worker process reads the IMAP password too (an in-memory keyring is this process's only)."""
    import keyring
    from keyring.backends.fail import Keyring as NoKeyring

    previous = keyring.get_keyring()
    keyring.set_keyring(NoKeyring())
    try:
        yield
    finally:
        keyring.set_keyring(previous)


@pytest.fixture(autouse=True)
def _close_queues() -> Iterator[None]:
    yield
    from lumina_tui import queue

    queue.clear_handlers()
    queue.close_all()


@pytest.fixture
def rep_account(db: Database, actor: Actor, mail_servers: MailServers) -> Account:
    """The rep's account: sends through the real Postfix, reads replies and bounces from Dovecot."""
    return accounts.add_account(
        db,
        actor,
        provider="smtp",
        email=REP_ADDRESS,
        name="Rep mailbox",
        settings={
            "host": "127.0.0.1",
            "port": mail_servers.smtp_port,
            "security": "plain",
            "timeout": 60,
            "imap": {"host": "127.0.0.1", "port": mail_servers.imap_port, "security": "plain"},
        },
        imap_secret=REP_PASSWORD,
        make_default=True,
    )


@pytest.fixture
def start_worker(settings: Settings) -> Iterator[Callable[..., WorkerProcess]]:
    started: list[WorkerProcess] = []

    def start(env: dict[str, str] | None = None, **kwargs: Any) -> WorkerProcess:
        worker = WorkerProcess(settings, env)
        started.append(worker)
        return worker.start(**kwargs)

    yield start
    for worker in started:
        worker.stop()
