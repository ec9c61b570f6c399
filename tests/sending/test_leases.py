"""The periodic lease (services/leases.py) on both engines: one holder at a time, renewed by its
holder, taken over when it expires or when its holder's process is gone. Time is injected: each
contender's monotonic clock and the time written to the row advance together, by steps a seeded
random schedule picks (stalls longer than the ttl included), so no test depends on real timing."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from lumina_tui.services import leases
from lumina_tui.store import Database

BASE = datetime(2026, 12, 3, 12, 0, 0)


class FakeTime:
    def __init__(self) -> None:
        self.t = 1000.0

    def monotonic(self) -> float:
        return self.t

    def wall(self) -> datetime:
        return BASE + timedelta(seconds=self.t)


def _lease(db: Database, holder: str, clock: FakeTime, **kw) -> leases.Lease:  # type: ignore[no-untyped-def]
    return leases.Lease(db, leases.PERIODIC, holder, 10.0, clock=clock.monotonic, wall=clock.wall, **kw)


def test_two_contenders_never_hold_it_at_once_and_take_over_after_expiry(db: Database) -> None:
    clock = FakeTime()
    workers = [_lease(db, f"host:{n}:w", clock) for n in range(3)]
    rng = random.Random(1303)
    held_by: set[str] = set()
    takeovers = 0
    last = None
    for _ in range(400):
        clock.t += rng.choice([0.5, 1.0, 2.5, 4.0, 12.0])  # renewals, and stalls beyond the ttl
        worker = rng.choice(workers)
        worker.refresh()
        holders = [w.holder for w in workers if w.holding()]
        assert len(holders) <= 1, f"two workers believe they hold the lease: {holders}"
        if holders:
            held_by.add(holders[0])
            if last is not None and holders[0] != last:
                takeovers += 1
            last = holders[0]
        stored = leases.current_holder(db, leases.PERIODIC)
        if holders:
            assert stored is not None and stored[0] == holders[0]  # the belief matches the row
    assert len(held_by) == 3 and takeovers >= 5  # the schedule really did move it around


def test_the_holder_keeps_it_by_renewing_and_others_are_refused(db: Database) -> None:
    clock = FakeTime()
    a, b = _lease(db, "host:1:a", clock), _lease(db, "host:2:b", clock)
    assert a.refresh() and a.holding()
    for _ in range(20):
        clock.t += 2.0  # well inside the ttl
        assert a.refresh()
        assert not b.refresh() and not b.holding()
    clock.t += 10.1  # a stalls past its expiry: b takes over, and a no longer trusts its grant
    assert not a.holding()
    assert b.refresh() and b.holding()
    assert not a.refresh()
    b.release()
    assert leases.current_holder(db, leases.PERIODIC) is None
    assert a.refresh()  # released: taken at once, no expiry to wait for


def test_a_dead_holder_on_this_host_is_replaced_at_once(db: Database) -> None:
    clock = FakeTime()
    dead = _lease(db, "host:1:dead", clock)
    assert dead.refresh()
    heir = _lease(db, "host:2:heir", clock, holder_alive=lambda holder: holder != "host:1:dead")
    assert heir.refresh() and heir.holding()  # no wait for the 10 s expiry
    stored = leases.current_holder(db, leases.PERIODIC)
    assert stored is not None and stored[0] == "host:2:heir"
