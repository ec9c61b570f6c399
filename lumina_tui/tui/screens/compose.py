"""The Compose screen (f2): the draft, the prospect, the AI panel, the score and the send.

This module holds the layout, opening drafts, the edit loop and its autosave, the glow and the
human-in-the-loop decisions (accept, reject); AI requests and scoring (`compose_ai.py`), sending
(`compose_send.py`) and draft/prospect/template actions (`compose_drafts.py`) are mixed in.

Everything slow runs in thread workers and reports back with a message (`tui/messages.py`);
keystrokes only change widget state, flip the autosave flag and arm timers. The rules it keeps
(docs/invariants.md):
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
import time
import uuid
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.events import Resize, ScreenResume, ScreenSuspend
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Button, Input, Label, Select, Static, TextArea

from lumina_tui.ai.hashing import hash_draft
from lumina_tui.services import accounts as account_service
from lumina_tui.services import company_data, drafts, preferences, templates
from lumina_tui.services import prospects as prospect_service
from lumina_tui.services.errors import LuminaError
from lumina_tui.services.terminal_text import terminal_safe
from lumina_tui.tui.bindings import COMPOSE_BINDINGS
from lumina_tui.tui.messages import (
    DraftSaved,
    DraftSaveFailed,
    WorkerStatusRead,
    error_text,
)
from lumina_tui.tui.screens.compose_ai import ComposeAI
from lumina_tui.tui.screens.compose_drafts import ComposeDrafts
from lumina_tui.tui.screens.compose_send import ComposeSend
from lumina_tui.tui.screens.dialogs import ConfirmDialog
from lumina_tui.tui.triggers import Context
from lumina_tui.tui.widgets.body_editor import BodyEditor
from lumina_tui.tui.widgets.draft_autosave import DraftAutosave, DraftSnapshot
from lumina_tui.tui.widgets.glow_panel import GlowPanel
from lumina_tui.tui.widgets.key_footer import KeyFooter
from lumina_tui.tui.widgets.prospect_card import ProspectCard, company_name, prospect_name, recipient_line
from lumina_tui.tui.widgets.score_card import ScoreCard
from lumina_tui.tui.widgets.status_bar import StatusBar, save_words
from lumina_tui.tui.widgets.tone_slider import ToneSlider
from lumina_tui.tui.widgets.word_count import WordCount

if TYPE_CHECKING:
    from lumina_tui.ai.models import Suggestion

log = logging.getLogger(__name__)

#: Below this width the prospect card, AI panel and score fold away (UI.md, 80x24).
NARROW_WIDTH = 100
APPLIED_SECONDS = 1.2
WORKER_POLL_TICKS = 3
STALE_REVISION_RETRIES = 3
#: Results that re-lay out the side column (a new score, a re-diff) wait for this much quiet typing.
QUIET_SECONDS = 0.25
AFTER_EDIT_SECONDS = 0.2
#: Keys closer together than this are one burst of typing (for the status line).
TYPING_SECONDS = 1.0
#: After this long without a key, the composer tidies memory fully (see `LuminaApp.settle_memory`).
IDLE_SECONDS = 5.0


#: How the From selector names an account's kind: short, so the line fits at 100 columns (the send
#: review and the "Send from" dialog name it in full, e.g. "local outbox, not delivered").
PROVIDER_WORDS = {"maildir": "local outbox", "smtp": "SMTP", "gmail": "Gmail", "outlook": "Outlook"}


def from_choice(account: Any) -> str:
    """`account_service.choice_label`, with the kind named briefly (any trouble is still said)."""
    trouble = account_service.status_text(account)
    kind = PROVIDER_WORDS.get(account.provider, account.provider)
    return f"{account.email} · {kind}" + (f" · {trouble}" if trouble else "")


class ComposeScreen(ComposeAI, ComposeSend, ComposeDrafts, Screen[None]):
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
        self._after_undo: Callable[[], None] | None = None
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
        self._default_tone = 0.5

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
                    # Beside the To line (which ellipsizes), never beside the subject: a long
                    # subject gets the whole row.
                    yield WordCount(id="word-count")
                with Horizontal(id="subject-row", classes="field-row"):
                    yield Label("Subject:", classes="field-label")
                    yield Input(id="subject", placeholder="Subject", compact=True)
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
        self.panel.hint = f"{self.key_of('accept')} accept · {self.key_of('reject')} reject"
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
        footer = self.query_one(KeyFooter)
        footer.narrow = narrow
        footer.fit_width = width
        if not narrow:
            self.remove_class("-drawer-open", "-score-open")

    # ================================================================== opening drafts

    def _load_choices(self) -> None:
        """Accounts and templates for the two selectors (small reads, at start)."""
        runtime = self.runtime
        try:
            accounts = account_service.list_accounts(runtime.db, runtime.actor)
            template_rows = templates.list_templates(runtime.db, runtime.actor)
        except LuminaError as exc:
            self.notify(error_text(exc), severity="error")
            return
        self._show_choices(accounts, template_rows)

    def _show_choices(self, accounts: list[Any], template_rows: list[Any]) -> None:
        self._accounts = accounts
        self._template_ids = [t.id for t in template_rows]
        account_select = self.query_one("#account-select", Select)
        template_select = self.query_one("#template-select", Select)
        with self.prevent(Select.Changed):
            account_select.set_options((from_choice(a), a.id) for a in accounts)
            template_select.set_options((t.name, t.id) for t in template_rows)
            if self.account_id and any(a.id == self.account_id for a in accounts):
                account_select.value = self.account_id
            if self.template_id and any(t.id == self.template_id for t in template_rows):
                template_select.value = self.template_id

    @work(thread=True, exclusive=True, group="choices", exit_on_error=False)
    def _refresh_choices(self) -> None:
        """Back from another screen: accounts or templates may have changed (the CLI, an import).
        Read off the event loop; touch the selectors only if something did change."""
        runtime = self.runtime
        accounts = account_service.list_accounts(runtime.db, runtime.actor)
        template_rows = templates.list_templates(runtime.db, runtime.actor)
        # An account's label changes too ("needs sign-in" after a revoked token, cleared on sign-in).
        shown = [(a.id, account_service.choice_label(a)) for a in getattr(self, "_accounts", [])]
        fresh = [(a.id, account_service.choice_label(a)) for a in accounts]
        if (fresh, [t.id for t in template_rows]) != (shown, getattr(self, "_template_ids", [])):
            self.app.call_from_thread(self._show_choices, accounts, template_rows)

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
            self.notify(f"Could not open draft: {error_text(exc)}", severity="error", timeout=8)
        with contextlib.suppress(LuminaError, TypeError, ValueError):
            self._default_tone = round(float(preferences.get(runtime.db, runtime.actor).default_tone), 1)
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
                draft.tone,
            )
            revision = draft.revision
        self._set_prospect_rows(*self._read_prospect(pid))
        # The draft's own tone (kept with it across restarts), else the sender's default.
        tone = draft.tone if draft is not None and draft.tone is not None else self._default_tone
        self.query_one(ToneSlider).value = max(0.0, min(1.0, round(float(tone), 1)))
        if stored is not None and draft is not None and draft.tone is None:
            # Not stored yet: what the slider shows now is not a change the rep made.
            stored = replace(stored, tone=self.query_one(ToneSlider).value)
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
        if draft is not None and self.read_only:
            # A send undone in its window reads "cancelled", not "sent" (one indexed read).
            self.status.frozen_as = drafts.status_of(runtime.db, runtime.actor, draft)
        self.status.read_only = self.read_only
        self._drop_suggestion(self.idle_note())
        self._accepted_ids = []
        self._accepted_claims = []
        self._last_review = None
        self._basis = Context(pid, subject, body)
        self.query_one(ScoreCard).reset()
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
            self.notify(f"Prospect unavailable: {error_text(exc)}", severity="warning")
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
            self.status.who = terminal_safe(f"{who} · {org}" if org else who)  # stored text

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
            tone=self.query_one(ToneSlider).value,
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
        if self._score_drawer_open:
            self._close_score_drawer()
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
        state = autosave.state
        if state == "saved" and time.monotonic() - self._last_edit < TYPING_SECONDS:
            # Mid-burst, saves land every interval: the line keeps saying "saving…" instead of
            # flickering (and repainting) twice per save; the tick after the burst says "saved".
            state = "saving"
        self.status.saved = save_words(state, autosave.saved_at, self.clock())

    @work(thread=True, exclusive=True, group="worker-status", exit_on_error=False)
    def _poll_worker(self) -> None:
        try:
            from lumina_tui.services import worker_status

            status = worker_status.read_status(self.settings)
        except Exception as exc:
            self.post_message(WorkerStatusRead(False, error_text(exc)))
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
            self._refresh_choices()

    def flush_blocking(self) -> int | None:
        """Save what is on screen, here and now (quit, SIGTERM, SIGHUP)."""
        if self.autosave is None or self.read_only:
            return None
        return self.autosave.flush_blocking()

    # ================================================================== the glow

    def key_of(self, action: str) -> str:
        """The key that runs a composer action now, as the Footer shows it (the keymap applies)."""
        for active in self.active_bindings.values():
            if active.binding.action == action:
                return self.app.get_key_display(active.binding)
        return action

    def key_name(self, key: str) -> str:
        """A key the editor owns (ctrl+z), written the way the Footer writes every key (^z)."""
        return self.app.get_key_display(Binding(key, ""))

    def explain_read_only(self) -> None:
        """A key that changes the draft was pressed on a sent (read-only) one: say why nothing happens."""
        self.notify(
            f"This draft was sent, so it cannot change: {self.key_of('new_draft')} starts a new one.",
            title="Read-only",
            severity="warning",
        )

    def idle_note(self) -> str:
        return f"Press {self.key_of('personalize')} to personalize, {self.key_of('rewrite')} to rewrite."

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
            self._close_score_drawer()
            self.add_class("-drawer-open")

    @property
    def _score_drawer_open(self) -> bool:
        return self.has_class("-score-open")

    def _close_score_drawer(self) -> None:
        self.remove_class("-score-open")
        self.refresh_bindings()

    def action_toggle_ai_panel(self) -> None:
        """In a narrow terminal the AI panel is a drawer over the body; this opens or closes it."""
        if self.has_class("-narrow"):
            self.remove_class("-score-open")
            self.toggle_class("-drawer-open")

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
            self.body.replace_all(body, subject_before=subject_before, suggestion_id=suggestion.suggestion_id)
        self._accepted_ids.append(suggestion.suggestion_id)
        self._accepted_claims.extend(claim.text for claim in suggestion.unsupported_claims)
        self._basis = Context(self.prospect_id, self.subject.value, self.body.text)
        self._auto_due = False
        self.panel.clear(
            f"Applied. {self.key_name('ctrl+z')} undoes it; "
            f"{self.key_of('personalize')} for another suggestion."
        )
        self._set_glow("applied")
        self.remove_class("-drawer-open")
        self.set_timer(APPLIED_SECONDS, self._applied_done, name="glow-applied")
        if self.autosave is not None:
            self.autosave.save_soon()
        self.body.focus()
        note = None
        if edited:
            note = "edited in the panel before accepting"
        self._record_feedback(suggestion, "edited" if edited else "accepted", note)

    def _applied_done(self) -> None:
        if self.glow_state == "applied":
            self._set_glow("idle")

    def action_reject(self) -> None:
        suggestion = self.suggestion
        if suggestion is None:
            if self._score_drawer_open:
                self._close_score_drawer()
                self.body.focus()
            return
        self._drop_suggestion(f"Rejected. {self.key_of('personalize')} for another suggestion.")
        self._basis = Context(self.prospect_id, self.subject.value, self.body.text)
        self._auto_due = False
        self.body.focus()
        self._record_feedback(suggestion, "rejected", None)

    def _record_feedback(self, suggestion: Suggestion, action: str, note: str | None) -> None:
        runtime = self.runtime
        draft_id = self.draft_id
        suggestion_id, tone, kind = suggestion.suggestion_id, suggestion.tone, suggestion.operation

        def record() -> None:
            try:
                from lumina_tui.services import ai as ai_service

                ai_service.feedback(
                    runtime.db, runtime.actor, suggestion_id, action, note=note, draft_id=draft_id,
                    tone=tone, kind=kind,
                )
            except Exception as exc:  # feedback is for learning later; it never bothers the rep
                log.warning("feedback %s on %s (draft %s) failed: %s", action, suggestion_id, draft_id, exc)

        self.run_worker(record, thread=True, group="feedback", exit_on_error=False, name=f"feedback {action}")

    @on(BodyEditor.ReplacementUndone)
    def _replacement_undone(self, event: BodyEditor.ReplacementUndone) -> None:
        if event.subject_before is not None:
            self.subject.value = event.subject_before
        suggestion_id = event.suggestion_id
        if suggestion_id is None or suggestion_id not in self._accepted_ids:
            return
        # The accepted suggestion is out of the draft again: it is no longer "applied" (nor sent
        # as accepted), and the panel stops saying so.
        self._accepted_ids.remove(suggestion_id)
        self._accepted_claims = [claim for claim in self._accepted_claims if claim in self.body.text]
        self._basis = Context(self.prospect_id, self.subject.value, self.body.text)
        if self.suggestion is None:
            self.panel.clear(
                f"Undone: your text is back. {self.key_of('personalize')} for another suggestion."
            )
            self._set_glow("idle")

    # ================================================================== bindings

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "accept":
            return True if self.suggestion is not None and not self.read_only else None
        if action == "reject":  # shown (greyed) always; Esc passes on when there is nothing to reject
            return True if self.suggestion is not None or self._score_drawer_open else None
        if action == "undo_send":
            return self._pending_send is not None
        if action == "send":
            # A read-only draft keeps the key live: pressing it says why it cannot be sent.
            return None if self._send_in_flight else True
        return True
