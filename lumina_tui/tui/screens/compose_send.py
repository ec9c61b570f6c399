"""The composer's send flow: save, review (Enter sends), queue, the undo banner, undo.

Mixed into `ComposeScreen`. The review (and its idempotency key) is built off the event loop after
the draft is saved; the same draft revision reviewed again keeps its key, so a retry can never send
twice; Send is disabled while a send is in flight; undo cancels inside the window and brings the
draft back as an editable copy.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from textual import work
from textual.widgets import Static

from lumina_tui.services.errors import LuminaError
from lumina_tui.tui.messages import ReviewReady, SendFailed, SendQueued, SendUndone, UndoFailed, error_text
from lumina_tui.tui.widgets.draft_autosave import DraftSnapshot
from lumina_tui.tui.widgets.score_card import ScoreCard

SLOW_SEND_SECONDS = 0.15


class ComposeSend:
    """Sending for `ComposeScreen`."""

    # ================================================================== send

    def action_send(self) -> None:
        if self.read_only:
            self.explain_read_only()
            return
        if self._send_in_flight or self.autosave is None:
            self.app.bell()
            return
        self._send_in_flight = True
        self.refresh_bindings()
        seq, snapshot = self.autosave.capture()
        body = snapshot.body
        claims = sorted({claim for claim in self._accepted_claims if claim and claim in body})
        warnings = [f"Unsupported claim from an accepted AI suggestion: “{claim}”" for claim in claims]
        score_card = self.query_one(ScoreCard)
        score = score_card.score if score_card.revision == self.autosave.revision else None
        self._build_review(seq, snapshot, warnings, score)

    @work(thread=True, exclusive=True, group="send", exit_on_error=False)
    def _build_review(self, seq: int, snapshot: DraftSnapshot, warnings: list[str], score: Any) -> None:
        runtime = self.runtime
        autosave = self.autosave
        assert autosave is not None
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
            self.post_message(SendFailed(f"Could not prepare the send: {error_text(exc)}", retryable=True))
            return
        self.post_message(ReviewReady(review))

    def on_review_ready(self, message: ReviewReady) -> None:
        from lumina_tui.tui.screens.send_review import SendReviewScreen

        review = message.review
        last = self._last_review
        if last is not None and last.draft_id == review.draft_id and last.revision == review.revision:
            # The same draft revision reviewed again (a retry): the same key, so it cannot go twice.
            review.idempotency_key = last.idempotency_key
        self._last_review = review
        self.app.push_screen(SendReviewScreen(review), lambda ok: self._review_closed(review, bool(ok)))

    def _review_closed(self, review: Any, confirmed: bool) -> None:
        if not confirmed:
            self._send_in_flight = False
            self.refresh_bindings()
            self.body.focus()
            return
        self.body.read_only = True
        self.subject.disabled = True
        # A send is stored in a few tens of ms; "Queuing…" shows only if this one takes longer, so
        # the usual first frame after Enter is already the "Queued" banner.
        self.set_timer(SLOW_SEND_SECONDS, self._still_queuing, name="still-queuing")
        self._do_send(review, list(self._accepted_ids))

    def _still_queuing(self) -> None:
        if self._send_in_flight:
            self._show_banner("Queuing…")

    @work(thread=True, exclusive=True, group="send", exit_on_error=False)
    def _do_send(self, review: Any, accepted_ids: list[str]) -> None:
        runtime = self.runtime
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
            self.post_message(SendFailed(error_text(exc), retryable))
            return
        self.post_message(SendQueued(result.email, result.created))

    def on_send_queued(self, message: SendQueued) -> None:
        email = message.email
        self._send_in_flight = False
        self._last_review = None
        sent_draft = self.draft_id
        self._pending_send = {"email_id": email.id, "send_after": email.send_after, "draft_id": sent_draft}
        if self.autosave is not None:
            self.autosave.cancel()
        self._show_countdown()
        # The sent draft is frozen; a fresh one starts for the next email, right after the frame
        # that shows the banner (resetting every widget is most of that frame's work otherwise).
        self.call_after_refresh(self._start_after_send)

    def _start_after_send(self) -> None:
        self.open_draft(None)
        self.body.focus()
        self.refresh_bindings()

    def on_send_failed(self, message: SendFailed) -> None:
        self._send_in_flight = False
        if not self.read_only:
            self.body.read_only = False
            self.subject.disabled = False
        hint = ""
        if message.retryable:
            hint = f" — {self.key_of('send')} to try again (same send, it cannot go twice)"
        self._show_banner(f"Not sent: {message.message}{hint}", error=True)
        self.refresh_bindings()

    def _undo_key(self) -> str:
        return str(self.key_of("undo_send"))

    def _show_countdown(self) -> None:
        pending = self._pending_send
        if pending is None:
            return
        send_after = pending["send_after"]
        remaining = (send_after - datetime.now(UTC).replace(tzinfo=None)).total_seconds()
        if remaining > 0:
            self._show_banner(f"Queued — sending in {max(1, round(remaining))} s · {self._undo_key()} undo")
        else:
            self._pending_send = None
            self._show_banner("Handed to the worker — the outbox (f4) shows its progress.")
            self.set_timer(6, self._hide_banner, name="hide-banner")
            self.refresh_bindings()

    def _show_banner(self, text: str, *, error: bool = False) -> None:
        banner = self.query_one("#send-banner", Static)
        banner.update(text)
        banner.set_class(error, "-error")
        banner.display = True

    def _hide_banner(self) -> None:
        if self._pending_send is None:
            self.query_one("#send-banner", Static).display = False

    def seconds_until_send(self) -> float | None:
        """Seconds left in the undo window of the email just queued; None when there is none."""
        pending = self._pending_send
        if pending is None:
            return None
        remaining = (pending["send_after"] - datetime.now(UTC).replace(tzinfo=None)).total_seconds()
        return remaining if remaining > 0 else None

    def action_undo_send(self) -> None:
        self.undo_send_then(None)

    def undo_send_then(self, then: Callable[[], None] | None) -> None:
        """Cancel the queued email; once it is cancelled (and its draft is back), run `then`."""
        pending = self._pending_send
        if pending is None:
            return
        self._after_undo = then
        self._show_banner("Cancelling…")
        self._undo_send(pending["email_id"])

    @work(thread=True, exclusive=True, group="undo", exit_on_error=False)
    def _undo_send(self, email_id: str) -> None:
        runtime = self.runtime
        try:
            from lumina_tui.services import sending

            result = sending.cancel(runtime.db, runtime.actor, email_id)
        except Exception as exc:
            self.post_message(UndoFailed(error_text(exc)))
            return
        self.post_message(SendUndone(email_id, result.draft_id))

    def on_send_undone(self, message: SendUndone) -> None:
        self._pending_send = None
        then, self._after_undo = self._after_undo, None

        def reopen() -> None:
            self._open_by_id(message.draft_id)
            if then is not None:
                then()

        self.flush_current_then(reopen)
        self._show_banner("Cancelled — nothing was sent; your draft is back.")
        self.set_timer(6, self._hide_banner, name="hide-banner")
        self.refresh_bindings()

    def on_undo_failed(self, message: UndoFailed) -> None:
        self._pending_send = None
        self._after_undo = None  # the email went: the rep stays to read why
        self._show_banner(f"Too late to undo: {message.message}", error=True)
        self.refresh_bindings()
