"""100,000 events, a real `lumina worker` killed with SIGKILL at random points of its consumers'
work: after restarts every aggregate equals a from-scratch recomputation over the log."""

from __future__ import annotations

import json
import os
import random
import subprocess

from chaos_scale import sized
from outcome_support import (
    bulk_append_events,
    insert_emails,
    lumina_command,
    recompute_dashboard,
    stored_dashboard,
)
from polling import wait_until
from sqlalchemy import text

EVENTS = sized(100_000, 30_000)
# On PostgreSQL the seeding alone (per-row commit-order trigger, a loaded CI box) takes a minute per
# 100,000: a tenth of the log still puts the four kills mid-batch (batches are far smaller).
EVENTS_ON_POSTGRES = 10_000


def _seq(db, name: str) -> int:  # type: ignore[no-untyped-def]
    with db.read() as s:
        value = s.execute(text("SELECT last_seq FROM consumer_cursors WHERE name = :n"), {"n": name}).scalar()
    return int(value or 0)


def _data(value):  # type: ignore[no-untyped-def]
    """event_data as a dict: SQLite hands back JSON text, PostgreSQL's JSONB a dict."""
    return json.loads(value) if isinstance(value, str) else value


def _last_rowid(db) -> int:  # type: ignore[no-untyped-def]
    with db.read() as s:
        return int(s.execute(text("SELECT max(rowid) FROM email_events")).scalar() or 0)


def test_sigkill_at_random_points_neither_repeats_nor_skips(db, actor, settings, store_engine) -> None:
    events = EVENTS_ON_POSTGRES if store_engine == "postgresql" else EVENTS
    seeded = insert_emails(db, actor.workspace_id, actor.user_id, events // 5, templates=6, accounts=3)
    bulk_append_events(db, actor.workspace_id, seeded.email_ids, events)
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
        logged = s.execute(
            text(
                "SELECT event_type, event_data FROM email_events"
                " WHERE event_type IN ('replied', 'failed', 'bounced')"
            )
        ).all()
        expected = sum(
            1
            for kind, data in logged
            if kind != "bounced" or str(_data(data).get("status", "")).startswith("5")
        )
        stored = s.execute(text("SELECT count(*), count(DISTINCT source_key) FROM alerts")).one()
    assert stored[0] == stored[1] == expected
