"""Local-first saving of the open draft (docs/invariants.md, invariant 1), off the event loop.

Edits live in the widgets. The first unsaved edit arms a timer; when it fires the current widget
state is captured and saved in a thread worker. The timer leaves the save itself a budget (a fifth
of the interval, at most 100 ms), so the edit is *stored* within `interval`, not merely sent off. Edits made
while that save runs arm the next timer from *their* first moment, so continuous typing is saved
every `interval` too (a throttle with a trailing save) and a kill -9 loses at most that much.
Keystrokes only ever flip a flag here; reading the widgets happens once per save, on the UI thread.

Every capture gets a sequence number on the UI thread, and every save, from any thread, runs under
one lock, assigns the next revision and skips a capture older than the newest one stored. So saves
from the timer, from an AI or send worker ("save, then name the revision you read") and from quit
or SIGTERM can interleave without ever storing older text over newer text.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from textual.timer import Timer
from textual.widget import Widget

from lumina_tui.services.errors import ConflictError, LuminaError
from lumina_tui.tui.messages import DraftSaved, DraftSaveFailed

if TYPE_CHECKING:
    from lumina_tui.services.actors import Actor
    from lumina_tui.services.runtime import Database

log = logging.getLogger(__name__)

SaveState = Literal["new", "saved", "pending", "saving", "failed"]
RETRY_CAP_SECONDS = 10.0
SAVE_BUDGET_SECONDS = 0.1
#: Never a zero-delay timer: Textual's timer divides by its interval when it starts late (a loaded
#: machine), and a 0.0 timer then dies with ZeroDivisionError (seen on shutdown in a test run).
MIN_TIMER_SECONDS = 0.001


@dataclass(frozen=True, slots=True)
class DraftSnapshot:
    """What the rep sees in the composer, as the store will keep it."""

    draft_id: str
    subject: str
    body: str
    prospect_id: str | None = None
    template_id: str | None = None
    account_id: str | None = None
    tone: float | None = None  # kept with the draft (None: leave the stored tone alone)

    @property
    def has_content(self) -> bool:
        """Worth storing: some text, or a chosen prospect. An empty new draft (ctrl+n, the fresh one
        after a send) is not stored until it has content, so the drafts list is not cluttered."""
        return bool(self.subject.strip() or self.body.strip() or self.prospect_id)


class DraftAutosave:
    """Throttled, trailing, serialised saves of one draft; see the module docstring."""

    def __init__(
        self,
        host: Widget,
        db: Database,
        actor: Actor,
        read_snapshot: Callable[[], DraftSnapshot],
        *,
        interval: float,
        clock: Callable[[], float] = time.monotonic,  # for "saved N s ago" only; timers use monotonic
        stored_revision: int = 0,
        stored: DraftSnapshot | None = None,
    ) -> None:
        self.host = host
        self.db = db
        self.actor = actor
        self.read_snapshot = read_snapshot
        self.interval = interval
        self.budget = min(SAVE_BUDGET_SECONDS, interval / 5)
        self.clock = clock
        # UI-thread state.
        self._dirty_since: float | None = None
        self._timer: Timer | None = None
        self._in_flight = False
        self._failed = False
        self._retry_delay = 0.5
        self._flight_started: float | None = None
        self._seq = 0
        self.saved_at: float | None = clock() if stored is not None else None
        # Shared with worker threads: only under `_lock`.
        self._lock = threading.Lock()
        self._revision = stored_revision
        self._saved = stored
        self._saved_seq = 0

    # ------------------------------------------------------------------ UI thread

    @property
    def state(self) -> SaveState:
        if self._failed:
            return "failed"
        if self._in_flight:
            return "saving"
        if self._dirty_since is not None:
            return "pending"
        return "saved" if self.saved_at is not None else "new"

    @property
    def revision(self) -> int:
        """The revision last stored (what an AI call or a send names)."""
        with self._lock:
            return self._revision

    def edited(self) -> None:
        """Called on every edit: O(1), never touches the widgets or the disk."""
        if self._dirty_since is None:
            self._dirty_since = time.monotonic()
            self._arm()

    def capture(self) -> tuple[int, DraftSnapshot]:
        """Read the widgets now (UI thread) and number the capture."""
        self._seq += 1
        return self._seq, self.read_snapshot()

    def save_soon(self) -> None:
        """Save now in a worker (screen switch): no wait, no blocking."""
        if self._dirty_since is None:
            self._dirty_since = time.monotonic()
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        if not self._in_flight:
            self._fire()

    def flush_blocking(self, timeout: float = 5.0) -> int | None:
        """Save the widgets' state right here (quit, SIGTERM, SIGHUP); returns the stored revision
        (0: an empty new draft, not stored)."""
        seq, snapshot = self.capture()
        try:
            revision = self.save_blocking(seq, snapshot, timeout=timeout)
        except Exception:
            log.exception("final save of draft %s failed", snapshot.draft_id)
            return None
        self._dirty_since = None
        if revision:
            self.saved_at = self.clock()
        return revision

    def cancel(self) -> None:
        """Stop saving this draft (it was sent, or another draft replaced it)."""
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        self._dirty_since = None

    def _arm(self) -> None:
        if self._timer is not None or self._in_flight or self._dirty_since is None:
            return
        due = self._dirty_since + self.interval - self.budget
        delay = self._retry_delay if self._failed else due - time.monotonic()
        self._timer = self.host.set_timer(max(MIN_TIMER_SECONDS, delay), self._fire, name="draft-autosave")

    def _fire(self) -> None:
        self._timer = None
        if self._dirty_since is None:
            return
        seq, snapshot = self.capture()
        started = self._dirty_since
        self._dirty_since = None
        self._in_flight = True
        self._flight_started = started
        self.host.run_worker(
            lambda: self._save_in_thread(seq, snapshot),
            thread=True,
            group="draft-autosave",
            exit_on_error=False,
            name="save draft",
        )

    def _save_in_thread(self, seq: int, snapshot: DraftSnapshot) -> None:
        try:
            revision = self.save_blocking(seq, snapshot)
        except Exception as exc:  # any failure is retried; the message is what the rep sees
            log.warning("saving draft %s failed: %s", snapshot.draft_id, exc)
            message = exc.message if isinstance(exc, LuminaError) else f"{exc.__class__.__name__}: {exc}"
            self.host.post_message(DraftSaveFailed(snapshot.draft_id, message, self._retry_delay))
            return
        self.host.post_message(DraftSaved(snapshot.draft_id, revision, self.clock()))

    def on_saved(self, message: DraftSaved) -> None:
        """The host forwards `DraftSaved` here (UI thread)."""
        self._in_flight = False
        self._failed = False
        self._retry_delay = 0.5
        if message.revision:  # 0: an empty new draft, nothing stored yet ("new draft")
            self.saved_at = message.saved_at
        self._arm()

    def on_failed(self, message: DraftSaveFailed) -> None:
        """The host forwards `DraftSaveFailed` here: retry with backoff, keeping the edits dirty."""
        self._in_flight = False
        self._failed = True
        started = self._flight_started if self._flight_started is not None else time.monotonic()
        self._dirty_since = started if self._dirty_since is None else min(self._dirty_since, started)
        self._arm()
        self._retry_delay = min(self._retry_delay * 2, RETRY_CAP_SECONDS)

    # ------------------------------------------------------------------ any thread

    def save_blocking(
        self, seq: int, snapshot: DraftSnapshot, *, timeout: float = 30.0, keep_empty: bool = False
    ) -> int:
        """Store a capture unless a newer one is stored already; returns the stored revision.

        A draft never stored and still empty is not stored (revision 0) unless `keep_empty`: an AI
        call or a send on it asks for the draft itself, so it must exist.
        """
        if not self._lock.acquire(timeout=timeout):
            raise TimeoutError("another save of this draft did not finish")
        try:
            if seq < self._saved_seq:
                return self._revision
            if self._saved is None and self._revision == 0 and not keep_empty and not snapshot.has_content:
                self._saved_seq = seq
                return 0
            if snapshot == self._saved:
                self._saved_seq = seq
                return self._revision
            revision = self._store(snapshot, self._revision + 1)
            self._revision = revision
            self._saved = snapshot
            self._saved_seq = seq
            return revision
        finally:
            self._lock.release()

    def _store(self, snapshot: DraftSnapshot, revision: int) -> int:
        from lumina_tui.services import drafts

        def save(rev: int) -> drafts.SaveResult:
            return drafts.save(
                self.db,
                self.actor,
                snapshot.draft_id,
                rev,
                subject=snapshot.subject,
                body=snapshot.body,
                prospect_id=snapshot.prospect_id,
                template_id=snapshot.template_id,
                account_id=snapshot.account_id,
                tone=snapshot.tone,
            )

        try:
            result = save(revision)
        except ConflictError as exc:
            # Someone else (the CLI, another window) stored this revision number: what is on this
            # screen is what the rep is looking at, so it goes in as the next revision.
            stored = int(exc.details.get("stored_revision", revision))
            result = save(max(stored, revision) + 1)
        if result.outcome == "ignored_older":
            result = save(result.stored_revision + 1)
        return result.draft.revision
