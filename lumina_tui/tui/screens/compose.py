"""The Compose screen (f2): the draft, the prospect, the AI panel, the score and the send.

This module holds the layout, the edit loop (autosave flag, typing pauses, the status line) and the
glue: each flow lives in its own object in `tui/compose/`, with the screen as its host:
`DraftSession` (which draft is open and how that changes), `SuggestionSession` (the AI and the
rep's decisions, the score) and `SendFlow` (review, send, undo). The screen implements their host
protocols (widgets in, nothing else) and forwards each worker's message to the flow that asked.

Everything slow runs in thread workers (`run_service`) and reports back with one typed message;
keystrokes only change widget state, flip the autosave flag and arm timers. The rules it keeps
(docs/invariants.md):
- local-first: `DraftAutosave` saves at most `save_interval_ms` after the first unsaved edit, and
  an AI call, a score or a send first saves and then names the revision it read;
- no service call on the event loop (`tests/tui/test_ui_thread.py`);
- the AI only proposes (`compose/suggestions.py`); a send is reviewed, keyed once per review,
  disabled while in flight, and undoable in its window (`compose/send_flow.py`).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any, cast

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.dom import DOMNode
from textual.events import DescendantBlur, Resize, ScreenResume, ScreenSuspend
from textual.message import Message
from textual.screen import Screen
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import Button, Input, Label, Select, Static, TextArea

from lumina_tui.services.terminal_text import terminal_safe
from lumina_tui.tui.bindings import COMPOSE_BINDINGS, key_display
from lumina_tui.tui.compose import reads
from lumina_tui.tui.compose.draft_session import DraftSession
from lumina_tui.tui.compose.reads import Choices, DraftView, Recipient
from lumina_tui.tui.compose.send_flow import PendingSend, SendFlow
from lumina_tui.tui.compose.suggestions import PanelEdits, SuggestionSession
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
    error_text,
)
from lumina_tui.tui.service_jobs import run_service
from lumina_tui.tui.triggers import SuggestionBasis
from lumina_tui.tui.widgets.body_editor import BodyEditor
from lumina_tui.tui.widgets.draft_autosave import DraftAutosave, DraftSnapshot
from lumina_tui.tui.widgets.glow_panel import GlowPanel
from lumina_tui.tui.widgets.key_footer import KeyFooter
from lumina_tui.tui.widgets.prospect_card import ProspectCard, company_name, prospect_name, recipient_line
from lumina_tui.tui.widgets.safe_text import SafeInput
from lumina_tui.tui.widgets.score_card import ScoreCard
from lumina_tui.tui.widgets.status_bar import StatusBar, save_words
from lumina_tui.tui.widgets.tone_slider import ToneSlider
from lumina_tui.tui.widgets.word_count import WordCount

if TYPE_CHECKING:
    from lumina_tui.ai.models import Score, Suggestion
    from lumina_tui.services.runtime import Runtime
    from lumina_tui.tui.app import LuminaApp

log = logging.getLogger(__name__)

#: Below this width the prospect card, AI panel and score fold away, so 80x24 keeps the subject,
#: body, status line and footer (tests/tui/test_compose_keys.py).
NARROW_WIDTH = 100
WORKER_POLL_TICKS = 3
#: Results that re-lay out the side column (a new score, a re-diff) wait for this much quiet typing.
QUIET_SECONDS = 0.25
AFTER_EDIT_SECONDS = 0.2
#: Keys closer together than this are one burst of typing (for the status line).
TYPING_SECONDS = 1.0
#: After this long without a key, the composer tidies memory fully (see `LuminaApp.settle_memory`).
IDLE_SECONDS = 5.0
DEFAULT_TONE = 0.5


#: How the From selector names an account's kind: short, so the line fits at 100 columns (the send
#: review and the "Send from" dialog name it in full, e.g. "local outbox, not delivered").
PROVIDER_WORDS = {"maildir": "local outbox", "smtp": "SMTP", "gmail": "Gmail", "outlook": "Outlook"}


def from_choice(account: Any) -> str:
    """`account_service.choice_label`, with the kind named briefly (any trouble is still said)."""
    from lumina_tui.services import accounts as account_service

    trouble = account_service.status_text(account)
    kind = PROVIDER_WORDS.get(account.provider, account.provider)
    return f"{account.email} · {kind}" + (f" · {trouble}" if trouble else "")


class ComposeScreen(Screen[None]):
    """One draft at a time; see the module docstring."""

    BINDINGS = COMPOSE_BINDINGS
    CSS_PATH = "compose.tcss"  # its layout (tui/screens/*.tcss: one per screen)
    HELP_GROUP = "Compose"

    def __init__(self, draft_id: str | None = None) -> None:
        super().__init__()
        self.initial_draft_id = draft_id
        self.drafts = DraftSession(self)
        self.suggestions = SuggestionSession(self)
        self.sending = SendFlow(self)
        # The edit loop: timers and coalescing.
        self._after_edit_pending = False
        self._last_edit = 0.0
        self._pause_timer: Timer | None = None
        self._score_due = False
        self._tone_timer: Timer | None = None
        self._tick = 0
        self._hash_cache: tuple[tuple[str, str, str | None], str] | None = None
        self._full_settle_due = False
        self._tick_timer: Timer | None = None
        #: Whether the footer last showed Accept/Reject live (it rebuilds on a bindings refresh).
        self._bindings_for_suggestion: bool | None = None
        #: Stand-ins in the first frame and the parts that replace them (`_at_start`).
        self._after_first_frame: list[tuple[Widget, Widget]] = []

    # ================================================================== layout

    def compose(self) -> ComposeResult:
        yield StatusBar(id="status")
        with Horizontal(id="columns"):
            with Vertical(id="prospect-column"):
                yield ProspectCard(id="prospect-card")
                yield Button("Choose prospect", id="choose-prospect", compact=True)
                yield self._at_start(
                    Select[str]([], prompt="Template", id="template-select", compact=True), "Template"
                )
            with Vertical(id="draft-column"):
                with Horizontal(id="from-row", classes="field-row"):
                    yield Label("From:", classes="field-label")
                    yield self._at_start(
                        Select[str]([], prompt="choose an account", id="account-select", compact=True),
                        "choose an account",
                    )
                with Horizontal(id="to-row", classes="field-row"):
                    yield Label("To:", classes="field-label")
                    yield Static(recipient_line(None), id="to-line", markup=False)
                    # Beside the To line (which ellipsizes), never beside the subject: a long
                    # subject gets the whole row.
                    yield WordCount(id="word-count")
                with Horizontal(id="subject-row", classes="field-row"):
                    yield Label("Subject:", classes="field-label")
                    yield SafeInput(id="subject", placeholder="Subject", compact=True)
                yield BodyEditor(id="body")
            with Vertical(id="side-column"):
                yield self._at_start(GlowPanel(id="ai-panel"))
                yield self._at_start(ScoreCard(id="score-card"))
        # The send banner lies over the tone row (a layer above it) rather than adding a row: showing
        # "Queued" then changes no other widget's size, so its frame repaints one line instead of
        # re-laying out and re-wrapping the whole composer (issue 10 point 9).
        with Horizontal(id="bottom-row"):
            yield ToneSlider(id="tone")
            yield Static(id="send-banner", markup=False)
        yield KeyFooter()

    def _at_start(self, part: Widget, words: str = "") -> Widget:
        """`part` itself, or, when `lumina` starts (no runtime yet), a plain stand-in with its id
        (so its layout rules apply) and `words`, swapped for `part` right after the first frame.

        Why: the two selectors (each with its overlay list), the AI panel (the suggestion view and
        its editor) and the score card are ~20 of the first frame's ~55 widgets, and each costs
        Textual a parse of its DEFAULT_CSS and two restyles: ~100 ms of CPU before the first frame
        (issue 10 point 9). None of them can be used before the store is open anyway.
        """
        if self.lumina.runtime_ready:
            return part
        stand_in = Static(words, id=part.id, markup=False)
        self._after_first_frame.append((stand_in, part))
        return stand_in

    async def mount_the_rest(self) -> None:
        """Put the real parts in place of the stand-ins (the app calls this after the first frame,
        before it hands the composer its first read, so `fill` always finds them)."""
        swaps, self._after_first_frame = self._after_first_frame, []
        for stand_in, part in swaps:
            parent = stand_in.parent
            if not isinstance(parent, Widget):
                continue
            index = parent.children.index(stand_in)
            await stand_in.remove()
            if index < len(parent.children):
                await parent.mount(part, before=index)
            else:
                await parent.mount(part)

    @property
    def lumina(self) -> LuminaApp:
        """The app, as what it is: the composer only runs inside `LuminaApp`."""
        return cast("LuminaApp", self.app)

    @property
    def runtime(self) -> Runtime:
        return self.lumina.runtime

    @property
    def settings(self) -> Any:
        return self.runtime.settings

    def clock(self) -> float:
        return self.lumina.clock()

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

    async def on_mount(self) -> None:
        self.lumina.composer = self
        if self.initial_draft_id is None:
            self.initial_draft_id = self.lumina.initial_draft_id
        self.query_one("#send-banner", Static).display = False
        self.body.focus()
        if not self.lumina.runtime_ready:
            # `lumina` itself: the first frame is this screen, empty and saying so; the app opens
            # the store in a thread after that frame and hands the first read to `fill` (keys
            # typed meanwhile are kept by the app and replayed into the draft).
            self.status.saved = "opening…"
            self.body.placeholder = "Opening your draft…"
            return
        # The first read runs in a thread like every other; the screen waits for it (the loop
        # does not), so its first frame already shows the draft.
        opened = await asyncio.to_thread(reads.open_composer, self.runtime, self.initial_draft_id)
        self.fill(opened)

    def fill(self, opened: reads.ComposerOpened) -> None:
        """The first read arrived (awaited in `on_mount`, or from the app once the store is open)."""
        self.panel.hint = f"{self.key_of('accept')} accept · {self.key_of('reject')} reject"
        self.body.placeholder = ""
        self.drafts.opened(opened)
        self._tick_timer = self.set_interval(1.0, self._every_second, name="compose-tick")
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

    # ================================================================== running services

    def run_service(
        self,
        job: Callable[[], Message | None],
        *,
        group: str,
        exclusive: bool = True,
        owner: DOMNode | None = None,
    ) -> None:
        """Run `job` (a service call) in a thread worker; the message it returns comes back here.
        `owner`: see `service_jobs.run_service` (a modal over the composer owns its jobs)."""
        run_service(self, job, group=group, exclusive=exclusive, owner=owner)

    def _poll_worker(self) -> None:
        settings = self.settings
        self.run_service(lambda: read_worker_status(settings), group="worker-status")

    def on_worker_status_read(self, message: WorkerStatusRead) -> None:
        self.status.worker = "worker ● online" if message.online else "worker ○ offline"

    # ================================================================== DraftSession's host

    @property
    def draft_id(self) -> str:
        return self.drafts.draft_id

    @property
    def prospect(self) -> Any:
        return self.drafts.prospect

    @property
    def company(self) -> Any:
        return self.drafts.company

    @property
    def prospect_id(self) -> str | None:
        return self.drafts.prospect_id

    @property
    def template_id(self) -> str | None:
        return self.drafts.template_id

    @property
    def account_id(self) -> str | None:
        return self.drafts.account_id

    @property
    def read_only(self) -> bool:
        return self.drafts.read_only

    @property
    def autosave(self) -> DraftAutosave | None:
        return self.drafts.autosave

    def new_autosave(self, *, stored_revision: int, stored: DraftSnapshot | None) -> DraftAutosave:
        return DraftAutosave(
            self,
            self.runtime.db,
            self.runtime.actor,
            self.drafts.snapshot,
            interval=self.settings.composer.save_interval_ms / 1000,
            clock=self.clock,
            stored_revision=stored_revision,
            stored=stored,
        )

    def ask(self, screen: Screen[Any], answered: Callable[[Any], None]) -> None:
        self.app.push_screen(screen, answered)

    def screen_text(self) -> tuple[str, str, float]:
        return self.subject.value, self.body.text, self.query_one(ToneSlider).value

    def show_draft(
        self, subject: str, body: str, *, tone: float | None, read_only: bool, frozen_as: str | None
    ) -> float:
        slider = self.query_one(ToneSlider)
        shown = DEFAULT_TONE if tone is None else tone
        slider.value = max(0.0, min(1.0, round(float(shown), 1)))
        with self.prevent(Input.Changed, TextArea.Changed, Select.Changed):
            self.subject.value = subject
            self.body.load_text(body)
        self.body.read_only = read_only
        self.subject.disabled = read_only
        if frozen_as is not None:
            self.status.frozen_as = frozen_as
        self.status.read_only = read_only
        return slider.value

    def show_recipient(self, recipient: Recipient) -> None:
        prospect, company = recipient.prospect, recipient.company
        self.query_one(ProspectCard).show(prospect, company)
        self.query_one("#to-line", Static).update(recipient_line(prospect))
        if prospect is None:
            self.status.who = "Compose"
        else:
            who = prospect_name(prospect)
            org = company_name(prospect, company)
            self.status.who = terminal_safe(f"{who} · {org}" if org else who)  # stored text
        self._hash_cache = None

    def show_choices(self, choices: Choices) -> None:
        with self.prevent(Select.Changed):
            self.query_one("#account-select", Select).set_options(
                (from_choice(a), a.id) for a in choices.accounts
            )
            self.query_one("#template-select", Select).set_options((t.name, t.id) for t in choices.templates)

    def show_selected(self, account_id: str | None, template_id: str | None) -> None:
        choices = self.drafts.choices
        with self.prevent(Select.Changed):
            account_select = self.query_one("#account-select", Select)
            if account_id and any(a.id == account_id for a in choices.accounts):
                account_select.value = account_id
            else:
                account_select.clear()
            template_select = self.query_one("#template-select", Select)
            if template_id and any(t.id == template_id for t in choices.templates):
                template_select.value = template_id
            else:
                template_select.clear()

    def draft_shown(self) -> None:
        subject, body, _tone = self.screen_text()
        self.suggestions.reset(SuggestionBasis(self.prospect_id, subject, body))
        self.sending.draft_opened()
        self.query_one(ScoreCard).reset()
        self._hash_cache = None
        self._update_word_count()
        self._refresh_status()
        self.body.move_cursor((0, 0))
        self.refresh_bindings()

    def recipient_changed(self) -> None:
        self._edited()
        self.suggestions.context_changed()

    def replace_text(
        self, subject: str | None, body: str | None, *, suggestion_id: str | None = None
    ) -> None:
        subject_before = None
        if subject is not None and subject != self.subject.value:
            subject_before = self.subject.value
            self.subject.value = subject
        if body is not None:
            self.body.replace_all(body, subject_before=subject_before, suggestion_id=suggestion_id)

    def edited(self) -> None:
        self._edited()

    def focus_body(self) -> None:
        self.body.focus()

    def suspend(self) -> AbstractContextManager[None]:
        return self.app.suspend()

    def save_open_draft(self) -> None:
        self.lumina.save_open_draft()

    def on_composer_opened(self, message: reads.ComposerOpened) -> None:
        self.drafts.opened(message)

    def on_draft_read(self, message: reads.DraftRead) -> None:
        self.drafts.draft_read(message)

    def on_recipient_read(self, message: reads.RecipientRead) -> None:
        self.drafts.recipient_read(message)

    def on_choices_read(self, message: reads.ChoicesRead) -> None:
        self.drafts.choices_read(message)

    def on_template_filled(self, message: reads.TemplateFilled) -> None:
        self.drafts.template_filled(message)

    def on_drafts_listed(self, message: reads.DraftsListed) -> None:
        self.drafts.drafts_listed(message)

    def on_draft_flushed(self, message: reads.DraftFlushed) -> None:
        self.drafts.flushed(message)

    def on_account_checked(self, message: reads.AccountChecked) -> None:
        text = message.text
        if "accounts signin" in text:  # the same sign-in is one key away here
            text += f" — or {self.key_of('accounts')} (Accounts) and sign in again there"
        self.notify(text, severity=message.severity, timeout=10)

    # ------------------------------------------------------------------ draft actions

    def action_new_draft(self) -> None:
        self.drafts.new_draft()

    def action_open_draft(self) -> None:
        self.drafts.choose_draft()

    def action_choose_prospect(self) -> None:
        self.drafts.choose_prospect()

    def action_duplicate_for_prospect(self) -> None:
        self.drafts.duplicate_for_prospect()

    def action_choose_template(self) -> None:
        self.drafts.choose_template()

    def action_choose_account(self) -> None:
        self.drafts.choose_account(self._account_picked)

    def _account_picked(self, account_id: str | None) -> None:
        if account_id:
            self.query_one("#account-select", Select).value = account_id

    def action_check_account(self) -> None:
        self.drafts.check_account()

    def action_edit_in_editor(self) -> None:
        self.drafts.edit_in_editor()

    def set_prospect(self, prospect_id: str) -> None:
        """Address the open draft to another prospect (read off the event loop first)."""
        self.drafts.set_prospect(prospect_id)

    def compose_to(self, prospect_id: str) -> None:
        """From the prospects screen: write to this prospect (a new draft unless this one is blank)."""
        self.drafts.compose_to(prospect_id)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "choose-prospect":
            self.action_choose_prospect()

    def on_select_changed(self, event: Select.Changed) -> None:
        value = None if event.value is Select.BLANK else str(event.value)
        if event.select.id == "template-select":
            self.drafts.template_selected(value)
        elif event.select.id == "account-select":
            self.drafts.account_selected(value)

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
        if self.suggestions.glow_state == "suggestion_ready":
            self.call_after_refresh(self.suggestions.check_stale)
        self._last_edit = time.monotonic()
        self._score_due = True
        self.suggestions.auto_due = bool(self.settings.composer.auto_personalize)
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
        from lumina_tui.ai.hashing import hash_draft

        key = (self.subject.value, self.body.text, self.prospect_id)
        if self._hash_cache is None or self._hash_cache[0] != key:
            self._hash_cache = (key, hash_draft(*key))
        return self._hash_cache[1]

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
                self.suggestions.request_score(automatic=True)
            else:
                waits.append(composer.score_pause_ms / 1000 - idle)
        if self.suggestions.auto_due:
            if idle >= composer.auto_personalize_pause_ms / 1000:
                self.suggestions.auto_due = False
                if composer.auto_personalize:
                    self.suggestions.maybe_auto_personalize()
            else:
                waits.append(composer.auto_personalize_pause_ms / 1000 - idle)
        if waits:
            self._arm_pause(min(waits))

    def settle_memory_soon(self) -> None:
        """After the panel has drawn something big, at a typing pause: see `LuminaApp.settle_memory`.
        A full settle follows once the rep has been idle for a while."""
        self._full_settle_due = True
        self.call_after_refresh(lambda: self.when_typing_pauses(self.lumina.settle_memory))

    def _settle_fully_when_idle(self) -> None:
        if self._full_settle_due and time.monotonic() - self._last_edit >= IDLE_SECONDS:
            self._full_settle_due = False
            self.lumina.settle_memory(full=True)

    def when_typing_pauses(self, update: Callable[[], object]) -> None:
        """Run an update that re-lays out part of the screen once the rep is not mid-burst, so a
        score or a re-diff landing in the background never delays the frame of a keystroke."""
        quiet = time.monotonic() - self._last_edit
        if quiet >= QUIET_SECONDS:
            update()
        else:
            self.set_timer(QUIET_SECONDS - quiet, lambda: self.when_typing_pauses(update), name="when-quiet")

    # ================================================================== the status line and saving

    def _every_second(self) -> None:
        self._tick += 1
        self._refresh_status()
        self.suggestions.tick()
        self.sending.show_countdown()
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

    def on_draft_saved(self, message: DraftSaved) -> None:
        if self.autosave is not None and message.draft_id == self.draft_id:
            self.autosave.on_saved(message)
        self._refresh_status()

    def on_draft_save_failed(self, message: DraftSaveFailed) -> None:
        if self.autosave is not None and message.draft_id == self.draft_id:
            self.autosave.on_failed(message)
        self._refresh_status()

    def on_screen_suspend(self, _event: ScreenSuspend) -> None:
        self.drafts.save_soon()
        # Under a modal (the send review, help) the composer is still drawn, and Textual repaints
        # it and the whole modal for every message it handles: its once-a-second tick would cost
        # a full frame a second, and land inside a send now and then. It waits until the composer
        # is back on top.
        if self._tick_timer is not None:
            self._tick_timer.pause()

    def on_screen_resume(self, _event: ScreenResume) -> None:
        if self._tick_timer is not None:
            self._tick_timer.reset()  # resumes a second from now: not inside the frame that shows it
        # Accounts or templates may have changed on another screen; read them after the frame
        # that shows this one (back from the send review that frame is "Queued": no read shares
        # its moment).
        if self.is_mounted and self.autosave is not None and not self.sending.in_flight:
            self.call_after_refresh(self._refresh_choices_if_open)

    def _refresh_choices_if_open(self) -> None:
        if self.is_mounted and self.autosave is not None:
            self.drafts.refresh_choices()

    def flush_blocking(self) -> int | None:
        """Save what is on screen, here and now (quit, SIGTERM, SIGHUP)."""
        return self.drafts.flush_blocking()

    # ================================================================== keys and hints

    def key_of(self, action: str) -> str:
        """The key that runs an action now (its registry id), as the Footer shows it (keymap applied)."""
        return key_display(self.app, action)

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

    def bell(self) -> None:
        self.app.bell()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        suggestion = self.suggestions.suggestion
        if action == "accept":
            return True if suggestion is not None and not self.read_only else None
        if action == "reject":  # shown (greyed) always; Esc passes on when there is nothing to reject
            return True if suggestion is not None or self._score_drawer_open else None
        if action == "undo_send":
            return self.sending.pending is not None
        if action == "send":
            # A read-only draft keeps the key live: pressing it says why it cannot be sent.
            return None if self.sending.in_flight else True
        return True

    # ================================================================== SuggestionSession's host

    def show_glow(self, state: str, suggestion: Suggestion | None) -> None:
        self.panel.state = state
        self.status.ai = state
        if suggestion is not None:
            self.status.confidence = float(suggestion.confidence)
        self.set_class(state in ("suggestion_ready", "stale"), "-has-suggestion")
        # The Footer rebuilds itself on a bindings refresh; only ask when Accept/Reject change.
        showing = suggestion is not None
        if showing != self._bindings_for_suggestion:
            self._bindings_for_suggestion = showing
            self.refresh_bindings()

    def show_ai_note(self, text: str, *, error: bool = False) -> None:
        self.panel.view.clear()
        self.panel.show_note(text, error=error)

    def clear_ai_panel(self, note: str) -> None:
        self.panel.clear(note)

    def show_suggestion(self, suggestion: Suggestion) -> None:
        self.panel.age = 0.0
        self.panel.show_suggestion(suggestion, self.subject.value, self.body.text)

    def show_suggestion_age(self, seconds: float) -> None:
        self.panel.age = seconds

    def show_rediff(self, body: str, ops: list[Any]) -> None:
        self.panel.view.show_diff(body, ops)
        self.panel.view.show_subject(self.subject.value)

    def panel_edits(self) -> PanelEdits:
        view = self.panel.view
        return PanelEdits(view.edited_body, view.was_edited, view.suggested_subject)

    def suggested_body(self) -> str | None:
        return self.panel.view.suggested_body

    def open_drawer(self) -> None:
        if self.has_class("-narrow"):
            self._close_score_drawer()
            self.add_class("-drawer-open")

    def close_drawer(self) -> None:
        self.remove_class("-drawer-open")

    def show_score_pending(self) -> None:
        self.query_one(ScoreCard).show_pending()

    def show_score(self, score: Score, revision: int) -> None:
        self.query_one(ScoreCard).show_score(score, revision)

    def show_score_error(self, text: str) -> None:
        self.query_one(ScoreCard).show_error(text)

    def shown_score(self) -> tuple[Any, int]:
        card = self.query_one(ScoreCard)
        return card.score, card.revision

    @property
    def _score_drawer_open(self) -> bool:
        return self.has_class("-score-open")

    def _close_score_drawer(self) -> None:
        self.remove_class("-score-open")
        self.refresh_bindings()

    def on_suggestion_arrived(self, message: SuggestionArrived) -> None:
        self.suggestions.arrived(message)

    def on_suggestion_failed(self, message: SuggestionFailed) -> None:
        self.suggestions.failed(message)

    def on_rediffed(self, message: reads.Rediffed) -> None:
        self.suggestions.rediffed(message)

    def on_score_arrived(self, message: ScoreArrived) -> None:
        self.suggestions.score_arrived(message)

    def on_score_failed(self, message: ScoreFailed) -> None:
        self.suggestions.score_failed(message)

    @on(BodyEditor.ReplacementUndone)
    def _replacement_undone(self, event: BodyEditor.ReplacementUndone) -> None:
        if event.subject_before is not None:
            self.subject.value = event.subject_before
        self.suggestions.replacement_undone(event.suggestion_id)

    # ------------------------------------------------------------------ AI actions

    def action_personalize(self) -> None:
        self.suggestions.personalize()

    def action_rewrite(self) -> None:
        self.suggestions.rewrite()

    def action_accept(self) -> None:
        self.suggestions.accept()

    def action_reject(self) -> None:
        if not self.suggestions.reject() and self._score_drawer_open:
            self._close_score_drawer()
            self.body.focus()

    def action_toggle_ai_panel(self) -> None:
        """In a narrow terminal the AI panel is a drawer over the body; this opens or closes it."""
        if self.has_class("-narrow"):
            self.remove_class("-score-open")
            self.toggle_class("-drawer-open")

    def action_score(self) -> None:
        # At 80x24 the score card is folded away: ctrl+l shows it as a drawer over the body (Esc or
        # the next keystroke closes it).
        if self.has_class("-narrow"):
            self.remove_class("-drawer-open")
            self.add_class("-score-open")
            self.refresh_bindings()
        self.suggestions.request_score(automatic=False)

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
        self.suggestions.personalize()

    def on_descendant_blur(self, event: DescendantBlur) -> None:
        if isinstance(event.widget, ToneSlider):
            self.remove_class("-tone-open")

    # ================================================================== SendFlow's host

    def show_banner(self, text: str, *, error: bool = False) -> None:
        banner = self.query_one("#send-banner", Static)
        banner.update(text)
        banner.set_class(error, "-error")
        banner.display = True

    def hide_banner(self) -> None:
        self.query_one("#send-banner", Static).display = False

    def send_warnings(self, body: str) -> list[str]:
        return self.suggestions.claims_in(body)

    def accepted_suggestion_ids(self) -> list[str]:
        return self.suggestions.accepted_ids

    def sent(self, then: Callable[[], None] | None) -> None:
        # The sent draft is frozen at once (an edit in this frame is not saved); a fresh one starts
        # for the next email right after the frame that shows the banner (resetting every widget is
        # most of that frame's work otherwise), then `then` runs (asking for a worker).
        # The screen itself is marked for layout first: the banner's own request reaches the
        # screen only when the banner next idles, and a callback queued before it ran ahead of
        # the frame, putting the new draft's reset between Enter and "Queued".
        self.drafts.read_only = True
        self.refresh(layout=True)
        self.call_after_refresh(lambda: self._start_after_send(then))

    def _start_after_send(self, then: Callable[[], None] | None) -> None:
        self.drafts.open(DraftView(None, Recipient()))
        self.body.focus()
        self.refresh_bindings()
        if then is not None:
            then()

    def reopen(self, draft_id: str, after: Callable[[], None] | None) -> None:
        self.drafts.open_by_id(draft_id, after=after)

    def on_review_ready(self, message: ReviewReady) -> None:
        self.sending.review_ready(message)

    def on_send_queued(self, message: SendQueued) -> None:
        self.sending.queued(message)

    def on_send_failed(self, message: SendFailed) -> None:
        self.sending.failed(message)

    def on_send_undone(self, message: SendUndone) -> None:
        self.sending.undone(message)

    def on_undo_failed(self, message: UndoFailed) -> None:
        self.sending.undo_failed(message)

    def action_send(self) -> None:
        self.sending.send()

    def action_undo_send(self) -> None:
        self.sending.undo()

    def seconds_until_send(self) -> float | None:
        """Seconds left in the undo window of the email just queued (the app asks before quitting)."""
        return self.sending.seconds_until_send()

    def undo_send_then(self, then: Callable[[], None] | None) -> None:
        """Cancel the queued email; once its draft is back, run `then` (quit: "undo and quit")."""
        self.sending.undo(then)

    # ================================================================== what tests and the app read

    @property
    def suggestion(self) -> Any:
        return self.suggestions.suggestion

    @property
    def glow_state(self) -> str:
        return self.suggestions.glow_state

    @property
    def _ai_request(self) -> int:
        return self.suggestions.request_number

    @property
    def _auto_due(self) -> bool:
        return self.suggestions.auto_due

    @property
    def _accepted_ids(self) -> list[str]:
        return self.suggestions.accepted_ids

    @property
    def _pending_send(self) -> PendingSend | None:
        return self.sending.pending

    @property
    def _accounts(self) -> list[Any]:
        return self.drafts.choices.accounts

    def _refresh_choices(self) -> None:
        self.drafts.refresh_choices()


def read_worker_status(settings: Any) -> WorkerStatusRead:
    """Thread worker: is the sidecar worker alive (its heartbeat)?"""
    try:
        from lumina_tui.services import worker_status

        status = worker_status.read_status(settings)
    except Exception as exc:
        return WorkerStatusRead(False, error_text(exc))
    return WorkerStatusRead(bool(status.online), str(status.reason or ""))
