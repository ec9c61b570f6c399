"""The Compose screen (f2): the draft, the prospect, the AI panel, the score and the send.

Everything slow runs in thread workers and reports back with a message (`tui/messages.py`);
keystrokes only change widget state, flip the autosave flag and schedule one "after the frame"
pass that recounts words and checks staleness. The rules it keeps (ARCHITECTURE.md):
- local-first: `DraftAutosave` saves at most `save_interval_ms` after the first unsaved edit, and
  an AI call, a score or a send first saves and then names the revision it read;
- the AI only proposes: a suggestion sits in the glow panel until the rep accepts it (ctrl+o, one
  undoable edit) or rejects it (escape); an edit after it makes it stale (hash_draft mismatch)
  and a stale one is applied only after a confirm;
- a send is reviewed, keyed once per review, disabled while in flight, and undoable in its window.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import shlex
import subprocess
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.events import Resize, ScreenResume, ScreenSuspend
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Button, Input, Label, Select, Static, TextArea
from textual.worker import get_current_worker

from lumina_tui.ai.hashing import hash_draft
from lumina_tui.services import accounts as account_service
from lumina_tui.services import company_data, drafts, preferences, templates
from lumina_tui.services import prospects as prospect_service
from lumina_tui.services.errors import LuminaError, StaleRevisionError
from lumina_tui.tui.bindings import COMPOSE_BINDINGS
from lumina_tui.tui.messages import (
    DraftSaved,
    DraftSaveFailed,
    ReviewReady,
    ScoreArrived,
    ScoreFailed,
    SendFailed,
    SendQueued,
    SendUndone,
    SuggestionArrived,
    SuggestionFailed,
    UndoFailed,
    WorkerStatusRead,
)
from lumina_tui.tui.screens.dialogs import ChoiceDialog, ConfirmDialog
from lumina_tui.tui.triggers import COMMON_INSTRUCTIONS, Context, is_meaningful_change
from lumina_tui.tui.widgets.body_editor import BodyEditor
from lumina_tui.tui.widgets.draft_autosave import DraftAutosave, DraftSnapshot
from lumina_tui.tui.widgets.glow_panel import GlowPanel
from lumina_tui.tui.widgets.key_footer import KeyFooter
from lumina_tui.tui.widgets.prospect_card import ProspectCard, company_name, prospect_name, recipient_line
from lumina_tui.tui.widgets.prospect_picker import ProspectPicker
from lumina_tui.tui.widgets.score_card import ScoreCard
from lumina_tui.tui.widgets.status_bar import StatusBar, save_words
from lumina_tui.tui.widgets.tone_slider import ToneSlider
from lumina_tui.tui.widgets.word_count import WordCount

log = logging.getLogger(__name__)

#: Below this width the prospect card, AI panel and score fold away (UI.md, 80x24).
NARROW_WIDTH = 100
APPLIED_SECONDS = 1.2
WORKER_POLL_TICKS = 3
STALE_REVISION_RETRIES = 3
#: Results that re-lay out the side column (a new score, a re-diff) wait for this much quiet typing.
QUIET_SECONDS = 0.25
AFTER_EDIT_SECONDS = 0.2
#: After this long without a key, the composer tidies memory fully (see `LuminaApp.settle_memory`).
IDLE_SECONDS = 5.0


def _message(exc: BaseException) -> str:
    text = getattr(exc, "message", None) or str(exc) or exc.__class__.__name__
    return str(text)


class ComposeScreen(Screen[None]):
    """One draft at a time; see the module docstring."""

    BINDINGS = COMPOSE_BINDINGS
    HELP_GROUP = "Compose"

    def __init__(self, draft_id: str | None = None) -> None:
        super().__init__()
        self.initial_draft_id = draft_id
        self.draft_id = ""
        self.prospect: Any = None
        self.company: Any = None
        self.template_id: str | None = None
        self.account_id: str | None = None
        self.read_only = False
        self.autosave: DraftAutosave | None = None
        # AI state: the suggestion on show and the request it answers.
        self.suggestion: Any = None
        self.glow_state = "idle"
        self._ai_request = 0
        self._suggestion_at = 0.0
        self._basis = Context(None, "", "")
        self._accepted_ids: list[str] = []
        self._accepted_claims: list[str] = []
        # Scoring.
        self._score_request = 0
        # Sending.
        self._send_in_flight = False
        self._last_review: Any = None
        self._pending_send: dict[str, Any] | None = None
        # Timers and coalescing.
        self._after_edit_pending = False
        self._last_edit = 0.0
        self._pause_timer: Timer | None = None
        self._score_due = False
        self._auto_due = False
        self._tone_timer: Timer | None = None
        self._tick = 0
        self._hash_cache: tuple[tuple[str, str, str | None], str] | None = None
        self._full_settle_due = False

    # ================================================================== layout

    def compose(self) -> ComposeResult:
        yield StatusBar(id="status")
        with Horizontal(id="columns"):
            with Vertical(id="prospect-column"):
                yield ProspectCard(id="prospect-card")
                yield Button("Choose prospect", id="choose-prospect", compact=True)
                yield Select[str]([], prompt="Template", id="template-select", compact=True)
            with Vertical(id="draft-column"):
                with Horizontal(id="from-row", classes="field-row"):
                    yield Label("From:", classes="field-label")
                    yield Select[str]([], prompt="choose an account", id="account-select", compact=True)
                with Horizontal(id="to-row", classes="field-row"):
                    yield Label("To:", classes="field-label")
                    yield Static(recipient_line(None), id="to-line", markup=False)
                with Horizontal(id="subject-row", classes="field-row"):
                    yield Label("Subject:", classes="field-label")
                    yield Input(id="subject", placeholder="Subject", compact=True)
                    yield WordCount(id="word-count")
                yield BodyEditor(id="body")
            with Vertical(id="side-column"):
                yield GlowPanel(id="ai-panel")
                yield ScoreCard(id="score-card")
        yield ToneSlider(id="tone")
        yield Static(id="send-banner", markup=False)
        yield KeyFooter()

    @property
    def runtime(self) -> Any:
        return self.app.runtime  # type: ignore[attr-defined]

    @property
    def settings(self) -> Any:
        return self.runtime.settings

    def clock(self) -> float:
        return self.app.clock()  # type: ignore[attr-defined,no-any-return]

    @property
    def body(self) -> BodyEditor:
        return self.query_one("#body", BodyEditor)

    @property
    def subject(self) -> Input:
        return self.query_one("#subject", Input)

    @property
    def panel(self) -> GlowPanel:
        return self.query_one("#ai-panel", GlowPanel)

    @property
    def status(self) -> StatusBar:
        return self.query_one("#status", StatusBar)

    def on_mount(self) -> None:
        self.app.composer = self  # type: ignore[attr-defined]
        if self.initial_draft_id is None:
            self.initial_draft_id = getattr(self.app, "initial_draft_id", None)
        self.query_one("#send-banner", Static).display = False
        self._load_choices()
        self._open_initial()
        self.set_interval(1.0, self._every_second, name="compose-tick")
        self._poll_worker()
        self.body.focus()

    def on_resize(self, event: Resize) -> None:
        self._apply_width(event.size.width)

    def _apply_width(self, width: int) -> None:
        narrow = width < NARROW_WIDTH
        self.set_class(narrow, "-narrow")
        self.status.narrow = narrow
        self.query_one(KeyFooter).narrow = narrow
        if not narrow:
            self.remove_class("-drawer-open")

    # ================================================================== opening drafts

    def _load_choices(self) -> None:
        """Accounts and templates for the two selectors (small reads, at start and on resume)."""
        runtime = self.runtime
        try:
            accounts = account_service.list_accounts(runtime.db, runtime.actor)
            template_rows = templates.list_templates(runtime.db, runtime.actor)
        except LuminaError as exc:
            self.notify(_message(exc), severity="error")
            return
        self._accounts = accounts
        account_select = self.query_one("#account-select", Select)
        template_select = self.query_one("#template-select", Select)
        with self.prevent(Select.Changed):
            account_select.set_options((f"{a.email} · {account_service.label(a)}", a.id) for a in accounts)
            template_select.set_options((t.name, t.id) for t in template_rows)
            if self.account_id and any(a.id == self.account_id for a in accounts):
                account_select.value = self.account_id
            if self.template_id and any(t.id == self.template_id for t in template_rows):
                template_select.value = self.template_id

    def _default_account_id(self) -> str | None:
        accounts = getattr(self, "_accounts", [])
        try:
            prefs = preferences.get(self.runtime.db, self.runtime.actor)
            if prefs.default_account_id and any(a.id == prefs.default_account_id for a in accounts):
                return str(prefs.default_account_id)
        except LuminaError:
            pass
        return accounts[0].id if accounts else None

    def _open_initial(self) -> None:
        runtime = self.runtime
        draft = None
        try:
            if self.initial_draft_id:
                draft = drafts.get(runtime.db, runtime.actor, self.initial_draft_id)
            else:
                draft = drafts.latest_unsent(runtime.db, runtime.actor)
        except LuminaError as exc:
            self.notify(f"Could not open draft: {_message(exc)}", severity="error", timeout=8)
        try:
            tone = float(preferences.get(runtime.db, runtime.actor).default_tone)
            self.query_one(ToneSlider).value = round(tone, 1)
        except (LuminaError, TypeError, ValueError):
            pass
        self.open_draft(draft)

    def open_draft(self, draft: Any | None, *, prospect_id: str | None = None) -> None:
        """Show a stored draft (or a new one when None); the widgets become its state."""
        if self.autosave is not None:
            self.autosave.cancel()
        runtime = self.runtime
        if draft is None:
            self.draft_id = str(uuid.uuid4())  # client-chosen: saves are idempotent
            subject, body = "", ""
            self.template_id = None
            self.account_id = self.account_id or self._default_account_id()
            pid = prospect_id
            self.read_only = False
            stored = None
            revision = 0
        else:
            self.draft_id = draft.id
            subject, body = draft.subject, draft.body_text
            self.template_id = draft.template_id
            self.account_id = draft.account_id or self._default_account_id()
            pid = draft.prospect_id
            self.read_only = draft.sent_at is not None
            stored = DraftSnapshot(
                draft.id,
                draft.subject,
                draft.body_text,
                draft.prospect_id,
                draft.template_id,
                draft.account_id,
            )
            revision = draft.revision
        self._set_prospect_rows(*self._read_prospect(pid))
        with self.prevent(Input.Changed, TextArea.Changed, Select.Changed):
            self.subject.value = subject
            self.body.load_text(body)
            account_select = self.query_one("#account-select", Select)
            if self.account_id and any(a.id == self.account_id for a in getattr(self, "_accounts", [])):
                account_select.value = self.account_id
            else:
                account_select.clear()
            template_select = self.query_one("#template-select", Select)
            if self.template_id:
                with contextlib.suppress(Exception):
                    template_select.value = self.template_id
            else:
                template_select.clear()
        self.autosave = DraftAutosave(
            self,
            runtime.db,
            runtime.actor,
            self._read_snapshot,
            interval=self.settings.composer.save_interval_ms / 1000,
            clock=self.clock,
            stored_revision=revision,
            stored=stored,
        )
        if draft is None and prospect_id:
            self.autosave.edited()  # a new draft for a chosen prospect is worth keeping
        self.body.read_only = self.read_only
        self.subject.disabled = self.read_only
        self.status.read_only = self.read_only
        self._drop_suggestion("Press ^g to personalize, ^r to rewrite.")
        self._accepted_ids = []
        self._accepted_claims = []
        self._last_review = None
        self._basis = Context(pid, subject, body)
        self.query_one(ScoreCard).revision = -1
        self._hash_cache = None
        self._update_word_count()
        self._refresh_status()
        self.body.move_cursor((0, 0))
        self.refresh_bindings()

    def _read_prospect(self, prospect_id: str | None) -> tuple[Any, Any]:
        if not prospect_id:
            return None, None
        runtime = self.runtime
        try:
            prospect = prospect_service.get(runtime.db, runtime.actor, prospect_id)
            company = company_data.for_prospect(runtime.db, runtime.actor, prospect)
        except LuminaError as exc:
            self.notify(f"Prospect unavailable: {_message(exc)}", severity="warning")
            return None, None
        return prospect, company

    def _set_prospect_rows(self, prospect: Any, company: Any) -> None:
        self.prospect = prospect
        self.company = company
        self.query_one(ProspectCard).show(prospect, company)
        self.query_one("#to-line", Static).update(recipient_line(prospect))
        if prospect is None:
            self.status.who = "Compose"
        else:
            who = prospect_name(prospect)
            org = company_name(prospect, company)
            self.status.who = f"{who} · {org}" if org else who

    @property
    def prospect_id(self) -> str | None:
        return self.prospect.id if self.prospect is not None else None

    def _read_snapshot(self) -> DraftSnapshot:
        return DraftSnapshot(
            draft_id=self.draft_id,
            subject=self.subject.value,
            body=self.body.text,
            prospect_id=self.prospect_id,
            template_id=self.template_id,
            account_id=self.account_id,
        )

    # ================================================================== editing

    @on(TextArea.Changed, "#body")
    def _body_changed(self) -> None:
        self._edited()

    @on(Input.Changed, "#subject")
    def _subject_changed(self) -> None:
        self._edited()

    def _edited(self) -> None:
        """Every edit: O(1) here; the rest happens once after the next frame and after a pause."""
        if self.read_only or self.autosave is None:
            return
        self.autosave.edited()
        if not self._after_edit_pending:
            # Once per burst of keys, after the frame that shows the key: the word count and the
            # status line repaint a few cells at most five times a second, never inside a key's frame.
            self._after_edit_pending = True
            self.set_timer(AFTER_EDIT_SECONDS, self._after_edit, name="after-edit")
        if self.glow_state == "suggestion_ready":
            self.call_after_refresh(self._check_stale)
        self._last_edit = time.monotonic()
        self._score_due = True
        self._auto_due = bool(self.settings.composer.auto_personalize)
        if self._pause_timer is None:
            self._arm_pause(self._shortest_pause())

    def _after_edit(self) -> None:
        self._after_edit_pending = False
        self._update_word_count()
        self._refresh_status()

    def _update_word_count(self) -> None:
        # Its own one-line widget, not the body's border: a border change repaints the whole body.
        self.query_one(WordCount).count = len(self.body.text.split())

    def current_hash(self) -> str:
        """`hash_draft` of what is on screen (cached: the stale check runs after every edit)."""
        key = (self.subject.value, self.body.text, self.prospect_id)
        if self._hash_cache is None or self._hash_cache[0] != key:
            self._hash_cache = (key, hash_draft(*key))
        return self._hash_cache[1]

    def _check_stale(self) -> None:
        if self.suggestion is None or self.glow_state != "suggestion_ready":
            return
        if self.current_hash() != self.suggestion.input_hash:
            self._set_glow("stale")
            self._rediff_later()

    def _shortest_pause(self) -> float:
        composer = self.settings.composer
        return min(composer.score_pause_ms, composer.auto_personalize_pause_ms) / 1000

    def _arm_pause(self, delay: float) -> None:
        self._pause_timer = self.set_timer(max(0.01, delay), self._pause_check, name="typing-pause")

    def _pause_check(self) -> None:
        """Runs when typing may have paused: score after score_pause_ms, auto-personalize later."""
        self._pause_timer = None
        composer = self.settings.composer
        idle = time.monotonic() - self._last_edit
        waits = []
        if self._score_due:
            if idle >= composer.score_pause_ms / 1000:
                self._score_due = False
                self.request_score(automatic=True)
            else:
                waits.append(composer.score_pause_ms / 1000 - idle)
        if self._auto_due:
            if idle >= composer.auto_personalize_pause_ms / 1000:
                self._auto_due = False
                self._maybe_auto_personalize()
            else:
                waits.append(composer.auto_personalize_pause_ms / 1000 - idle)
        if waits:
            self._arm_pause(min(waits))

    def _settle_memory_soon(self) -> None:
        """After the panel has drawn something big, at a typing pause: see `LuminaApp.settle_memory`.
        A full settle follows once the rep has been idle for a while."""
        settle = getattr(self.app, "settle_memory", None)
        if settle is not None:
            self._full_settle_due = True
            self.call_after_refresh(lambda: self.when_typing_pauses(settle))

    def _settle_fully_when_idle(self) -> None:
        settle = getattr(self.app, "settle_memory", None)
        if (
            settle is not None
            and self._full_settle_due
            and time.monotonic() - self._last_edit >= IDLE_SECONDS
        ):
            self._full_settle_due = False
            settle(full=True)

    def when_typing_pauses(self, update: Callable[[], object]) -> None:
        """Run an update that re-lays out part of the screen once the rep is not mid-burst, so a
        score or a re-diff landing in the background never delays the frame of a keystroke."""
        quiet = time.monotonic() - self._last_edit
        if quiet >= QUIET_SECONDS:
            update()
        else:
            self.set_timer(QUIET_SECONDS - quiet, lambda: self.when_typing_pauses(update), name="when-quiet")

    def _maybe_auto_personalize(self) -> None:
        if not self.settings.composer.auto_personalize or self.read_only:
            return
        if self.glow_state in ("thinking", "suggestion_ready"):
            return
        now = Context(self.prospect_id, self.subject.value, self.body.text)
        if is_meaningful_change(self._basis, now):
            self.request_ai("personalize", tone=self.query_one(ToneSlider).value, automatic=True)

    # ================================================================== the send banner and status

    def _every_second(self) -> None:
        self._tick += 1
        self._refresh_status()
        if self.suggestion is not None:
            self.panel.age = max(0.0, self.clock() - self._suggestion_at)
        if self._pending_send is not None:
            self._show_countdown()
        if self._tick % WORKER_POLL_TICKS == 0:
            self._poll_worker()
        self._settle_fully_when_idle()

    def _refresh_status(self) -> None:
        autosave = self.autosave
        if autosave is None:
            return
        self.status.saved = save_words(autosave.state, autosave.saved_at, self.clock())

    @work(thread=True, exclusive=True, group="worker-status", exit_on_error=False)
    def _poll_worker(self) -> None:
        try:
            from lumina_tui.services import worker_status

            status = worker_status.read_status(self.settings)
        except Exception as exc:
            self.post_message(WorkerStatusRead(False, _message(exc)))
            return
        self.post_message(WorkerStatusRead(bool(status.online), str(status.reason or "")))

    def on_worker_status_read(self, message: WorkerStatusRead) -> None:
        self.status.worker = "worker ● online" if message.online else "worker ○ offline"

    def on_draft_saved(self, message: DraftSaved) -> None:
        if self.autosave is not None and message.draft_id == self.draft_id:
            self.autosave.on_saved(message)
        self._refresh_status()

    def on_draft_save_failed(self, message: DraftSaveFailed) -> None:
        if self.autosave is not None and message.draft_id == self.draft_id:
            self.autosave.on_failed(message)
        self._refresh_status()

    def on_screen_suspend(self, _event: ScreenSuspend) -> None:
        if self.autosave is not None and not self.read_only:
            self.autosave.save_soon()

    def on_screen_resume(self, _event: ScreenResume) -> None:
        if self.is_mounted and self.autosave is not None:
            self._load_choices()

    def flush_blocking(self) -> int | None:
        """Save what is on screen, here and now (quit, SIGTERM, SIGHUP)."""
        if self.autosave is None or self.read_only:
            return None
        return self.autosave.flush_blocking()

    # ================================================================== the glow

    def _set_glow(self, state: str) -> None:
        self.glow_state = state
        self.panel.state = state
        self.status.ai = state
        if self.suggestion is not None:
            self.status.confidence = float(self.suggestion.confidence)
        self.set_class(state in ("suggestion_ready", "stale"), "-has-suggestion")
        # The Footer rebuilds itself on a bindings refresh; only ask when Accept/Reject change.
        showing = self.suggestion is not None
        if showing != getattr(self, "_bindings_for_suggestion", None):
            self._bindings_for_suggestion = showing
            self.refresh_bindings()

    def _drop_suggestion(self, note: str) -> None:
        self.suggestion = None
        self.panel.clear(note)
        self._set_glow("idle")
        self.remove_class("-drawer-open")

    def _open_drawer(self) -> None:
        if self.has_class("-narrow"):
            self.add_class("-drawer-open")

    def action_toggle_ai_panel(self) -> None:
        """In a narrow terminal the AI panel is a drawer over the body; this opens or closes it."""
        if self.has_class("-narrow"):
            self.toggle_class("-drawer-open")

    # ================================================================== AI requests

    def action_personalize(self) -> None:
        self.request_ai("personalize", tone=self.query_one(ToneSlider).value)

    def action_rewrite(self) -> None:
        if self.read_only:
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
        self.add_class("-tone-open")
        self.query_one(ToneSlider).focus()

    @on(ToneSlider.Changed)
    def _tone_moved(self, _event: ToneSlider.Changed) -> None:
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
        if self.read_only or self.autosave is None:
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

            revision = autosave.save_blocking(seq, snapshot)
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
                self.post_message(SuggestionFailed(request_id, _message(exc)))
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
            f"AI unavailable: {message.message}\nTyping and sending are not affected. ^g to try again.",
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

    # ================================================================== accept / reject

    def action_accept(self) -> None:
        suggestion = self.suggestion
        if suggestion is None or self.read_only:
            return
        if self.glow_state == "stale" or self.current_hash() != suggestion.input_hash:
            self._set_glow("stale")
            self.app.push_screen(
                ConfirmDialog(
                    "Apply a stale suggestion?",
                    "The draft changed after this suggestion was made; applying it replaces your newer "
                    "text with the suggestion. Enter applies it, Esc keeps your draft.",
                ),
                lambda ok: self._apply(suggestion) if ok else None,
            )
            return
        self._apply(suggestion)

    def _apply(self, suggestion: Any) -> None:
        """Apply as one undoable edit, save, record feedback off the UI path; glow applied → idle."""
        if suggestion is not self.suggestion:
            return
        view = self.panel.view
        body = view.edited_body
        edited = view.was_edited
        new_subject = view.suggested_subject
        subject_before = None
        self.suggestion = None  # first, so the edits below are not seen as making it stale
        if new_subject is not None and new_subject != self.subject.value:
            subject_before = self.subject.value
            self.subject.value = new_subject
        if body is not None:
            self.body.replace_all(body, subject_before=subject_before)
        self._accepted_ids.append(suggestion.suggestion_id)
        self._accepted_claims.extend(claim.text for claim in suggestion.unsupported_claims)
        self._basis = Context(self.prospect_id, self.subject.value, self.body.text)
        self._auto_due = False
        self.panel.clear("Applied. ctrl+z undoes it; ^g for another suggestion.")
        self._set_glow("applied")
        self.remove_class("-drawer-open")
        self.set_timer(APPLIED_SECONDS, self._applied_done, name="glow-applied")
        if self.autosave is not None:
            self.autosave.save_soon()
        self.body.focus()
        note = None
        if edited:
            note = "edited in the panel before accepting"
        self._record_feedback(suggestion.suggestion_id, "edited" if edited else "accepted", note)

    def _applied_done(self) -> None:
        if self.glow_state == "applied":
            self._set_glow("idle")

    def action_reject(self) -> None:
        suggestion = self.suggestion
        if suggestion is None:
            return
        self._drop_suggestion("Rejected. ^g for another suggestion.")
        self._basis = Context(self.prospect_id, self.subject.value, self.body.text)
        self._auto_due = False
        self.body.focus()
        self._record_feedback(suggestion.suggestion_id, "rejected", None)

    def _record_feedback(self, suggestion_id: str, action: str, note: str | None) -> None:
        runtime = self.runtime
        draft_id = self.draft_id

        def record() -> None:
            try:
                from lumina_tui.services import ai as ai_service

                ai_service.feedback(
                    runtime.db, runtime.actor, suggestion_id, action, note=note, draft_id=draft_id
                )
            except Exception as exc:  # feedback is for learning later; it never bothers the rep
                log.warning("feedback %s on %s (draft %s) failed: %s", action, suggestion_id, draft_id, exc)

        self.run_worker(record, thread=True, group="feedback", exit_on_error=False, name=f"feedback {action}")

    @on(BodyEditor.ReplacementUndone)
    def _replacement_undone(self, event: BodyEditor.ReplacementUndone) -> None:
        if event.subject_before is not None:
            self.subject.value = event.subject_before

    # ================================================================== score

    def action_score(self) -> None:
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

            revision = autosave.revision if self.read_only else autosave.save_blocking(seq, snapshot)
            score = ai_service.score(runtime.db, runtime.actor, snapshot.draft_id)
        except Exception as exc:
            self.post_message(ScoreFailed(request_id, _message(exc)))
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

    # ================================================================== send

    def action_send(self) -> None:
        if self._send_in_flight or self.read_only or self.autosave is None:
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

            revision = autosave.save_blocking(seq, snapshot)
            review = send_review.build_review(
                runtime.db,
                runtime.actor,
                runtime.settings,
                snapshot.draft_id,
                extra_warnings=warnings,
                score=score if score is not None and revision == autosave.revision else None,
            )
        except Exception as exc:
            self.post_message(SendFailed(f"Could not prepare the send: {_message(exc)}", retryable=True))
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
        self._show_banner("Queuing…")
        self._do_send(review, list(self._accepted_ids))

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
            self.post_message(SendFailed(_message(exc), retryable))
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
        # The sent draft is frozen; a fresh one starts for the next email.
        self.open_draft(None)
        self._show_countdown()
        self.refresh_bindings()

    def on_send_failed(self, message: SendFailed) -> None:
        self._send_in_flight = False
        if not self.read_only:
            self.body.read_only = False
            self.subject.disabled = False
        hint = " — ctrl+s to try again (same send, it cannot go twice)" if message.retryable else ""
        self._show_banner(f"Not sent: {message.message}{hint}", error=True)
        self.refresh_bindings()

    def _undo_key(self) -> str:
        for binding in self.active_bindings.values():
            if binding.binding.action == "undo_send":
                return self.app.get_key_display(binding.binding)
        return "f8"

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

    def action_undo_send(self) -> None:
        pending = self._pending_send
        if pending is None:
            return
        self._show_banner("Cancelling…")
        self._undo_send(pending["email_id"])

    @work(thread=True, exclusive=True, group="undo", exit_on_error=False)
    def _undo_send(self, email_id: str) -> None:
        runtime = self.runtime
        try:
            from lumina_tui.services import sending

            result = sending.cancel(runtime.db, runtime.actor, email_id)
        except Exception as exc:
            self.post_message(UndoFailed(_message(exc)))
            return
        self.post_message(SendUndone(email_id, result.draft_id))

    def on_send_undone(self, message: SendUndone) -> None:
        self._pending_send = None
        self.flush_current_then(lambda: self._open_by_id(message.draft_id))
        self._show_banner("Cancelled — nothing was sent; your draft is back.")
        self.set_timer(6, self._hide_banner, name="hide-banner")
        self.refresh_bindings()

    def on_undo_failed(self, message: UndoFailed) -> None:
        self._pending_send = None
        self._show_banner(f"Too late to undo: {message.message}", error=True)
        self.refresh_bindings()

    # ================================================================== drafts and prospects

    def flush_current_then(self, then: Callable[[], None]) -> None:
        """Save the open draft (unless unchanged or sent), then run `then` on the UI thread."""
        autosave = self.autosave
        if autosave is None or self.read_only or autosave.state == "new":
            then()
            return
        seq, snapshot = autosave.capture()

        def save() -> None:
            try:
                autosave.save_blocking(seq, snapshot)
            except Exception as exc:
                log.warning("saving draft %s before switching failed: %s", snapshot.draft_id, exc)
            self.app.call_from_thread(then)

        autosave.cancel()
        self.run_worker(save, thread=True, group="switch", exit_on_error=False, name="save before switch")

    def _open_by_id(self, draft_id: str) -> None:
        try:
            draft = drafts.get(self.runtime.db, self.runtime.actor, draft_id)
        except LuminaError as exc:
            self.notify(_message(exc), severity="error")
            return
        self.open_draft(draft)
        self.body.focus()

    def action_new_draft(self) -> None:
        self.flush_current_then(lambda: (self.open_draft(None), self.body.focus()))

    def action_choose_prospect(self) -> None:
        if self.read_only:
            return
        self.app.push_screen(ProspectPicker(), self._prospect_chosen)

    @on(Button.Pressed, "#choose-prospect")
    def _choose_pressed(self) -> None:
        self.action_choose_prospect()

    def _prospect_chosen(self, prospect_id: str | None) -> None:
        if prospect_id and prospect_id != self.prospect_id:
            self.set_prospect(prospect_id)

    def set_prospect(self, prospect_id: str) -> None:
        """Address the open draft to another prospect (a meaningful context change)."""
        prospect, company = self._read_prospect(prospect_id)
        if prospect is None:
            return
        self._set_prospect_rows(prospect, company)
        self._hash_cache = None
        self._edited()
        if self.suggestion is not None and self.glow_state == "suggestion_ready":
            self._set_glow("stale")

    def compose_to(self, prospect_id: str) -> None:
        """From the prospects screen: write to this prospect (a new draft unless this one is blank)."""
        blank = not self.body.text.strip() and not self.subject.value.strip()
        if blank and not self.read_only:
            self.set_prospect(prospect_id)
            return
        self.flush_current_then(lambda: self.open_draft(None, prospect_id=prospect_id))

    def action_open_draft(self) -> None:
        runtime = self.runtime
        page = drafts.list_drafts(runtime.db, runtime.actor, include_sent=True, limit=100)
        names: dict[str, str] = {}
        choices = []
        for draft in page.items:
            who = ""
            if draft.prospect_id:
                if draft.prospect_id not in names:
                    try:
                        names[draft.prospect_id] = prospect_name(
                            prospect_service.get(runtime.db, runtime.actor, draft.prospect_id)
                        )
                    except LuminaError:
                        names[draft.prospect_id] = "?"
                who = names[draft.prospect_id]
            state = "sent" if draft.sent_at else f"rev {draft.revision}"
            when = draft.updated_at.strftime("%Y-%m-%d %H:%M")
            label = f"{draft.subject or '(no subject)'} — {who or 'no prospect'} · {when} · {state}"
            choices.append((draft.id, label))
        dialog = ChoiceDialog("Open a draft", choices, empty="No drafts yet.")
        self.app.push_screen(dialog, self._draft_chosen)

    def _draft_chosen(self, draft_id: str | None) -> None:
        if draft_id and draft_id != self.draft_id:
            self.flush_current_then(lambda: self._open_by_id(draft_id))

    def action_duplicate_for_prospect(self) -> None:
        self.app.push_screen(ProspectPicker("Duplicate this draft for…"), self._duplicate_for)

    def _duplicate_for(self, prospect_id: str | None) -> None:
        if not prospect_id:
            return
        new_prospect, new_company = self._read_prospect(prospect_id)
        if new_prospect is None:
            return
        subject = retarget(self.subject.value, self.prospect, self.company, new_prospect, new_company)
        body = retarget(self.body.text, self.prospect, self.company, new_prospect, new_company)
        template_id, account_id = self.template_id, self.account_id

        def create() -> None:
            runtime = self.runtime
            draft = drafts.create(
                runtime.db,
                runtime.actor,
                prospect_id=prospect_id,
                subject=subject,
                body=body,
                template_id=template_id,
                account_id=account_id,
            )
            self._open_by_id(draft.id)
            self.notify(f"Duplicated for {prospect_name(new_prospect)}.")

        self.flush_current_then(create)

    # ================================================================== template and account

    @on(Select.Changed, "#template-select")
    def _template_chosen(self, event: Select.Changed) -> None:
        if event.value is Select.BLANK or event.value == self.template_id or self.read_only:
            return
        self.apply_template(str(event.value))

    def action_choose_template(self) -> None:
        choices = [(str(value), str(label)) for label, value in self._template_options()]
        self.app.push_screen(
            ChoiceDialog("Apply a template", choices, empty="No templates yet (lumina demo adds three)."),
            lambda chosen: self.apply_template(chosen) if chosen else None,
        )

    def _template_options(self) -> list[tuple[str, str]]:
        rows = templates.list_templates(self.runtime.db, self.runtime.actor)
        return [(t.name, t.id) for t in rows]

    def apply_template(self, template_id: str) -> None:
        """Fill the template from the prospect and put it in the draft (one undoable change)."""
        runtime = self.runtime
        try:
            filled = templates.fill_for_prospect(runtime.db, runtime.actor, template_id, self.prospect_id)
        except LuminaError as exc:
            self.notify(_message(exc), severity="error")
            return
        self.template_id = template_id
        subject_before = self.subject.value
        self.subject.value = filled.subject
        self.body.replace_all(filled.body, subject_before=subject_before)
        self._edited()
        if filled.missing:
            fields = ", ".join(filled.missing)
            self.notify(f"No value for {fields}: left as {{{{field}}}} for you to fill.", severity="warning")

    @on(Select.Changed, "#account-select")
    def _account_chosen(self, event: Select.Changed) -> None:
        value = None if event.value is Select.BLANK else str(event.value)
        if value != self.account_id and not self.read_only:
            self.account_id = value
            self._edited()

    def action_choose_account(self) -> None:
        accounts = getattr(self, "_accounts", [])
        choices = [(a.id, f"{a.email} · {account_service.label(a)}") for a in accounts]
        self.app.push_screen(
            ChoiceDialog("Send from", choices, empty="No accounts: `lumina accounts add …`, `lumina demo`."),
            self._account_picked,
        )

    def _account_picked(self, account_id: str | None) -> None:
        if account_id:
            self.query_one("#account-select", Select).value = account_id

    # ================================================================== $EDITOR

    def action_edit_in_editor(self) -> None:
        """Suspend the app, edit the body in $VISUAL/$EDITOR, put the result back as one edit."""
        if self.read_only:
            return
        editor = os.environ.get("VISUAL") or os.environ.get("EDITOR") or "vi"
        with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False, encoding="utf-8") as handle:
            handle.write(self.body.text)
            path = handle.name
        command = [*shlex.split(editor), path]
        try:
            try:
                with self.app.suspend():
                    code = subprocess.call(command)
            except Exception as exc:  # SuspendNotSupported (headless tests, web): run it anyway
                if exc.__class__.__name__ != "SuspendNotSupported":
                    raise
                code = subprocess.call(command, stdin=subprocess.DEVNULL)
            with open(path, encoding="utf-8") as handle:
                text = handle.read()
        except OSError as exc:
            self.notify(f"Could not run {editor}: {exc}", severity="error")
            return
        finally:
            with contextlib.suppress(OSError):
                os.unlink(path)
        if code != 0:
            self.notify(f"{editor} exited with {code}; the draft is unchanged.", severity="warning")
            return
        if text.endswith("\n") and not self.body.text.endswith("\n"):
            text = text[:-1]  # editors add a final newline the rep never typed
        self.body.replace_all(text)
        self.body.focus()

    # ================================================================== bindings

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "accept":
            return True if self.suggestion is not None and not self.read_only else None
        if action == "reject":  # shown (greyed) always; Esc passes on when there is nothing to reject
            return True if self.suggestion is not None else None
        if action == "undo_send":
            return self._pending_send is not None
        if action == "send":
            return None if self._send_in_flight or self.read_only else True
        if action in ("personalize", "rewrite", "tone"):
            return None if self.read_only else True
        return True


def retarget(text: str, old_prospect: Any, old_company: Any, new_prospect: Any, new_company: Any) -> str:
    """Swap the old prospect's name and company for the new one's (duplicate for another prospect)."""
    if old_prospect is None or not text:
        return text
    pairs = [
        (f"{old_prospect.first_name} {old_prospect.last_name}".strip(), prospect_name(new_prospect)),
        (old_prospect.first_name, new_prospect.first_name),
        (company_name(old_prospect, old_company), company_name(new_prospect, new_company)),
    ]
    for old, new in pairs:
        if old and new and old != new:
            text = re.sub(rf"\b{re.escape(old)}\b", new, text)
    return text
