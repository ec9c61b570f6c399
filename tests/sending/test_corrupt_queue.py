"""A corrupted queue file (issue 14 point 4): the doorbell cannot ring, but the outbox row is the
truth, so the send is stored, and a worker started afterwards delivers it exactly once."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sending_support import TimedSink, WorkerProcess
from test_worker_process import wait_status

from lumina_tui import queue
from lumina_tui.config import Settings
from lumina_tui.services import outbox, sending
from lumina_tui.services.actors import Actor
from lumina_tui.services.email_state import EmailStatus
from lumina_tui.store import Database
from lumina_tui.store.models import Account, EmailDraft

pytestmark = pytest.mark.chaos


def test_a_corrupt_queue_file_loses_no_send(
    db: Database,
    actor: Actor,
    settings: Settings,
    sink: TimedSink,
    smtp_account: Account,
    make_draft: Callable[..., EmailDraft],
    start_worker: Callable[..., WorkerProcess],
    caplog: pytest.LogCaptureFixture,
) -> None:
    queue.close_all()
    settings.queue_path.parent.mkdir(parents=True, exist_ok=True)
    settings.queue_path.write_bytes(b"this is not a SQLite database\x00\xff" * 512)
    email = sending.send(db, actor, draft_id=make_draft().id, settings=settings).email
    assert outbox.get_email(db, actor, email.id).status == EmailStatus.PENDING_SEND
    assert "could not enqueue" in caplog.text  # the corrupt file was hit, and the send survived it
    queue.close_all()
    settings.queue_path.unlink()  # the rep (or `lumina doctor`) removes the broken file
    start_worker()
    wait_status(db, email.id, EmailStatus.SENT)
    assert len(sink.by_header("X-Lumina-Email-Id", email.id)) == 1
