"""A consumer that raises does not delay a send: the send path is measured while one fails (slowly,
inside its transaction), against the same run without it. Ratios only, no absolute thresholds."""

from __future__ import annotations

import random
import statistics
import time
from collections.abc import Callable

from polling import wait_until
from sqlalchemy import text

from lumina_tui.config import Settings
from lumina_tui.services import sending
from lumina_tui.services.actors import Actor
from lumina_tui.services.outcome_consumers import AlertsConsumer, DashboardConsumer
from lumina_tui.store import Database
from lumina_tui.store.models import Account, EmailDraft
from lumina_tui.worker import tasks
from lumina_tui.worker.consumer_runner import ConsumerRunner
from lumina_tui.worker.provider_pool import ProviderPool

SIMULATED_WORK_SECONDS = 0.05  # the failing consumer's own work inside its write transaction


class SlowFailing:
    name = "slow_failing"

    def __init__(self) -> None:
        self.calls = 0

    def apply(self, session, workspace_id, batch):  # type: ignore[no-untyped-def]
        self.calls += 1
        time.sleep(SIMULATED_WORK_SECONDS)  # simulated work while holding the write lock, not a wait
        raise RuntimeError("broken consumer")

    def reset(self, session, workspace_id):  # type: ignore[no-untyped-def]
        return None

    def poll(self, session, workspace_id):  # type: ignore[no-untyped-def]
        return None


def _seq(db: Database, name: str) -> int:
    with db.read() as s:
        value = s.execute(text("SELECT last_seq FROM consumer_cursors WHERE name = :n"), {"n": name}).scalar()
    return int(value or 0)


def _last(db: Database) -> int:
    with db.read() as s:
        return int(s.execute(text("SELECT max(rowid) FROM email_events")).scalar() or 0)


def test_a_failing_consumer_does_not_delay_sends(
    db: Database,
    actor: Actor,
    settings: Settings,
    maildir_account: Account,
    make_draft: Callable[..., EmailDraft],
) -> None:
    ctx = tasks.WorkerRuntime(
        settings=settings, db=db, worker_id=tasks.new_worker_id(), providers=ProviderPool(db, settings),
        rng=random.Random(1),
    )  # fmt: skip
    drafts = [make_draft(subject=f"Isolation {i}") for i in range(80)]
    durations: dict[str, list[float]] = {"without": [], "with": []}
    failing = SlowFailing()
    sent = 0
    for round_no in range(4):  # interleaved, so a machine that slows down mid-test hits both sides
        label = "with" if round_no % 2 else "without"
        chain = [failing] if label == "with" else []
        runner = ConsumerRunner(db, [*chain, DashboardConsumer(), AlertsConsumer()], interval=0.05)
        runner.start()
        try:
            for draft in drafts[round_no * 20 : (round_no + 1) * 20]:
                started = time.perf_counter()
                email_id = sending.send(db, actor, draft_id=draft.id, settings=settings).email.id
                assert tasks.send_email(ctx, email_id) == "sent"
                durations[label].append(time.perf_counter() - started)
                runner.request()
                sent += 1
        finally:
            runner.stop()
            runner.join(30)
    assert sent == 80
    assert failing.calls >= 1
    # The other consumers were not blocked by the failing one: they read the whole log.
    runner = ConsumerRunner(db, [failing, DashboardConsumer(), AlertsConsumer()], interval=0.05)
    runner.start()
    try:
        wait_until(lambda: runner.request() or _seq(db, "dashboard") >= _last(db))
    finally:
        runner.stop()
        runner.join(30)
    assert _seq(db, "dashboard") == _last(db)
    assert _seq(db, "slow_failing") == 0  # it failed every time and never advanced
    without, with_failing = statistics.median(durations["without"]), statistics.median(durations["with"])
    print(
        f"send median: {without * 1000:.1f} ms without, {with_failing * 1000:.1f} ms with a failing consumer"
    )
    assert with_failing <= 3 * without, (with_failing, without)
