"""huey's PostgreSQL storage as the shared queue (`LUMINA_QUEUE_URL=postgresql://...`, issue 13's
"or PostgreSQL"): a team without Redis rings its doorbells through the same PostgreSQL server as
its store. A real `lumina worker` process takes the doorbells from there and sends every email once.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

import pytest
from huey import PostgresHuey
from polling import wait_until
from sending_support import TimedSink, WorkerProcess
from sqlalchemy import select, text

from lumina_tui import queue
from lumina_tui.config import load_settings
from lumina_tui.services import sending
from lumina_tui.services.actors import Actor
from lumina_tui.services.email_state import EmailStatus
from lumina_tui.store import Database
from lumina_tui.store.models import Account, Email, EmailDraft

pytestmark = [pytest.mark.postgresql_only]

EMAILS = 5


def test_a_worker_sends_through_the_postgresql_queue(
    db: Database,
    actor: Actor,
    sink: TimedSink,
    smtp_account: Account,
    make_draft: Callable[..., EmailDraft],
    start_worker: Callable[..., WorkerProcess],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The store's own database, in the plain libpq form huey's storage takes.
    queue_url = db.url.replace("postgresql+psycopg://", "postgresql://", 1)
    monkeypatch.setenv("LUMINA_QUEUE_URL", queue_url)
    settings = load_settings()
    assert isinstance(queue.get_huey(settings), PostgresHuey)
    ids = [
        sending.send(db, actor, draft_id=make_draft(subject=f"Queued {n}").id, settings=settings).email.id
        for n in range(EMAILS)
    ]
    # The doorbells are rows of huey's task table, in the store's own database.
    assert _queued(db) == EMAILS
    worker = start_worker()  # reads LUMINA_QUEUE_URL from the environment, like the sends here

    def sent() -> int:
        with db.read() as session:
            return len(session.execute(select(Email.id).where(Email.status == EmailStatus.SENT)).all())

    wait_until(lambda: sent() == EMAILS, timeout=120)
    assert worker.alive()
    assert Counter(a.email_id for a in sink.acceptances) == Counter(ids)  # each once
    # The worker took them from there (a worker on another queue would have left them).
    wait_until(lambda: _queued(db) == 0, timeout=60)
    assert queue.queued_count(settings) == 0


def _queued(db: Database) -> int:
    with db.read() as session:
        sql = text("SELECT count(*) FROM huey_task WHERE queue = :q")
        found = session.execute(sql, {"q": queue.QUEUE_NAME})
        return int(found.scalar_one())
