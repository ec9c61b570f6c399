"""The periodic lease across real processes (issue 13), on PostgreSQL: `lumina worker` processes,
each with its own home as on separate machines, share one store. The periodic work (the sweep,
mailbox sync, consumers) runs on the lease's holder only; the others wait, however many renewals go
by; when the holder is SIGKILLed a live worker takes the lease over and its sweep, not anyone
else's, takes back the dead holder's claim on an email it was sending.

What is observed: the `leases` row (polled by a thread of this test, holder by holder), each
worker's log ("holds the periodic lease now" / "no longer holds"), and the `interrupted` event,
which names the worker whose sweep took the claim back. Nothing waits on time: each step waits for
the condition it needs, with a generous deadline as a hang guard.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from polling import wait_until
from sending_support import TimedSink, WorkerProcess
from sqlalchemy import select, text

from lumina_tui.config import Settings
from lumina_tui.services import leases, sending
from lumina_tui.services.actors import Actor
from lumina_tui.services.email_state import EmailStatus
from lumina_tui.store import Database
from lumina_tui.store.models import Account, Email, EmailDraft, EmailEvent

# Three worker processes started one after another: tens of seconds on a loaded box (make chaos).
pytestmark = [pytest.mark.postgresql_only, pytest.mark.chaos, pytest.mark.slow]

LEASE_SECONDS = 6.0  # renewed every 1.5 s; a stall under 4.5 s never loses it (a loaded CI box)
RENEWALS_WATCHED = 3  # the holder renews this often while the other worker waits


def _pid(worker_id: str) -> int:
    return int(worker_id.split(":")[1])


class HolderWatch(threading.Thread):
    """Polls the lease row and keeps each change of holder: (first seen at, holder, renewed_at)."""

    def __init__(self, db: Database) -> None:
        super().__init__(name="holder-watch", daemon=True)
        self.db = db
        self.changes: list[tuple[float, str | None]] = []
        self.renewals: list[tuple[str, datetime]] = []
        self._halt = threading.Event()

    def run(self) -> None:
        while not self._halt.wait(0.01):
            with self.db.read() as session:
                row = session.execute(
                    text("SELECT holder, renewed_at FROM leases WHERE name = :n"), {"n": leases.PERIODIC}
                ).first()
            holder = None if row is None else str(row[0])
            if not self.changes or self.changes[-1][1] != holder:
                self.changes.append((time.time(), holder))
            if row is not None and (not self.renewals or self.renewals[-1] != (holder, row[1])):
                self.renewals.append((str(holder), row[1]))

    def holder(self) -> str | None:
        return self.changes[-1][1] if self.changes else None

    def renewals_by(self, pid: int, after: int = 0) -> int:
        return sum(1 for holder, _ in self.renewals[after:] if _pid(holder) == pid)

    def stop(self) -> None:
        self._halt.set()
        self.join(10)


def _lease_log(worker: WorkerProcess, home: Path) -> list[tuple[float, str]]:
    """(time, "holds" | "lost") of each change this worker logged, oldest first."""
    found = []
    path = home / "logs" / "worker.log"
    text = path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""
    for line in text.splitlines():
        if f":{worker.pid}:" not in line or "another worker holds" in line:
            continue
        if "no longer holds the periodic lease" in line:
            kind = "lost"
        elif "holds the periodic lease" in line:
            kind = "holds"
        else:
            continue
        stamp = datetime.strptime(line[:23], "%Y-%m-%d %H:%M:%S,%f").timestamp()  # local time, as logged
        found.append((stamp, kind))
    return found


@pytest.fixture
def watch(db: Database) -> Iterator[HolderWatch]:
    watcher = HolderWatch(db)
    watcher.start()
    yield watcher
    watcher.stop()


@pytest.mark.timeout(300)
def test_two_worker_processes_never_hold_the_periodic_lease_at_once(
    db: Database,
    actor: Actor,
    settings: Settings,
    sink: TimedSink,
    smtp_account: Account,
    make_draft: Callable[..., EmailDraft],
    tmp_path: Path,
    watch: HolderWatch,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LUMINA_WORKER__PERIODIC_LEASE_SECONDS", str(LEASE_SECONDS))
    monkeypatch.setenv("LUMINA_WORKER__SWEEP_INTERVAL_SECONDS", "0.2")
    started: list[tuple[WorkerProcess, Path]] = []

    def spawn(name: str) -> tuple[WorkerProcess, Path]:
        home = tmp_path / f"machine-{name}"
        home.mkdir()
        worker = WorkerProcess(settings, {"LUMINA_HOME": str(home)}).start(wait_online=False)
        started.append((worker, home))
        return worker, home

    def holder_pid() -> int | None:
        current = watch.holder()
        return None if current is None else _pid(current)

    sink.hold_data = True  # the first send stays in flight (DATA held) until the test releases it
    email_id = sending.send(db, actor, draft_id=make_draft().id, settings=settings).email.id
    try:
        a, a_home = spawn("a")
        # a holds the lease and has the email in hand (its SMTP DATA is held by the server).
        wait_until(lambda: holder_pid() == a.pid and len(sink.data_started) == 1, timeout=120)
        b, b_home = spawn("b")
        wait_until(lambda: _waiting(b_home), timeout=120)
        # While b runs, a renews again and again and b never takes the lease.
        mark = len(watch.renewals)
        wait_until(lambda: watch.renewals_by(a.pid, mark) >= RENEWALS_WATCHED, timeout=120)
        assert {_pid(holder) for _, holder in watch.changes if holder} == {a.pid}
        assert all(kind != "holds" for _, kind in _lease_log(b, b_home))

        killed_at = time.time()
        a.kill()  # the holder dies mid-send
        sink.hold_data = False
        sink.data_release.set()
        # b takes the lease over (a's pid is gone: no wait for the expiry) and its sweep, the
        # periodic work, takes a's claim back; then b sends the email.
        wait_until(lambda: holder_pid() == b.pid, timeout=60)
        wait_until(lambda: _status(db, email_id) == EmailStatus.SENT, timeout=120)

        # Again with a third worker: it waits while b holds, and takes over when b is killed.
        c, c_home = spawn("c")
        wait_until(lambda: _waiting(c_home), timeout=120)
        mark = len(watch.renewals)
        wait_until(lambda: watch.renewals_by(b.pid, mark) >= RENEWALS_WATCHED, timeout=120)
        b_killed_at = time.time()
        b.kill()
        wait_until(lambda: holder_pid() == c.pid, timeout=60)
    finally:
        for worker, _home in started:
            worker.stop()

    # The row's holder went a -> b -> c, each change only after its holder was killed.
    holders = [(at, _pid(holder)) for at, holder in watch.changes if holder is not None]
    assert [pid for _, pid in holders] == [a.pid, b.pid, c.pid]
    assert holders[1][0] > killed_at and holders[2][0] > b_killed_at
    # Each worker's own belief: b took it only after a died, c only after b died, none let go of it
    # while alive (no "no longer holds": no stall ever lost it).
    a_log, b_log, c_log = _lease_log(a, a_home), _lease_log(b, b_home), _lease_log(c, c_home)
    assert [kind for _, kind in a_log] == ["holds"]
    assert [kind for _, kind in b_log] == ["holds"] and b_log[0][0] > killed_at
    assert [kind for _, kind in c_log] == ["holds"] and c_log[0][0] > b_killed_at
    # The periodic work ran on the new holder: b's sweep took a's claim back.
    with db.read() as session:
        taken_back = list(
            session.execute(
                select(EmailEvent).where(
                    EmailEvent.email_id == email_id,
                    EmailEvent.event_type == "interrupted",  # type: ignore[arg-type]
                )
            ).scalars()
        )
    assert len(taken_back) == 1
    assert _pid(taken_back[0].provider_event_id.split(":interrupted:", 1)[1]) == a.pid
    assert _pid(taken_back[0].event_data["taken_back_by"]) == b.pid
    assert taken_back[0].recorded_at.replace(tzinfo=UTC).timestamp() > killed_at


def _waiting(home: Path) -> bool:
    """The worker of this home is up and found the lease taken."""
    path = home / "logs" / "worker.log"
    return path.exists() and "another worker holds the periodic lease" in path.read_text(errors="replace")


def _status(db: Database, email_id: str) -> str:
    with db.read() as session:
        return str(session.execute(select(Email.status).where(Email.id == email_id)).scalar_one())
