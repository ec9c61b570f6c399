"""The composer's send: save, review (Enter sends), queue, the undo banner and its countdown, undo.

`SendFlow` owns that state; the screen (its `SendHost`) owns the banner and the editor. The rules it
keeps (docs/invariants.md):
- the review (and its idempotency key) is built off the event loop after the draft is saved; the
  same draft revision reviewed again keeps its key, so a retry can never send twice;
- Send is disabled while a send is in flight (from the key press until it is queued or failed);
  once Enter is pressed the review stays up (nothing to edit, nothing drawn) until the email is
  stored, and comes down in the step that shows "Queued" or why not;
- undo cancels inside the window and brings the draft back as an editable copy;
- a queued email needs a worker to hear its doorbell: after the "Queued" banner the flow asks for
  one (`worker_control.ensure_running`, in a thread); the send service itself starts none.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol, TypedDict

from textual.dom import DOMNode
from textual.message import Message
from textual.screen import Screen

from lumina_tui.services.errors import LuminaError
from lumina_tui.tui.messages import ReviewReady, SendFailed, SendQueued, SendUndone, UndoFailed, error_text
from lumina_tui.tui.widgets.draft_autosave import DraftAutosave, DraftSnapshot

if TYPE_CHECKING:
    from lumina_tui.services.runtime import Runtime
    from lumina_tui.services.send_review import SendReview
    from lumina_tui.tui.screens.send_review import SendReviewScreen

#: A send is stored in a few tens of ms; "Queuing…" shows only if this one takes longer, so the
#: usual first frame after Enter is already the "Queued" banner.
SLOW_SEND_SECONDS = 0.5
#: How long "Handed to the worker" and "Cancelled" stay up.
BANNER_SECONDS = 6.0


class PendingSend(TypedDict):
    """The email just queued, while its undo window is open."""

    email_id: str
    send_after: datetime  # naive UTC, as stored
    draft_id: str


def utc_now() -> datetime:
    """Naive UTC, as the store keeps `send_after`."""
    return datetime.now(UTC).replace(tzinfo=None)


class SendHost(Protocol):
    """What `SendFlow` needs from the screen."""

    @property
    def runtime(self) -> Runtime: ...

    @property
    def read_only(self) -> bool: ...

    @property
    def autosave(self) -> DraftAutosave | None: ...

    @property
    def draft_id(self) -> str: ...

    def run_service(
        self,
        job: Callable[[], Message | None],
        *,
        group: str,
        exclusive: bool = True,
        owner: DOMNode | None = None,
    ) -> None: ...

    def set_timer(self, delay: float, callback: Callable[[], Any], *, name: str | None = None) -> Any: ...

    def ask(self, screen: Screen[Any], answered: Callable[[Any], None]) -> None: ...

    def explain_read_only(self) -> None: ...

    def bell(self) -> None: ...

    def refresh_bindings(self) -> None: ...

    def key_of(self, action: str) -> str: ...

    def show_banner(self, text: str, *, error: bool = False) -> None: ...

    def hide_banner(self) -> None: ...

    def focus_body(self) -> None: ...

    def send_warnings(self, body: str) -> list[str]:
        """Warnings the review adds (unsupported claims of accepted suggestions still in `body`)."""

    def accepted_suggestion_ids(self) -> list[str]: ...

    def shown_score(self) -> tuple[Any, int]:
        """The score on the card and the revision it is about."""

    def sent(self, then: Callable[[], None] | None) -> None:
        """The draft is queued: freeze it, start a fresh one after the frame that shows the banner,
        then run `then`."""

    def reopen(self, draft_id: str, after: Callable[[], None] | None) -> None:
        """Open `draft_id` (the copy a cancelled send brings back); then run `after`."""


def build_review(
    runtime: Runtime,
    autosave: DraftAutosave,
    seq: int,
    snapshot: DraftSnapshot,
    warnings: list[str],
    score: Any,
) -> Message:
    """Thread worker: save the captured draft, then build the review of that revision."""
    try:
        from lumina_tui.services import send_review

        revision = autosave.save_blocking(seq, snapshot, keep_empty=True)
        review = send_review.build_review(
            runtime.db,
            runtime.actor,
            runtime.settings,
            snapshot.draft_id,
            extra_warnings=warnings,
            score=score if score is not None and revision == autosave.revision else None,
        )
    except Exception as exc:
        return SendFailed(f"Could not prepare the send: {error_text(exc)}", retryable=True)
    return ReviewReady(review)


def prepare_to_send(runtime: Runtime, review: SendReview) -> None:
    """Thread worker, while the rep reads the review: open the queue the send will ring and rehearse
    the send's checks on this draft, so that Enter to "Queued" pays for neither (issue 10 point 9).
    Nothing comes back."""
    from lumina_tui.services import sending

    sending.prepare_to_send(
        runtime.settings,
        runtime.db,
        runtime.actor,
        draft_id=review.draft_id,
        idempotency_key=review.idempotency_key,
        revision=review.revision,
        from_account=review.account_id,
        to_email=review.to_email,
    )


def queue_send(runtime: Runtime, review: SendReview, accepted_ids: list[str]) -> Message:
    """Thread worker: store the email (with the review's idempotency key)."""
    try:
        from lumina_tui.services import sending

        result = sending.send(
            runtime.db,
            runtime.actor,
            draft_id=review.draft_id,
            idempotency_key=review.idempotency_key,
            from_account=review.account_id,
            to_email=review.to_email,
            revision=review.revision,
            accepted_suggestion_ids=accepted_ids,
            settings=runtime.settings,
        )
    except Exception as exc:
        retryable = not isinstance(exc, LuminaError) or exc.exit_code == 1
        return SendFailed(error_text(exc), retryable)
    return SendQueued(result.email, result.created)


def ensure_worker(runtime: Runtime) -> None:
    """Thread worker: start the sidecar if no worker runs (never raises, never waits)."""
    from lumina_tui.services import worker_control

    worker_control.ensure_running(runtime.settings)


def cancel_send(runtime: Runtime, email_id: str) -> Message:
    """Thread worker: cancel the queued email inside its undo window."""
    try:
        from lumina_tui.services import outbox

        result = outbox.cancel(runtime.db, runtime.actor, email_id)
    except Exception as exc:
        return UndoFailed(error_text(exc))
    return SendUndone(email_id, result.draft_id)


class SendFlow:
    """Review, send and undo for the open draft; see the module docstring."""

    def __init__(self, host: SendHost, *, now: Callable[[], datetime] = utc_now) -> None:
        self.host = host
        self.now = now
        self.in_flight = False
        self.last_review: SendReview | None = None
        self.pending: PendingSend | None = None
        #: The review on screen (None when none is); closed by the send's outcome once confirmed.
        self.review_screen: SendReviewScreen | None = None
        self._after_undo: Callable[[], None] | None = None

    def draft_opened(self) -> None:
        """Another draft: a review of the old one is never reused."""
        self.last_review = None

    # ------------------------------------------------------------------ review and send

    def send(self) -> None:
        if self.host.read_only:
            self.host.explain_read_only()
            return
        autosave = self.host.autosave
        if self.in_flight or autosave is None:
            self.host.bell()
            return
        self.in_flight = True
        self.host.refresh_bindings()
        seq, snapshot = autosave.capture()
        warnings = [
            f"Unsupported claim from an accepted AI suggestion: “{claim}”"
            for claim in self.host.send_warnings(snapshot.body)
        ]
        score, scored_revision = self.host.shown_score()
        score = score if scored_revision == autosave.revision else None
        runtime = self.host.runtime
        self.host.run_service(
            lambda: build_review(runtime, autosave, seq, snapshot, warnings, score), group="send"
        )

    def review_ready(self, message: ReviewReady) -> None:
        from lumina_tui.tui.screens.send_review import SendReviewScreen

        review = message.review
        last = self.last_review
        if last is not None and last.draft_id == review.draft_id and last.revision == review.revision:
            # The same draft revision reviewed again (a retry): the same key, so it cannot go twice.
            review.idempotency_key = last.idempotency_key
        self.last_review = review
        screen = SendReviewScreen(review, on_confirm=lambda: self.confirmed(review))
        self.review_screen = screen
        self.host.ask(screen, lambda ok: self.review_closed(bool(ok)))
        runtime = self.host.runtime
        self.host.run_service(lambda: prepare_to_send(runtime, review), group="prepare-send", owner=screen)

    def confirmed(self, review: SendReview) -> None:
        """Enter in the review: store the email. The review stays up until it is stored (or not):
        `queued` and `failed` close it in the same step that shows the outcome, so the first frame
        after Enter is the "Queued" one, and no frame is drawn while the send runs (issue 10.9)."""
        self.host.set_timer(SLOW_SEND_SECONDS, self._still_queuing, name="still-queuing")
        runtime, accepted = self.host.runtime, list(self.host.accepted_suggestion_ids())
        # The review owns the job (its worker's messages go there, not to the composer under it,
        # which Textual would repaint for each of them); the outcome comes to the composer.
        self.host.run_service(
            lambda: queue_send(runtime, review, accepted), group="send", owner=self.review_screen
        )

    def review_closed(self, confirmed: bool) -> None:
        self.review_screen = None
        if not confirmed:  # Esc: back to the draft, nothing sent
            self.in_flight = False
            self.host.refresh_bindings()
            self.host.focus_body()

    def _close_review(self) -> None:
        """The send's outcome is known: take the review down (with anything opened over it)."""
        screen = self.review_screen
        if screen is None or not screen.is_attached:
            self.review_screen = None
            return
        if screen is not screen.app.screen:
            screen.pop_until_active()  # e.g. help, opened over the review while the send ran
        screen.dismiss(True)

    def _still_queuing(self) -> None:
        if self.in_flight:
            if self.review_screen is not None:
                self.review_screen.show_queuing()
            else:
                self.host.show_banner("Queuing…")

    def queued(self, message: SendQueued) -> None:
        email = message.email
        self.in_flight = False
        self.last_review = None
        self.pending = {"email_id": email.id, "send_after": email.send_after, "draft_id": self.host.draft_id}
        autosave = self.host.autosave
        if autosave is not None:
            autosave.cancel()
        self._close_review()
        self.show_countdown()
        # The draft is frozen now; the screen starts a fresh one after the frame with the banner,
        # and only then asks for a worker (starting a process must not delay that frame).
        self.host.sent(self._after_queued if message.created else None)

    def _after_queued(self) -> None:
        runtime = self.host.runtime
        self.host.run_service(lambda: ensure_worker(runtime), group="worker")

    def failed(self, message: SendFailed) -> None:
        self.in_flight = False
        self._close_review()
        hint = ""
        if message.retryable:
            hint = f" — {self.host.key_of('send')} to try again (same send, it cannot go twice)"
        self.host.show_banner(f"Not sent: {message.message}{hint}", error=True)
        self.host.refresh_bindings()
        self.host.focus_body()

    # ------------------------------------------------------------------ the undo window

    def seconds_until_send(self) -> float | None:
        """Seconds left in the undo window of the email just queued; None when there is none."""
        pending = self.pending
        if pending is None:
            return None
        remaining = (pending["send_after"] - self.now()).total_seconds()
        return remaining if remaining > 0 else None

    def show_countdown(self) -> None:
        """Every second while the window is open: "sending in N s"; then say it went to the worker."""
        pending = self.pending
        if pending is None:
            return
        remaining = (pending["send_after"] - self.now()).total_seconds()
        if remaining > 0:
            undo = self.host.key_of("undo_send")
            self.host.show_banner(f"Queued — sending in {max(1, round(remaining))} s · {undo} undo")
        else:
            self.pending = None
            outbox = self.host.key_of("outbox")
            self.host.show_banner(f"Handed to the worker — the outbox ({outbox}) shows its progress.")
            self.host.set_timer(BANNER_SECONDS, self._hide_banner, name="hide-banner")
            self.host.refresh_bindings()

    def _hide_banner(self) -> None:
        if self.pending is None:
            self.host.hide_banner()

    def undo(self, then: Callable[[], None] | None = None) -> None:
        """Cancel the queued email; once it is cancelled (and its draft is back), run `then`."""
        pending = self.pending
        if pending is None:
            return
        self._after_undo = then
        self.host.show_banner("Cancelling…")
        runtime, email_id = self.host.runtime, pending["email_id"]
        self.host.run_service(lambda: cancel_send(runtime, email_id), group="undo")

    def undone(self, message: SendUndone) -> None:
        self.pending = None
        then, self._after_undo = self._after_undo, None
        self.host.reopen(message.draft_id, then)
        self.host.show_banner("Cancelled — nothing was sent; your draft is back.")
        self.host.set_timer(BANNER_SECONDS, self._hide_banner, name="hide-banner")
        self.host.refresh_bindings()

    def undo_failed(self, message: UndoFailed) -> None:
        self.pending = None
        self._after_undo = None  # the email went: the rep stays to read why
        self.host.show_banner(f"Too late to undo: {message.message}", error=True)
        self.host.refresh_bindings()
