"""Leases: which worker does the periodic work (sweep, mailbox sync, consumers) right now.

Several `lumina worker` processes, on one machine or many, share a store and a queue; sends are
safe to run anywhere (the claim is a conditional UPDATE), but the periodic work should run on one
worker at a time. A lease is a row (`leases`: name, holder, expiry). `try_acquire` runs inside one
write transaction, which the store runs one at a time on either engine, so the read of the row and
the write that takes it are atomic: it is granted when the row is free, already ours, expired, or
held by a worker on this host whose process is gone (a SIGKILLed holder is replaced at once
rather than after its expiry; on another host only the expiry tells).

Two workers never *believe* they hold it at once: `Lease.holding()` trusts a grant only until
`started + ttl * TRUST_FRACTION`, measured on the local monotonic clock from *before* the request
was sent, while the row expires `ttl` after the store wrote it, later still. The remaining
fraction of the ttl absorbs the clock difference between machines (keep them NTP-synced).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import text

from lumina_tui.store import Database, utcnow
from lumina_tui.store.db import read_stamp, rows_changed
from lumina_tui.store.upsert import inserted

log = logging.getLogger(__name__)

PERIODIC = "periodic"  # the sweep, mailbox sync and the consumers
TRUST_FRACTION = 0.75


def try_acquire(
    db: Database,
    name: str,
    holder: str,
    ttl_seconds: float,
    *,
    holder_alive: Callable[[str], bool] = lambda _holder: True,
    now: datetime | None = None,
) -> bool:
    """Take or renew the lease `name` for `holder` for `ttl_seconds`; False when another holds it."""
    with db.write() as session:
        now = now or utcnow()
        expires = now + timedelta(seconds=ttl_seconds)
        row = session.execute(
            text("SELECT holder, expires_at FROM leases WHERE name = :n"), {"n": name}
        ).first()
        if row is None:
            # Only the worker whose INSERT made the row holds it. Lumina's writes run one at a time
            # (SQLite's write lock, PostgreSQL's advisory lock), so no other worker can create it
            # between that SELECT and this INSERT today; the answer comes from the write itself, so
            # the lease stays right if writes ever run side by side or another writer skips the lock.
            return inserted(
                session,
                text(
                    "INSERT INTO leases (name, holder, acquired_at, renewed_at, expires_at)"
                    " VALUES (:n, :h, :now, :now, :exp) ON CONFLICT (name) DO NOTHING"
                ),
                {"n": name, "h": holder, "now": now, "exp": expires},
            )
        current, expires_at = row[0], read_stamp(row[1])
        if current != holder and expires_at > now and holder_alive(current):
            return False
        taken = "" if current == holder else ", acquired_at = :now"
        # Conditional on the holder read above, for the same reason: of two workers taking over one
        # expired lease at once, the second's UPDATE would find another holder and change nothing.
        won = session.execute(
            text(
                f"UPDATE leases SET holder = :h, renewed_at = :now, expires_at = :exp{taken}"
                " WHERE name = :n AND holder = :current"
            ),
            {"n": name, "h": holder, "now": now, "exp": expires, "current": current},
        )
        if rows_changed(won) != 1:
            return False
        if current != holder:
            log.info("lease %s taken over from %s by %s", name, current, holder)
        return True


def release(db: Database, name: str, holder: str) -> None:
    """Give the lease up (a worker stopping cleanly), so another takes it at once."""
    with db.write() as session:
        session.execute(
            text("DELETE FROM leases WHERE name = :n AND holder = :h"), {"n": name, "h": holder}
        )


def current_holder(db: Database, name: str) -> tuple[str, datetime] | None:
    """(holder, expires_at) of the lease, or None when nobody has taken it."""
    with db.read() as session:
        row = session.execute(
            text("SELECT holder, expires_at FROM leases WHERE name = :n"), {"n": name}
        ).first()
    return None if row is None else (str(row[0]), read_stamp(row[1]))


@dataclass
class Lease:
    """One worker's view of one lease: `refresh()` takes or renews it, `holding()` says whether
    this worker may do the work now."""

    db: Database
    name: str
    holder: str
    ttl_seconds: float
    holder_alive: Callable[[str], bool] = lambda _holder: True
    clock: Callable[[], float] = time.monotonic
    wall: Callable[[], datetime] = utcnow  # the time written to the row (tests inject both)
    _trusted_until: float = field(default=0.0, init=False)

    def refresh(self) -> bool:
        started = self.clock()
        try:
            granted = try_acquire(
                self.db,
                self.name,
                self.holder,
                self.ttl_seconds,
                holder_alive=self.holder_alive,
                now=self.wall(),
            )
        except Exception:
            log.warning("could not renew the %s lease; its work waits", self.name, exc_info=True)
            granted = False
        self._trusted_until = started + self.ttl_seconds * TRUST_FRACTION if granted else 0.0
        return granted

    def holding(self) -> bool:
        return self.clock() < self._trusted_until

    def release(self) -> None:
        self._trusted_until = 0.0
        try:
            release(self.db, self.name, self.holder)
        except Exception:  # the lease expires on its own
            log.debug("could not release the %s lease", self.name, exc_info=True)
