"""Team mode chaos (issue 13): three `lumina worker` processes, each with its own home as on three
machines, share one PostgreSQL store and one Redis queue. Workers are SIGKILLed at random (the
periodic lease's holder first, on purpose) and replaced. At the end every email is SENT and reached
the SMTP server (none lost); an email arrived twice only if a killed worker's claim on it was taken
back (its `interrupted` event names the dead worker): the window between the server's acceptance
and the SENT commit, measured and printed as in test_chaos.py. The lease moves to a live worker
when its holder dies.
"""

from __future__ import annotations

import os
import random
import statistics
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC
from pathlib import Path

import pytest
from polling import wait_until
from sending_support import TimedSink, WorkerProcess
from sqlalchemy import select

from lumina_tui.config import load_settings
from lumina_tui.services import leases, sending
from lumina_tui.services.actors import Actor
from lumina_tui.services.email_state import EmailStatus
from lumina_tui.store import Database
from lumina_tui.store.models import Account, Email, EmailDraft, EmailEvent

pytestmark = [pytest.mark.chaos, pytest.mark.postgresql_only]

# `make test` runs a small version (a full one took 7.5 min on a loaded 2-core box: 150 emails,
# 30 kills); LUMINA_TEAM_CHAOS_KILLS / _EMAILS make it bigger (`make chaos` on a quiet machine).
EMAILS = int(os.environ.get("LUMINA_TEAM_CHAOS_EMAILS", "60"))
WORKERS = 3
KILLS = int(os.environ.get("LUMINA_TEAM_CHAOS_KILLS", "5"))


@pytest.fixture
def redis_url(monkeypatch: pytest.MonkeyPatch) -> str:
    import team_servers

    try:
        server = team_servers.redis_server()
    except RuntimeError as exc:
        pytest.skip(str(exc))
    server.flush()
    monkeypatch.setenv("LUMINA_QUEUE_URL", server.url)
    return server.url


def _pid(worker_id: str) -> int:
    return int(worker_id.split(":")[1])


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_three_workers_on_postgres_and_redis_killed_at_random_lose_nothing(
    redis_url: str,
    db: Database,
    actor: Actor,
    sink: TimedSink,
    smtp_account: Account,
    make_draft: Callable[..., EmailDraft],
    tmp_path: Path,
) -> None:
    settings = load_settings()  # now with LUMINA_QUEUE_URL: the sends ring the shared Redis queue
    assert settings.queue_url == redis_url and settings.resolved_database_url == db.url
    rng = random.Random(20261203)
    ids = [
        sending.send(db, actor, draft_id=make_draft(subject=f"Team {n:03d}").id, settings=settings).email.id
        for n in range(EMAILS)
    ]
    sink.data_delay = 0.02  # a little server latency, so a kill can land mid-conversation

    def unsent() -> int:
        with db.read() as session:
            return len(session.execute(select(Email.id).where(Email.status != EmailStatus.SENT)).all())

    env = {"LUMINA_WORKER__SWEEP_INTERVAL_SECONDS": "0.3", "LUMINA_WORKER__PERIODIC_LEASE_SECONDS": "3"}
    homes = iter(range(1000))

    def spawn() -> WorkerProcess:
        home = tmp_path / f"machine-{next(homes)}"
        home.mkdir()
        return WorkerProcess(settings, {**env, "LUMINA_HOME": str(home)}).start(wait_online=False)

    def holder() -> str | None:
        found = leases.current_holder(db, leases.PERIODIC)
        return found[0] if found else None

    workers = [spawn() for _ in range(WORKERS)]
    all_workers = list(workers)
    killed: list[tuple[int, float]] = []  # (pid, time.time()) of every SIGKILL
    takeovers: list[float] = []
    started_at = time.monotonic()
    try:
        wait_until(lambda: holder() is not None and _pid(holder() or "x:0") in {w.pid for w in workers}, 120)
        while len(killed) < KILLS:
            time.sleep(rng.uniform(0.3, 1.5))  # a random moment: the chaos itself
            current = holder()
            by_pid = {w.pid: w for w in workers}
            # Every other kill hits the lease's holder, so the takeover is exercised again and again.
            if len(killed) % 2 == 0 and current and _pid(current) in by_pid:
                victim = by_pid[_pid(current)]
            else:
                victim = rng.choice(workers)
            victim.kill()
            killed.append((victim.pid, time.time()))
            workers.remove(victim)
            replacement = spawn()
            workers.append(replacement)
            all_workers.append(replacement)
            if current and _pid(current) == victim.pid:
                gone = time.monotonic()
                # The holder on this host is dead: a live worker takes the lease at its next renewal.
                wait_until(lambda v=victim.pid: (h := holder()) is not None and _pid(h) != v, 60)
                new = holder()
                assert new is not None and _pid(new) in {w.pid for w in workers}
                takeovers.append(time.monotonic() - gone)
        wait_until(lambda: unsent() == 0, timeout=300)
        final_holder = holder()
        assert final_holder is not None and _pid(final_holder) in {w.pid for w in workers}
    finally:
        for worker in all_workers:
            worker.stop()
    elapsed = time.monotonic() - started_at

    with db.read() as session:
        rows = {row.id: row for row in session.execute(select(Email)).scalars()}
        interrupted = [
            (e.email_id, e.provider_event_id)
            for e in session.execute(
                select(EmailEvent).where(EmailEvent.event_type == "interrupted")  # type: ignore[arg-type]
            ).scalars()
        ]
    assert len(rows) == EMAILS and set(rows) == set(ids)
    assert {row.status for row in rows.values()} == {EmailStatus.SENT}
    received = Counter(acceptance.email_id for acceptance in sink.acceptances)
    assert set(received) == set(ids), "every email reached the server (none lost)"

    # A duplicate needs a cause: a claim of a *killed* worker taken back (the event names its owner).
    killed_pids = {pid for pid, _ in killed}
    taken_back: Counter[str] = Counter()
    for email_id, event_id in interrupted:
        owner = event_id.split(":interrupted:", 1)[1]
        assert _pid(owner) in killed_pids, f"a live worker's claim was taken back: {event_id}"
        taken_back[email_id] += 1
    duplicates = {email_id: count - 1 for email_id, count in received.items() if count > 1}
    for email_id, extra in duplicates.items():
        assert extra <= taken_back[email_id], f"email {email_id} arrived {extra + 1} times without cause"

    sent_at = {email_id: rows[email_id].sent_at.replace(tzinfo=UTC).timestamp() for email_id in ids}
    once = {email_id for email_id, count in received.items() if count == 1}
    window_ms = [
        max(0.0, (sent_at[a.email_id] - a.at) * 1000) for a in sink.acceptances if a.email_id in once
    ]
    print(
        f"\nteam chaos (PostgreSQL + Redis, {WORKERS} workers): {EMAILS} emails, {len(killed)} SIGKILLs "
        f"in {elapsed:.1f} s; {len(sink.acceptances)} messages received, {sum(duplicates.values())} "
        f"duplicates; {sum(taken_back.values())} claims taken back from killed workers; lease "
        f"takeovers after the holder was killed: {len(takeovers)}, "
        f"max {max(takeovers, default=0):.2f} s\n"
        f"window, server's 250 reply -> SENT committed: p50 {statistics.median(window_ms):.1f} ms, "
        f"max {max(window_ms):.1f} ms"
    )
    assert len(killed) == KILLS and takeovers
