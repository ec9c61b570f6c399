"""The AI in the composer: requests (personalize, rewrite, tone, automatic), the answer on show,
the rep's decision on it (accept, reject, undo), the feedback, and the score.

`SuggestionSession` owns that state; the screen (its `SuggestionHost`) owns the glow panel and the
score card. The rules it keeps (docs/invariants.md):
- every request saves the draft first and names the revision it read; it runs in an exclusive
  thread worker, so a new request replaces the running one and the editor stays interactive; an
  answer to a replaced request (an older request number) is dropped;
- the AI only proposes: a suggestion waits in the panel until the rep accepts it (one undoable edit)
  or rejects it; an edit after it makes it stale (`hash_draft` mismatch), and a stale one is applied
  only after a confirm;
- a personalize starts by itself only after a meaningful context change (`triggers.py`), judged at a
  typing pause against the basis: what the last suggestion was made for.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from textual.message import Message
from textual.screen import Screen

from lumina_tui.services.errors import LuminaError, StaleRevisionError
from lumina_tui.tui.compose import reads
from lumina_tui.tui.messages import ScoreArrived, ScoreFailed, SuggestionArrived, SuggestionFailed, error_text
from lumina_tui.tui.screens.dialogs import ChoiceDialog, ConfirmDialog
from lumina_tui.tui.triggers import COMMON_INSTRUCTIONS, SuggestionBasis, is_meaningful_change
from lumina_tui.tui.widgets.draft_autosave import DraftAutosave, DraftSnapshot

if TYPE_CHECKING:
    from lumina_tui.ai.models import Score, Suggestion
    from lumina_tui.services.runtime import Runtime

log = logging.getLogger(__name__)

#: An AI call that meets a newer stored revision asks again about what is stored now, this often.
STALE_REVISION_RETRIES = 3
#: How long the panel says "applied" before it goes back to idle.
APPLIED_SECONDS = 1.2
#: A stale suggestion is diffed again against the draft after this much quiet.
REDIFF_SECONDS = 0.5


@dataclass(frozen=True)
class PanelEdits:
    """What accepting applies: the panel's body (edited there or not) and its subject."""

    body: str | None
    was_edited: bool
    subject: str | None


class Stoppable(Protocol):
    def stop(self) -> Any: ...


class SuggestionHost(Protocol):
    """What `SuggestionSession` needs from the screen."""

    @property
    def runtime(self) -> Runtime: ...

    @property
    def read_only(self) -> bool: ...

    @property
    def autosave(self) -> DraftAutosave | None: ...

    @property
    def prospect_id(self) -> str | None: ...

    @property
    def draft_id(self) -> str: ...

    def screen_text(self) -> tuple[str, str, float]:
        """(subject, body, tone) as the widgets show them now."""

    def current_hash(self) -> str:
        """`hash_draft` of what is on screen."""

    def clock(self) -> float: ...

    def run_service(
        self, job: Callable[[], Message | None], *, group: str, exclusive: bool = True
    ) -> None: ...

    def set_timer(
        self, delay: float, callback: Callable[[], Any], *, name: str | None = None
    ) -> Stoppable: ...

    def key_of(self, action: str) -> str: ...

    def key_name(self, key: str) -> str: ...

    def explain_read_only(self) -> None: ...

    def ask(self, screen: Screen[Any], answered: Callable[[Any], None]) -> None: ...

    def show_glow(self, state: str, suggestion: Suggestion | None) -> None:
        """The panel's glow, the status line's AI state and which keys the footer offers."""

    def show_ai_note(self, text: str, *, error: bool = False) -> None:
        """A note in the panel instead of a suggestion."""

    def clear_ai_panel(self, note: str) -> None: ...

    def show_suggestion(self, suggestion: Suggestion) -> None:
        """The suggestion, diffed against the draft on screen."""

    def show_suggestion_age(self, seconds: float) -> None: ...

    def show_rediff(self, body: str, ops: list[Any]) -> None: ...

    def panel_edits(self) -> PanelEdits: ...

    def suggested_body(self) -> str | None: ...

    def replace_text(
        self, subject: str | None, body: str | None, *, suggestion_id: str | None = None
    ) -> None:
        """Replace the subject (None: keep it) and the body as one undoable edit."""

    def open_drawer(self) -> None:
        """At 80 columns the panel is a drawer: open it (a suggestion arrived)."""

    def close_drawer(self) -> None: ...

    def when_typing_pauses(self, update: Callable[[], object]) -> None: ...

    def settle_memory_soon(self) -> None: ...

    def focus_body(self) -> None: ...

    def show_score_pending(self) -> None: ...

    def show_score(self, score: Score, revision: int) -> None: ...

    def show_score_error(self, text: str) -> None: ...

    def shown_score(self) -> tuple[Any, int]:
        """The score on the card and the revision it is about."""


def ask_ai(
    runtime: Runtime,
    autosave: DraftAutosave,
    request_id: int,
    operation: str,
    seq: int,
    snapshot: DraftSnapshot,
    tone: float | None,
    instruction: str | None,
) -> Message:
    """Thread worker: save the captured draft, ask the AI about that revision, return the answer."""
    try:
        from lumina_tui.services import ai as ai_service  # 0.5 s of imports: not before the first ask

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
        return SuggestionFailed(request_id, error_text(exc))
    return SuggestionArrived(request_id, suggestion)


def score_draft(
    runtime: Runtime,
    autosave: DraftAutosave,
    request_id: int,
    seq: int,
    snapshot: DraftSnapshot,
    read_only: bool,
) -> Message:
    """Thread worker: save the captured draft (unless sent), score what is stored."""
    try:
        from lumina_tui.services import ai as ai_service

        revision = autosave.revision if read_only else autosave.save_blocking(seq, snapshot, keep_empty=True)
        score = ai_service.score(runtime.db, runtime.actor, snapshot.draft_id)
    except Exception as exc:
        return ScoreFailed(request_id, error_text(exc))
    return ScoreArrived(request_id, score, revision)


def record_feedback(
    runtime: Runtime, suggestion: Suggestion, action: str, note: str | None, draft_id: str
) -> None:
    """Thread worker: the rep's decision, for learning later (with the tone and the kind of request
    it answered); a failure never bothers the rep."""
    suggestion_id = suggestion.suggestion_id
    try:
        from lumina_tui.services import ai as ai_service

        ai_service.feedback(
            runtime.db,
            runtime.actor,
            suggestion_id,
            action,
            note=note,
            draft_id=draft_id,
            tone=suggestion.tone,
            kind=suggestion.operation,
        )
    except Exception as exc:
        log.warning("feedback %s on %s (draft %s) failed: %s", action, suggestion_id, draft_id, exc)


class SuggestionSession:
    """The AI's side of the open draft; see the module docstring."""

    def __init__(self, host: SuggestionHost) -> None:
        self.host = host
        #: The number of the latest request; an answer to an older one is dropped.
        self.request_number = 0
        self.suggestion: Suggestion | None = None
        self.glow_state = "idle"
        self.suggested_at = 0.0
        #: What the last suggestion was made for (automatic requests compare against it).
        self.basis = SuggestionBasis(None, "", "")
        self._asked_about = SuggestionBasis(None, "", "")
        #: Accepted suggestions still in the draft (a send names them) and their unsupported claims.
        self.accepted_ids: list[str] = []
        self.accepted_claims: list[str] = []
        #: An automatic personalize is due at the next typing pause.
        self.auto_due = False
        self.score_request = 0
        self._rediff_timer: Stoppable | None = None

    def _context(self) -> SuggestionBasis:
        subject, body, _tone = self.host.screen_text()
        return SuggestionBasis(self.host.prospect_id, subject, body)

    def _set_glow(self, state: str) -> None:
        self.glow_state = state
        self.host.show_glow(state, self.suggestion)

    def idle_note(self) -> str:
        keys = self.host.key_of
        return f"Press {keys('personalize')} to personalize, {keys('rewrite')} to rewrite."

    def reset(self, context: SuggestionBasis) -> None:
        """Another draft is open: nothing proposed, nothing accepted, its text is the basis."""
        self._drop(self.idle_note())
        self.accepted_ids = []
        self.accepted_claims = []
        self.basis = context

    def _drop(self, note: str) -> None:
        self.suggestion = None
        self.host.clear_ai_panel(note)
        self._set_glow("idle")
        self.host.close_drawer()

    def tick(self) -> None:
        if self.suggestion is not None:
            self.host.show_suggestion_age(max(0.0, self.host.clock() - self.suggested_at))

    # ------------------------------------------------------------------ requests

    def personalize(self, *, automatic: bool = False) -> int | None:
        return self.request("personalize", tone=self.host.screen_text()[2], automatic=automatic)

    def rewrite(self) -> None:
        """Ask how (common instructions, or the rep's own), then rewrite."""
        if self.host.read_only:
            self.host.explain_read_only()
            return
        choices = [(text, text) for text in COMMON_INSTRUCTIONS]
        self.host.ask(
            ChoiceDialog("Rewrite — how?", choices, free_text="type an instruction, or ↓ for common ones"),
            self._rewrite_with,
        )

    def _rewrite_with(self, instruction: str | None) -> None:
        if instruction:
            self.request("rewrite", instruction=instruction)

    def request(
        self,
        operation: str,
        *,
        tone: float | None = None,
        instruction: str | None = None,
        automatic: bool = False,
    ) -> int | None:
        """Start an AI request (replacing any running one); returns its request number."""
        if self.host.read_only:
            if not automatic:
                self.host.explain_read_only()
            return None
        autosave = self.host.autosave
        if autosave is None:
            return None
        self.request_number += 1
        request_id = self.request_number
        seq, snapshot = autosave.capture()
        self._asked_about = SuggestionBasis(snapshot.prospect_id, snapshot.subject, snapshot.body)
        self.suggestion = None
        what = "Rewriting" if operation == "rewrite" else "Personalizing"
        why = " (the draft changed)" if automatic else ""
        self.host.show_ai_note(f"{what}{why}… keep typing: nothing changes until you accept.")
        self._set_glow("thinking")
        runtime = self.host.runtime
        self.host.run_service(
            lambda: ask_ai(runtime, autosave, request_id, operation, seq, snapshot, tone, instruction),
            group="ai",
        )
        return request_id

    def arrived(self, message: SuggestionArrived) -> None:
        if message.request_id != self.request_number:
            return  # an answer to a request that a newer one replaced
        suggestion = message.suggestion
        self.suggestion = suggestion
        self.suggested_at = self.host.clock()
        self.basis = self._asked_about
        self.host.show_suggestion(suggestion)
        fresh = self.host.current_hash() == suggestion.input_hash
        self._set_glow("suggestion_ready" if fresh else "stale")
        self.host.open_drawer()
        self.host.settle_memory_soon()

    def failed(self, message: SuggestionFailed) -> None:
        if message.request_id != self.request_number:
            return
        self.suggestion = None
        self._set_glow("idle")
        self.host.show_ai_note(
            f"AI unavailable: {message.message}\n"
            f"Typing and sending are not affected. {self.host.key_of('personalize')} to try again.",
            error=True,
        )

    def maybe_auto_personalize(self) -> None:
        """At a typing pause: personalize by itself if the context changed meaningfully."""
        self.auto_due = False
        if self.host.read_only or self.glow_state in ("thinking", "suggestion_ready"):
            return
        if is_meaningful_change(self.basis, self._context()):
            self.personalize(automatic=True)

    # ------------------------------------------------------------------ staleness

    def check_stale(self) -> None:
        """After an edit: a suggestion made for other text is stale (and is diffed again later)."""
        if self.suggestion is None or self.glow_state != "suggestion_ready":
            return
        if self.host.current_hash() != self.suggestion.input_hash:
            self._set_glow("stale")
            self._rediff_later()

    def context_changed(self) -> None:
        """The prospect changed: a suggestion on show was made for someone else."""
        if self.suggestion is not None and self.glow_state == "suggestion_ready":
            self._set_glow("stale")

    def _rediff_later(self) -> None:
        if self._rediff_timer is not None:
            self._rediff_timer.stop()
        self._rediff_timer = self.host.set_timer(REDIFF_SECONDS, self._rediff_now, name="rediff")

    def _rediff_now(self) -> None:
        self._rediff_timer = None
        suggested = self.host.suggested_body()
        if self.suggestion is not None and suggested is not None:
            body = self.host.screen_text()[1]
            request_id = self.request_number
            self.host.run_service(lambda: reads.rediff(body, suggested, request_id), group="diff")

    def rediffed(self, message: reads.Rediffed) -> None:
        self.host.when_typing_pauses(lambda: self._show_rediff(message))

    def _show_rediff(self, message: reads.Rediffed) -> None:
        current = message.request_id == self.request_number and self.suggestion is not None
        if current and message.body == self.host.screen_text()[1]:
            self.host.show_rediff(message.body, message.ops)
            self.host.settle_memory_soon()

    # ------------------------------------------------------------------ the rep's decision

    def accept(self) -> None:
        suggestion = self.suggestion
        if suggestion is None or self.host.read_only:
            return
        if self.glow_state == "stale" or self.host.current_hash() != suggestion.input_hash:
            self._set_glow("stale")
            self.host.ask(
                ConfirmDialog(
                    "Apply a stale suggestion?",
                    "The draft changed after this suggestion was made; applying it replaces your newer "
                    "text with the suggestion. Enter applies it, Esc keeps your draft.",
                ),
                lambda ok: self._apply(suggestion) if ok else None,
            )
            return
        self._apply(suggestion)

    def _apply(self, suggestion: Suggestion) -> None:
        """Apply as one undoable edit, save, record feedback off the UI path; glow applied → idle."""
        if suggestion is not self.suggestion:
            return
        edits = self.host.panel_edits()
        self.suggestion = None  # first, so the edits below are not seen as making it stale
        self.host.replace_text(edits.subject, edits.body, suggestion_id=suggestion.suggestion_id)
        self.accepted_ids.append(suggestion.suggestion_id)
        self.accepted_claims.extend(claim.text for claim in suggestion.unsupported_claims)
        self.basis = self._context()
        self.auto_due = False
        self.host.clear_ai_panel(
            f"Applied. {self.host.key_name('ctrl+z')} undoes it; "
            f"{self.host.key_of('personalize')} for another suggestion."
        )
        self._set_glow("applied")
        self.host.close_drawer()
        self.host.set_timer(APPLIED_SECONDS, self._applied_done, name="glow-applied")
        autosave = self.host.autosave
        if autosave is not None:
            autosave.save_soon()
        self.host.focus_body()
        note = "edited in the panel before accepting" if edits.was_edited else None
        self._feedback(suggestion, "edited" if edits.was_edited else "accepted", note)

    def _applied_done(self) -> None:
        if self.glow_state == "applied":
            self._set_glow("idle")

    def reject(self) -> bool:
        """Reject the suggestion on show; False when there is none."""
        suggestion = self.suggestion
        if suggestion is None:
            return False
        self._drop(f"Rejected. {self.host.key_of('personalize')} for another suggestion.")
        self.basis = self._context()
        self.auto_due = False
        self.host.focus_body()
        self._feedback(suggestion, "rejected", None)
        return True

    def replacement_undone(self, suggestion_id: str | None) -> None:
        """ctrl+z took an accepted suggestion out of the draft: it is no longer "applied" (nor
        sent as accepted), and the panel stops saying so."""
        if suggestion_id is None or suggestion_id not in self.accepted_ids:
            return
        body = self.host.screen_text()[1]
        self.accepted_ids.remove(suggestion_id)
        self.accepted_claims = [claim for claim in self.accepted_claims if claim in body]
        self.basis = self._context()
        if self.suggestion is None:
            self.host.clear_ai_panel(
                f"Undone: your text is back. {self.host.key_of('personalize')} for another suggestion."
            )
            self._set_glow("idle")

    def claims_in(self, body: str) -> list[str]:
        """The accepted suggestions' unsupported claims still in `body` (the send review warns)."""
        return sorted({claim for claim in self.accepted_claims if claim and claim in body})

    def _feedback(self, suggestion: Suggestion, action: str, note: str | None) -> None:
        runtime, draft_id = self.host.runtime, self.host.draft_id

        def record() -> None:
            record_feedback(runtime, suggestion, action, note, draft_id)

        self.host.run_service(record, group="feedback", exclusive=False)

    # ------------------------------------------------------------------ score

    def request_score(self, *, automatic: bool) -> None:
        autosave = self.host.autosave
        if autosave is None:
            return
        if automatic and not self.host.screen_text()[1].strip():
            return
        self.score_request += 1
        request_id = self.score_request
        seq, snapshot = autosave.capture()
        if not automatic:
            self.host.show_score_pending()
        runtime, read_only = self.host.runtime, self.host.read_only
        self.host.run_service(
            lambda: score_draft(runtime, autosave, request_id, seq, snapshot, read_only), group="score"
        )

    def score_arrived(self, message: ScoreArrived) -> None:
        if message.request_id == self.score_request:

            def show() -> None:
                self.host.show_score(message.score, message.revision)
                self.host.settle_memory_soon()

            self.host.when_typing_pauses(show)

    def score_failed(self, message: ScoreFailed) -> None:
        if message.request_id == self.score_request:
            self.host.show_score_error(message.message)
