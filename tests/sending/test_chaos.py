"""Chaos: 300 emails queued, the worker process SIGKILLed at random moments and restarted, again and
again. At the end every email is SENT and none is lost; a message reaches the SMTP server twice only
if a kill landed between the server's acceptance and the SENT commit (SMTP cannot be asked whether it
already has a message), and the test measures that window and prints it, with the duplicates
against the kills (the figures quoted in the README's "When an email can go out twice").
"""

from __future__ import annotations

import random
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC

import pytest
from chaos_scale import sized
from polling import wait_until
from sending_support import (
    KilledWorker,
    TimedSink,
    WorkerProcess,
    duplicates_outside_window,
    kills_in_window,
    spread,
    window_ms,
)
from sqlalchemy import select

from lumina_tui.config import Settings
from lumina_tui.services import sending
from lumina_tui.services.actors import Actor
from lumina_tui.services.email_state import EmailStatus
from lumina_tui.store import Database
from lumina_tui.store.models import Account, Email, EmailDraft

pytestmark = pytest.mark.chaos  # make chaos at full size; make test at a smaller one (chaos_scale.py)

EMAILS = sized(300, 100)
MIN_KILLS = sized(10, 6)
MAX_KILLS = sized(40, 15)


@pytest.mark.slow
# Up to 41 worker processes started one after another: on a loaded 2-core box that alone took more
# than the suite's default 300 s once (the loop ends on a condition, never on time).
@pytest.mark.timeout(1800)
def test_sigkill_chaos_loses_nothing_and_duplicates_only_inside_the_window(
    db: Database,
    actor: Actor,
    settings: Settings,
    sink: TimedSink,
    smtp_account: Account,
    make_draft: Callable[..., EmailDraft],
    start_worker: Callable[..., WorkerProcess],
) -> None:
    rng = random.Random(20261125)
    ids = [
        sending.send(
            db, actor, draft_id=make_draft(subject=f"Chaos {n:03d} — Grüße").id, settings=settings
        ).email.id
        for n in range(EMAILS)
    ]
    sink.data_delay = 0.02  # a little server latency, so a kill can land mid-conversation

    def unsent() -> int:
        with db.read() as session:
            return len(session.execute(select(Email.id).where(Email.status != EmailStatus.SENT)).all())

    lives: list[tuple[float, float]] = []  # (started, killed) of each killed worker, time.time()
    # Killed workers' claims are taken back by pid (same host) at once; the lease stays long (the
    # conftest's) so a live worker that is merely slow on a loaded machine never loses its claim.
    env = {"LUMINA_WORKER__SWEEP_INTERVAL_SECONDS": "0.3"}
    started_at = time.monotonic()
    while len(lives) < MIN_KILLS or (unsent() and len(lives) < MAX_KILLS):
        before = len(sink.acceptances)
        worker = start_worker(env=env)
        born = worker.started[-1]  # right after the process was spawned: it cannot have sent before
        # Each life does some work however loaded the machine is (a kill after a fixed time could
        # land before a slow worker sent anything, forever): wait for its first message at the
        # server, then kill it at a random moment after that: the chaos itself.
        wait_until(lambda b=before: len(sink.acceptances) > b or unsent() == 0, timeout=600)
        time.sleep(rng.uniform(0.0, 0.3))
        killed = time.time()
        worker.kill()
        lives.append((born, killed))
    final = start_worker(env=env)
    wait_until(lambda: unsent() == 0, timeout=600)  # a hang guard, not a speed goal
    final.stop()
    elapsed = time.monotonic() - started_at

    with db.read() as session:
        rows = {row.id: row for row in session.execute(select(Email)).scalars()}
    assert len(rows) == EMAILS and set(rows) == set(ids)
    assert {row.status for row in rows.values()} == {EmailStatus.SENT}

    received = Counter(acceptance.email_id for acceptance in sink.acceptances)
    assert set(received) == set(ids), "every email reached the server (none lost)"
    sent_at = {email_id: rows[email_id].sent_at.replace(tzinfo=UTC).timestamp() for email_id in ids}

    # The window of an email runs from the moment its message left the worker to the SENT commit.
    # An acceptance belongs to the worker alive before it: data already sent when SIGKILL hit can
    # be accepted a few ms after the kill, but before the next worker started.
    next_born = [born for born, _ in lives[1:]] + [final.started[-1]]
    killed_workers = [
        KilledWorker(killed, lambda a, b=born, s=successor_born: b <= a.at < s)
        for (born, killed), successor_born in zip(lives, next_born, strict=True)
    ]
    in_window, kills_hit = kills_in_window(killed_workers, sink.acceptances, sent_at)
    duplicates = {email_id: count - 1 for email_id, count in received.items() if count > 1}
    assert not duplicates_outside_window(received, in_window), "duplicates without a kill in their window"
    assert sum(duplicates.values()) <= sum(in_window.values())
    full_ms, worker_ms = window_ms(sink.acceptances, sent_at, received)

    print(
        f"\nchaos: {EMAILS} emails, {len(lives)} SIGKILLs in {elapsed:.1f} s; "
        f"{len(sink.acceptances)} messages received, {sum(duplicates.values())} duplicates "
        f"({len(duplicates)} emails); kills landing between acceptance and SENT: {kills_hit} "
        f"({sum(in_window.values())} email-kill pairs); "
        f"{sum(duplicates.values()) / len(lives):.2f} duplicates per kill\n"
        f"window, last byte at the server -> SENT committed ({sink.data_delay * 1000:.0f} ms server hold): "
        f"{spread(full_ms)}\n"
        f"window, server's 250 reply -> SENT committed: {spread(worker_ms)}"
    )
    assert len(lives) >= MIN_KILLS
