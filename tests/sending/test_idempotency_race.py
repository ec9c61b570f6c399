"""200 threads and 4 processes send the same draft with the same idempotency key at the same moment:
one emails row, one doorbell, one message at the SMTP server."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

from polling import wait_until
from sending_support import TimedSink, WorkerProcess
from sqlalchemy import func, select

from lumina_tui import queue
from lumina_tui.config import Settings
from lumina_tui.services import outbox, sending
from lumina_tui.services.actors import Actor
from lumina_tui.services.email_state import EmailStatus
from lumina_tui.store import Database
from lumina_tui.store.models import Account, Email, EmailDraft

THREADS = 200
PROCESSES = 4
PER_PROCESS = 10

SENDER = r"""
import json, sys, threading, time
from pathlib import Path
from lumina_tui.config import load_settings
from lumina_tui.services import sending, outbox
from lumina_tui.services.email_state import EmailStatus
from lumina_tui.services.actors import local_actor
from lumina_tui.store import open_database

draft_id, key = sys.argv[1], sys.argv[2]
go, ready, threads = Path(sys.argv[3]), Path(sys.argv[4]), int(sys.argv[5])
settings = load_settings()
db = open_database(settings.resolved_database_url)
actor = local_actor(db)
results, barrier = [], threading.Barrier(threads)

def one():
    barrier.wait()
    try:
        r = sending.send(db, actor, draft_id=draft_id, idempotency_key=key, settings=settings)
        results.append({"id": r.email.id, "created": r.created})
    except Exception as exc:
        results.append({"error": repr(exc)})

workers = [threading.Thread(target=one) for _ in range(threads - 1)]
ready.touch()
while not go.exists():
    time.sleep(0.001)
for w in workers:
    w.start()
one()
for w in workers:
    w.join()
print(json.dumps(results))
"""


def test_one_key_many_senders_one_row_one_message(
    db: Database,
    actor: Actor,
    settings: Settings,
    sink: TimedSink,
    smtp_account: Account,
    make_draft: Callable[..., EmailDraft],
    start_worker: Callable[..., WorkerProcess],
    tmp_path: Path,
) -> None:
    draft = make_draft()
    key = "rep-pressed-send-once"
    go = tmp_path / "go"
    procs = []
    for n in range(PROCESSES):
        ready = tmp_path / f"ready-{n}"
        procs.append(
            (
                ready,
                subprocess.Popen(
                    [
                        sys.executable,
                        "-c",
                        SENDER,
                        draft.id,
                        key,
                        str(go),
                        str(ready),
                        str(PER_PROCESS),
                    ],
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    text=True,
                ),
            )
        )
    wait_until(lambda: all(ready.exists() for ready, _ in procs), timeout=60)

    results: list[dict] = []
    lock = threading.Lock()
    barrier = threading.Barrier(THREADS + 1)

    def one() -> None:
        barrier.wait()
        try:
            result = sending.send(db, actor, draft_id=draft.id, idempotency_key=key, settings=settings)
            outcome = {"id": result.email.id, "created": result.created}
        except Exception as exc:  # every failure is a test failure, reported below
            outcome = {"error": repr(exc)}
        with lock:
            results.append(outcome)

    threads = [threading.Thread(target=one) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    go.touch()
    barrier.wait()
    for thread in threads:
        thread.join(120)
    for _, proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        results.extend(json.loads(out))

    assert len(results) == THREADS + PROCESSES * PER_PROCESS
    assert [r for r in results if "error" in r] == []
    assert len({r["id"] for r in results}) == 1
    assert sum(r["created"] for r in results) == 1
    with db.read() as session:
        assert session.execute(select(func.count()).select_from(Email)).scalar_one() == 1
    assert queue.queued_count(settings) == 1  # one doorbell: no second job

    (email_id,) = {r["id"] for r in results}
    start_worker()
    wait_until(lambda: outbox.get_email(db, actor, email_id).status == EmailStatus.SENT)
    wait_until(lambda: queue.queued_count(settings) == 0)
    assert len(sink.messages) == 1
    assert sink.count_for(email_id) == 1
