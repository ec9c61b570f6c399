"""The open draft: which one it is, its prospect, template and From account, and every way to
change that (open, switch, new, duplicate, compose to a prospect, template, $EDITOR).

`DraftSession` owns that state and the draft's `DraftAutosave`; the screen (its `DraftHost`) owns
the widgets. Switching drafts always saves the open one first, in the same thread worker that then
reads the next one (`reads.py`); the answer comes back as a `DraftRead` message, and only the answer
to the latest request is shown, so a slow read can never replace a draft opened after it.
"""

from __future__ import annotations

import contextlib
import logging
import os
import subprocess
import uuid
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Protocol

from textual.message import Message
from textual.screen import Screen

from lumina_tui.tui.compose import editor as external_editor
from lumina_tui.tui.compose import reads
from lumina_tui.tui.compose.reads import Choices, DraftRead, DraftView, Recipient
from lumina_tui.tui.screens.dialogs import ChoiceDialog
from lumina_tui.tui.widgets.draft_autosave import DraftAutosave, DraftSnapshot
from lumina_tui.tui.widgets.prospect_picker import ProspectPicker

if TYPE_CHECKING:
    from lumina_tui.services.runtime import Runtime

log = logging.getLogger(__name__)


class DraftHost(Protocol):
    """What `DraftSession` needs from the screen that shows the draft."""

    @property
    def runtime(self) -> Runtime: ...

    def run_service(self, job: Callable[[], Message | None], *, group: str, exclusive: bool = True) -> None:
        """Run `job` in a thread worker and post the message it returns to the screen."""

    def new_autosave(self, *, stored_revision: int, stored: DraftSnapshot | None) -> DraftAutosave: ...

    def notify(
        self, message: str, *, title: str = "", severity: Any = "information", timeout: float | None = None
    ) -> None: ...

    def ask(self, screen: Screen[Any], answered: Callable[[Any], None]) -> None:
        """Show a dialog; `answered` gets its result."""

    def explain_read_only(self) -> None: ...

    def screen_text(self) -> tuple[str, str, float]:
        """(subject, body, tone) as the widgets show them now."""

    def show_draft(
        self, subject: str, body: str, *, tone: float | None, read_only: bool, frozen_as: str | None
    ) -> float:
        """Put a draft in the widgets (no Changed events); returns the tone the slider shows."""

    def show_recipient(self, recipient: Recipient) -> None: ...

    def show_choices(self, choices: Choices) -> None: ...

    def show_selected(self, account_id: str | None, template_id: str | None) -> None: ...

    def draft_shown(self) -> None:
        """A draft was opened: reset what belongs to the previous one (AI panel, score, word count)."""

    def recipient_changed(self) -> None:
        """The open draft is for another prospect now (a meaningful context change)."""

    def replace_text(self, subject: str | None, body: str) -> None:
        """Replace the subject (None: keep it) and the body as one undoable edit."""

    def edited(self) -> None: ...

    def focus_body(self) -> None: ...

    def suspend(self) -> AbstractContextManager[None]:
        """Hand the terminal to another program (the editor)."""

    def save_open_draft(self) -> None:
        """The last-chance save (a hang-up while the editor runs)."""


class DraftSession:
    """The open draft and how it changes; see the module docstring."""

    def __init__(self, host: DraftHost) -> None:
        self.host = host
        self.draft_id = ""
        self.recipient = Recipient()
        self.template_id: str | None = None
        self.account_id: str | None = None
        self.read_only = False
        self.autosave: DraftAutosave | None = None
        self.choices = Choices([], [])
        self._request = 0
        self._after_open: Callable[[], None] | None = None
        self._flushed: Callable[[], None] | None = None

    # ------------------------------------------------------------------ what is open

    @property
    def prospect(self) -> Any:
        return self.recipient.prospect

    @property
    def company(self) -> Any:
        return self.recipient.company

    @property
    def prospect_id(self) -> str | None:
        return self.recipient.prospect_id

    def snapshot(self) -> DraftSnapshot:
        """What the rep sees, as the store will keep it (the autosave reads this, UI thread)."""
        subject, body, tone = self.host.screen_text()
        return DraftSnapshot(
            draft_id=self.draft_id,
            subject=subject,
            body=body,
            prospect_id=self.prospect_id,
            template_id=self.template_id,
            account_id=self.account_id,
            tone=tone,
        )

    def flush_blocking(self) -> int | None:
        """Save what is on screen, here and now (quit, SIGTERM, SIGHUP)."""
        if self.autosave is None or self.read_only:
            return None
        return self.autosave.flush_blocking()

    def save_soon(self) -> None:
        if self.autosave is not None and not self.read_only:
            self.autosave.save_soon()

    # ------------------------------------------------------------------ opening

    def opened(self, message: reads.ComposerOpened) -> None:
        """The composer's first read arrived: fill the selectors, show the draft."""
        if message.choices is not None:
            self.choices = message.choices
            self.host.show_choices(message.choices)
        for text, severity in message.problems:
            self.host.notify(text, severity=severity, timeout=8 if severity == "error" else None)
        self.open(message.view)

    def open(self, view: DraftView) -> None:
        """Show a stored draft (or a new one when `view.draft` is None); the widgets become its state."""
        if self.autosave is not None:
            self.autosave.cancel()
        draft = view.draft
        stored: DraftSnapshot | None = None
        if draft is None:
            self.draft_id = str(uuid.uuid4())  # client-chosen: saves are idempotent
            subject, body = "", ""
            self.template_id = None
            self.account_id = self.account_id or self.choices.default_account()
            self.read_only = False
            revision = 0
        else:
            self.draft_id = draft.id
            subject, body = draft.subject, draft.body_text
            self.template_id = draft.template_id
            self.account_id = draft.account_id or self.choices.default_account()
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
        self.recipient = view.recipient
        self.host.show_recipient(view.recipient)
        # The draft's own tone (kept with it across restarts), else the sender's default.
        tone = draft.tone if draft is not None and draft.tone is not None else self.choices.default_tone
        shown_tone = self.host.show_draft(
            subject, body, tone=tone, read_only=self.read_only, frozen_as=view.frozen_as
        )
        if stored is not None and draft is not None and draft.tone is None:
            # Not stored yet: what the slider shows now is not a change the rep made.
            stored = replace(stored, tone=shown_tone)
        self.host.show_selected(self.account_id, self.template_id)
        self.autosave = self.host.new_autosave(stored_revision=revision, stored=stored)
        if draft is None and view.recipient.prospect is not None:
            self.autosave.edited()  # a new draft for a chosen prospect is worth keeping
        self.host.draft_shown()

    def refresh_choices(self) -> None:
        """Back from another screen: accounts or templates may have changed (the CLI, an import)."""
        runtime = self.host.runtime
        self.host.run_service(lambda: reads.refresh_choices(runtime), group="choices")

    def choices_read(self, message: reads.ChoicesRead) -> None:
        """Touch the selectors only if something they show did change."""
        if message.choices.shown_as() != self.choices.shown_as():
            self.choices = message.choices
            self.host.show_choices(message.choices)
            self.host.show_selected(self.account_id, self.template_id)
        else:
            self.choices = message.choices

    # ------------------------------------------------------------------ switching

    def _switch(
        self, load: Callable[[int], Message | None], *, after: Callable[[], None] | None = None
    ) -> None:
        """Save the open draft (unless unchanged or sent), then run `load` with a new request number,
        both in one thread worker; the `DraftRead` it returns opens the next draft."""
        self._request += 1
        request = self._request
        self._after_open = after
        autosave = self.autosave
        if autosave is None or self.read_only or autosave.state == "new":
            save: Callable[[], None] | None = None
        else:
            seq, snapshot = autosave.capture()
            autosave.cancel()

            def save() -> None:
                try:
                    autosave.save_blocking(seq, snapshot)
                except Exception as exc:
                    log.warning("saving draft %s before switching failed: %s", snapshot.draft_id, exc)

        def job() -> Message | None:
            if save is not None:
                save()
            return load(request)

        self.host.run_service(job, group="switch")

    def draft_read(self, message: DraftRead) -> None:
        if message.request != self._request:
            return  # a newer switch was asked for meanwhile
        after, self._after_open = self._after_open, None
        if message.error is not None:
            self.host.notify(message.error, severity="error")
        if message.warning is not None:
            self.host.notify(message.warning, severity="warning")
        if message.view is not None:
            self.open(message.view)
            self.host.focus_body()
            if message.note:
                self.host.notify(message.note)
        if after is not None:
            after()

    def new_draft(self) -> None:
        self._switch(lambda request: DraftRead(request, DraftView(None, Recipient())))

    def open_by_id(self, draft_id: str, *, after: Callable[[], None] | None = None) -> None:
        """Save the open draft, then open `draft_id`; `after` runs once it is shown (or failed)."""
        runtime = self.host.runtime
        self._switch(lambda request: reads.open_draft(runtime, request, draft_id), after=after)

    def compose_to(self, prospect_id: str) -> None:
        """From the prospects screen: write to this prospect (a new draft unless this one is blank)."""
        subject, body, _tone = self.host.screen_text()
        if not body.strip() and not subject.strip() and not self.read_only:
            self.set_prospect(prospect_id)
            return
        runtime = self.host.runtime
        self._switch(lambda request: reads.new_draft_for(runtime, request, prospect_id))

    def choose_draft(self) -> None:
        """The drafts list: read off the event loop, then a dialog to pick one."""
        runtime = self.host.runtime
        self.host.run_service(lambda: reads.list_drafts(runtime), group="drafts-list")

    def drafts_listed(self, message: reads.DraftsListed) -> None:
        if message.error is not None:
            self.host.notify(message.error, severity="error")
            return
        dialog = ChoiceDialog("Open a draft", message.choices, empty="No drafts yet.")
        self.host.ask(dialog, self._draft_chosen)

    def _draft_chosen(self, draft_id: str | None) -> None:
        if draft_id and draft_id != self.draft_id:
            self.open_by_id(draft_id)

    def duplicate_for_prospect(self) -> None:
        self.host.ask(ProspectPicker("Duplicate this draft for…"), self._duplicate_for)

    def _duplicate_for(self, prospect_id: str | None) -> None:
        if not prospect_id:
            return
        subject, body, _tone = self.host.screen_text()
        source = reads.Duplicate(subject, body, self.recipient, self.template_id, self.account_id)
        runtime = self.host.runtime
        self._switch(lambda request: reads.duplicate_for(runtime, request, source, prospect_id))

    # ------------------------------------------------------------------ prospect

    def choose_prospect(self) -> None:
        if self.read_only:
            self.host.explain_read_only()
            return
        self.host.ask(ProspectPicker(), self._prospect_chosen)

    def _prospect_chosen(self, prospect_id: str | None) -> None:
        if prospect_id and prospect_id != self.prospect_id:
            self.set_prospect(prospect_id)

    def set_prospect(self, prospect_id: str) -> None:
        """Address the open draft to another prospect, once it is read (a meaningful context change)."""
        runtime, draft_id = self.host.runtime, self.draft_id
        self.host.run_service(
            lambda: reads.choose_recipient(runtime, draft_id, prospect_id), group="recipient"
        )

    def recipient_read(self, message: reads.RecipientRead) -> None:
        if message.error is not None:
            self.host.notify(message.error, severity="warning")
        if message.recipient is None or message.draft_id != self.draft_id or self.read_only:
            return
        self.recipient = message.recipient
        self.host.show_recipient(message.recipient)
        self.host.recipient_changed()

    # ------------------------------------------------------------------ template and account

    def template_selected(self, template_id: str | None) -> None:
        if template_id is None or template_id == self.template_id or self.read_only:
            return
        self.apply_template(template_id)

    def choose_template(self) -> None:
        choices = [(t.id, t.name) for t in self.choices.templates]
        self.host.ask(
            ChoiceDialog("Apply a template", choices, empty="No templates yet (lumina demo adds three)."),
            lambda chosen: self.apply_template(chosen) if chosen else None,
        )

    def apply_template(self, template_id: str) -> None:
        """Fill the template from the prospect (off the event loop), then put it in the draft."""
        runtime, draft_id, prospect_id = self.host.runtime, self.draft_id, self.prospect_id
        self.host.run_service(
            lambda: reads.fill_template(runtime, draft_id, template_id, prospect_id), group="template"
        )

    def template_filled(self, message: reads.TemplateFilled) -> None:
        """One undoable change; fields with no value stay as {{field}} for the rep."""
        if message.error is not None:
            self.host.notify(message.error, severity="error")
            return
        if message.draft_id != self.draft_id or self.read_only:
            return
        filled = message.filled
        self.template_id = message.template_id
        self.host.replace_text(filled.subject, filled.body)
        self.host.edited()
        if filled.missing:
            fields = ", ".join(filled.missing)
            self.host.notify(
                f"No value for {fields}: left as {{{{field}}}} for you to fill.", severity="warning"
            )

    def account_selected(self, account_id: str | None) -> None:
        if account_id != self.account_id and not self.read_only:
            self.account_id = account_id
            self.host.edited()

    def choose_account(self, picked: Callable[[str | None], None]) -> None:
        from lumina_tui.services import accounts as account_service

        choices = [(a.id, account_service.choice_label(a)) for a in self.choices.accounts]
        self.host.ask(
            ChoiceDialog("Send from", choices, empty="No accounts: `lumina accounts add …`, `lumina demo`."),
            picked,
        )

    def check_account(self) -> None:
        """Check the From account without sending (sign-in, connection), off the event loop."""
        runtime, ref = self.host.runtime, self.account_id
        self.host.run_service(lambda: reads.check_account(runtime, ref), group="check-account")

    # ------------------------------------------------------------------ $EDITOR

    def edit_in_editor(self) -> None:
        """Suspend the app, edit the body in $VISUAL/$EDITOR, put the result back as one edit.

        The draft is saved first (off the event loop), so whatever the editor does, nothing typed
        before it is lost."""
        if self.read_only:
            self.host.explain_read_only()
            return
        self._switch(lambda request: reads.DraftFlushed(request), after=None)

    def flushed(self, message: reads.DraftFlushed) -> None:
        if message.request == self._request:
            self._run_editor()

    def _run_editor(self) -> None:
        editor = external_editor.editor_command()
        _subject, body, _tone = self.host.screen_text()
        path = external_editor.write_body(body)
        command = external_editor.command_for(editor, path)
        try:
            try:
                with self.host.suspend():
                    code = external_editor.run_editor(command, self.host.save_open_draft)
            except Exception as exc:  # SuspendNotSupported (headless tests, web): run it anyway
                if exc.__class__.__name__ != "SuspendNotSupported":
                    raise
                code = external_editor.run_editor(
                    command, self.host.save_open_draft, stdin=subprocess.DEVNULL
                )
        except OSError as exc:
            self.host.notify(f"Could not run {editor}: {exc}; the draft is unchanged.", severity="error")
            with contextlib.suppress(OSError):
                os.unlink(path)
            return
        result = external_editor.read_back(editor, path, code, body)
        if result.text is None:
            self.host.notify(
                result.message, title=result.title, severity=result.severity, timeout=result.timeout
            )
            return
        self.host.replace_text(None, result.text)
        self.host.edited()
        self.host.focus_body()
