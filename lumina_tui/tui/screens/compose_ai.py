"""The composer's AI requests: personalize, rewrite, tone, automatic personalize, and the score.

Mixed into `ComposeScreen` (it uses the screen's widgets, autosave and glow). Every request saves
the draft first and names the revision it read; the call itself runs in an exclusive thread worker,
so a new request replaces the running one and the editor stays interactive; an answer to a request
that was replaced is dropped, and one whose input no longer matches the draft arrives stale.
"""

from __future__ import annotations

import logging
from typing import Any

from textual import work
from textual.worker import get_current_worker

from lumina_tui.services.errors import LuminaError, StaleRevisionError
from lumina_tui.tui.messages import (
    ScoreArrived,
    ScoreFailed,
    SuggestionArrived,
    SuggestionFailed,
    error_text,
)
from lumina_tui.tui.screens.dialogs import ChoiceDialog
from lumina_tui.tui.triggers import COMMON_INSTRUCTIONS, Context, is_meaningful_change
from lumina_tui.tui.widgets.draft_autosave import DraftSnapshot
from lumina_tui.tui.widgets.score_card import ScoreCard
from lumina_tui.tui.widgets.tone_slider import ToneSlider

log = logging.getLogger(__name__)

STALE_REVISION_RETRIES = 3


class ComposeAI:
    """AI requests and scoring for `ComposeScreen`."""

    # ================================================================== AI requests

    def action_personalize(self) -> None:
        self.request_ai("personalize", tone=self.query_one(ToneSlider).value)

    def action_rewrite(self) -> None:
        if self.read_only:
            self.explain_read_only()
            return
        choices = [(text, text) for text in COMMON_INSTRUCTIONS]
        self.app.push_screen(
            ChoiceDialog("Rewrite — how?", choices, free_text="type an instruction, or ↓ for common ones"),
            self._rewrite_with,
        )

    def _rewrite_with(self, instruction: str | None) -> None:
        if instruction:
            self.request_ai("rewrite", instruction=instruction)

    def action_tone(self) -> None:
        if self.read_only:
            self.explain_read_only()
            return
        self.add_class("-tone-open")
        self.query_one(ToneSlider).focus()

    def on_tone_slider_changed(self, _event: ToneSlider.Changed) -> None:
        if self.autosave is not None and not self.read_only:
            self.autosave.edited()  # the tone is kept with the draft
        if self._tone_timer is not None:
            self._tone_timer.stop()
        self._tone_timer = self.set_timer(
            self.settings.composer.tone_settle_ms / 1000, self._tone_settled, name="tone-settle"
        )

    def _tone_settled(self) -> None:
        self._tone_timer = None
        self.request_ai("personalize", tone=self.query_one(ToneSlider).value)

    def on_descendant_blur(self, event: Any) -> None:
        if isinstance(event.widget, ToneSlider):
            self.remove_class("-tone-open")

    def request_ai(
        self,
        operation: str,
        *,
        tone: float | None = None,
        instruction: str | None = None,
        automatic: bool = False,
    ) -> int | None:
        """Start an AI request (cancelling any running one); returns its request number."""
        if self.read_only:
            if not automatic:
                self.explain_read_only()
            return None
        if self.autosave is None:
            return None
        self._ai_request += 1
        request_id = self._ai_request
        seq, snapshot = self.autosave.capture()
        self._pending_basis = Context(snapshot.prospect_id, snapshot.subject, snapshot.body)
        self.suggestion = None
        self.panel.view.clear()
        what = "Rewriting" if operation == "rewrite" else "Personalizing"
        why = " (the draft changed)" if automatic else ""
        self.panel.show_note(f"{what}{why}… keep typing: nothing changes until you accept.")
        self._set_glow("thinking")
        self._run_ai(request_id, operation, seq, snapshot, tone, instruction)
        return request_id

    @work(thread=True, exclusive=True, group="ai", exit_on_error=False)
    def _run_ai(
        self,
        request_id: int,
        operation: str,
        seq: int,
        snapshot: DraftSnapshot,
        tone: float | None,
        instruction: str | None,
    ) -> None:
        worker = get_current_worker()
        runtime = self.runtime
        autosave = self.autosave
        assert autosave is not None
        try:
            from lumina_tui.services import ai as ai_service

            revision = autosave.save_blocking(seq, snapshot, keep_empty=True)
            for _attempt in range(STALE_REVISION_RETRIES):
                try:
                    if operation == "rewrite":
                        suggestion = ai_service.rewrite(
                            runtime.db,
                            runtime.actor,
                            snapshot.draft_id,
                            instruction or "",
                            revision=revision,
                            settings=runtime.settings,
                        )
                    else:
                        suggestion = ai_service.personalize(
                            runtime.db,
                            runtime.actor,
                            snapshot.draft_id,
                            tone=tone,
                            revision=revision,
                            settings=runtime.settings,
                        )
                    break
                except StaleRevisionError:
                    # An autosave of newer typing landed in between: ask about what is stored now.
                    revision = autosave.revision
            else:
                raise StaleRevisionError("the draft kept changing; try again")
        except Exception as exc:
            if not isinstance(exc, LuminaError):
                log.warning("AI %s failed: %r", operation, exc)
            if not worker.is_cancelled:
                self.post_message(SuggestionFailed(request_id, error_text(exc)))
            return
        if not worker.is_cancelled:
            self.post_message(SuggestionArrived(request_id, suggestion))

    def on_suggestion_arrived(self, message: SuggestionArrived) -> None:
        if message.request_id != self._ai_request:
            return  # an answer to a request that a newer one replaced
        suggestion = message.suggestion
        self.suggestion = suggestion
        self._suggestion_at = self.clock()
        self._basis = getattr(self, "_pending_basis", self._basis)
        self.panel.age = 0.0
        self.panel.show_suggestion(suggestion, self.subject.value, self.body.text)
        fresh = self.current_hash() == suggestion.input_hash
        self._set_glow("suggestion_ready" if fresh else "stale")
        self._open_drawer()
        self._settle_memory_soon()

    def on_suggestion_failed(self, message: SuggestionFailed) -> None:
        if message.request_id != self._ai_request:
            return
        self.suggestion = None
        self.panel.view.clear()
        self._set_glow("idle")
        self.panel.show_note(
            f"AI unavailable: {message.message}\n"
            f"Typing and sending are not affected. {self.key_of('personalize')} to try again.",
            error=True,
        )
        self.status.ai = "idle"

    @work(thread=True, exclusive=True, group="diff", exit_on_error=False)
    def _rediff(self, body: str, suggested: str, request_id: int) -> None:
        from lumina_tui.ai.diff import word_diff

        ops = word_diff(body, suggested)
        self.app.call_from_thread(self._show_rediff, body, ops, request_id)

    def _show_rediff(self, body: str, ops: list[Any], request_id: int) -> None:
        self.when_typing_pauses(lambda: self._apply_rediff(body, ops, request_id))

    def _apply_rediff(self, body: str, ops: list[Any], request_id: int) -> None:
        if request_id == self._ai_request and self.suggestion is not None and body == self.body.text:
            self.panel.view.show_diff(body, ops)
            self.panel.view.show_subject(self.subject.value)
            self._settle_memory_soon()

    def _rediff_later(self) -> None:
        """Re-diff a stale suggestion against the draft once typing pauses (a worker does the diff)."""
        if getattr(self, "_rediff_timer", None) is not None:
            self._rediff_timer.stop()
        self._rediff_timer = self.set_timer(0.5, self._rediff_now, name="rediff")

    def _rediff_now(self) -> None:
        self._rediff_timer = None
        suggested = self.panel.view.suggested_body
        if self.suggestion is not None and suggested is not None:
            self._rediff(self.body.text, suggested, self._ai_request)

    # ================================================================== score

    def action_score(self) -> None:
        # At 80x24 the score card is folded away: ctrl+l shows it as a drawer over the body (Esc or
        # the next keystroke closes it).
        if self.has_class("-narrow"):
            self.remove_class("-drawer-open")
            self.add_class("-score-open")
            self.refresh_bindings()
        self.request_score(automatic=False)

    def request_score(self, *, automatic: bool) -> None:
        if self.autosave is None:
            return
        if automatic and not self.body.text.strip():
            return
        self._score_request += 1
        seq, snapshot = self.autosave.capture()
        if not automatic:
            self.query_one(ScoreCard).show_pending()
        self._run_score(self._score_request, seq, snapshot)

    @work(thread=True, exclusive=True, group="score", exit_on_error=False)
    def _run_score(self, request_id: int, seq: int, snapshot: DraftSnapshot) -> None:
        runtime = self.runtime
        autosave = self.autosave
        assert autosave is not None
        try:
            from lumina_tui.services import ai as ai_service

            if self.read_only:
                revision = autosave.revision
            else:
                revision = autosave.save_blocking(seq, snapshot, keep_empty=True)
            score = ai_service.score(runtime.db, runtime.actor, snapshot.draft_id)
        except Exception as exc:
            self.post_message(ScoreFailed(request_id, error_text(exc)))
            return
        self.post_message(ScoreArrived(request_id, score, revision))

    def on_score_arrived(self, message: ScoreArrived) -> None:
        if message.request_id == self._score_request:
            card = self.query_one(ScoreCard)

            def show() -> None:
                card.show_score(message.score, message.revision)
                self._settle_memory_soon()

            self.when_typing_pauses(show)

    def on_score_failed(self, message: ScoreFailed) -> None:
        if message.request_id == self._score_request:
            self.query_one(ScoreCard).show_error(message.message)

    def _maybe_auto_personalize(self) -> None:
        if not self.settings.composer.auto_personalize or self.read_only:
            return
        if self.glow_state in ("thinking", "suggestion_ready"):
            return
        now = Context(self.prospect_id, self.subject.value, self.body.text)
        if is_meaningful_change(self._basis, now):
            self.request_ai("personalize", tone=self.query_one(ToneSlider).value, automatic=True)
