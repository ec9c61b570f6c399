"""100,000 events, a real `lumina worker` killed with SIGKILL at random points of its consumers'
work: after restarts every aggregate equals a from-scratch recomputation over the log."""

from __future__ import annotations

import os
import random
import subprocess

from outcome_support import (
    bulk_append_events,
    insert_emails,
    lumina_command,
    recompute_dashboard,
    stored_dashboard,
    wait_until,
)
from sqlalchemy import text

EVENTS = 100_000


def _seq(db, name: str) -> int:  # type: ignore[no-untyped-def]
    with db.read() as s:
        value = s.execute(text("SELECT last_seq FROM consumer_cursors WHERE name = :n"), {"n": name}).scalar()
    return int(value or 0)


def _last_rowid(db) -> int:  # type: ignore[no-untyped-def]
    with db.read() as s:
        return int(s.execute(text("SELECT max(rowid) FROM email_events")).scalar() or 0)


def test_sigkill_at_random_points_neither_repeats_nor_skips(db, actor, settings) -> None:
    seeded = insert_emails(db, actor.workspace_id, actor.user_id, 20_000, templates=6, accounts=3)
    bulk_append_events(db, actor.workspace_id, seeded.email_ids, EVENTS)
    last = _last_rowid(db)
    rng = random.Random(1234)
    env = {
        **os.environ,
        "LUMINA_WORKER__CONSUMER_INTERVAL_SECONDS": "0.1",
        "LUMINA_WORKER__MAILBOX_SYNC_INTERVAL_SECONDS": "0",
    }
    kills = 0
    log = subprocess.DEVNULL
    # Kill the worker whenever the dashboard's cursor passes a random point (mid-batch, most likely).
    for point in sorted(rng.sample(range(1, last), 4)):
        proc = subprocess.Popen(
            lumina_command("worker"), env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=log
        )
        try:
            wait_until(
                lambda p=point, pr=proc: _seq(db, "dashboard") >= p or pr.poll() is not None, timeout=120
            )
            assert proc.poll() is None, "the worker exited on its own"
        finally:
            proc.kill()  # SIGKILL
            proc.wait(20)
        kills += 1
    assert kills == 4
    assert _seq(db, "dashboard") < last, "the last kill should land before the end of the log"
    proc = subprocess.Popen(
        lumina_command("worker"), env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=log
    )
    try:
        wait_until(lambda: _seq(db, "dashboard") == last and _seq(db, "alerts") == last, timeout=180)
    finally:
        proc.kill()
        proc.wait(20)
    assert stored_dashboard(db, actor.workspace_id) == recompute_dashboard(db, actor.workspace_id)
    # Alerts: exactly one per reply, hard bounce and failure event of the log.
    with db.read() as s:
        expected = s.execute(
            text(
                "SELECT count(*) FROM email_events WHERE event_type IN ('replied', 'failed')"
                " OR (event_type = 'bounced' AND json_extract(event_data, '$.status') LIKE '5%')"
            )
        ).scalar()
        stored = s.execute(text("SELECT count(*), count(DISTINCT source_key) FROM alerts")).one()
    assert stored[0] == stored[1] == expected
