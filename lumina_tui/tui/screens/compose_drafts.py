"""The composer's draft and prospect actions: new draft, the drafts list, duplicate for another
prospect, choosing a prospect, a template or a From account, and composing in $EDITOR.

Mixed into `ComposeScreen`. Switching drafts always saves the open one first (off the event loop).
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import shlex
import signal
import subprocess
import tempfile
from collections.abc import Callable
from typing import Any

from textual.widgets import Button, Select

from lumina_tui.services import accounts as account_service
from lumina_tui.services import drafts, templates
from lumina_tui.services.errors import LuminaError
from lumina_tui.tui.messages import error_text
from lumina_tui.tui.screens.dialogs import ChoiceDialog
from lumina_tui.tui.widgets.prospect_card import company_name, prospect_name
from lumina_tui.tui.widgets.prospect_picker import ProspectPicker

log = logging.getLogger(__name__)


class ComposeDrafts:
    """Draft, prospect, template, account and $EDITOR actions for `ComposeScreen`."""

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
            self.notify(error_text(exc), severity="error")
            return
        self.open_draft(draft)
        self.body.focus()

    def action_new_draft(self) -> None:
        self.flush_current_then(lambda: (self.open_draft(None), self.body.focus()))

    def action_choose_prospect(self) -> None:
        if self.read_only:
            self.explain_read_only()
            return
        self.app.push_screen(ProspectPicker(), self._prospect_chosen)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "choose-prospect":
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
        # Each draft with what became of it: a send undone in its window reads "cancelled" (its
        # editable copy is listed beside it), never "sent".
        page = drafts.list_overview(runtime.db, runtime.actor, include_sent=True, limit=100)
        choices = []
        for row in page.items:
            draft = row.draft
            empty = not (draft.subject.strip() or draft.body_text.strip() or draft.prospect_id)
            if empty and not draft.sent_at:
                continue  # an empty draft (stored by an older version) is nothing to open
            state = f"rev {draft.revision}" if row.status == drafts.DRAFT else row.status
            when = draft.updated_at.strftime("%Y-%m-%d %H:%M")
            label = f"{draft.subject or '(no subject)'} — {row.prospect or 'no prospect'} · {when} · {state}"
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

    def on_select_changed(self, event: Select.Changed) -> None:
        if event.select.id == "template-select":
            self._template_chosen(event)
        elif event.select.id == "account-select":
            self._account_chosen(event)

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
            self.notify(error_text(exc), severity="error")
            return
        self.template_id = template_id
        subject_before = self.subject.value
        self.subject.value = filled.subject
        self.body.replace_all(filled.body, subject_before=subject_before)
        self._edited()
        if filled.missing:
            fields = ", ".join(filled.missing)
            self.notify(f"No value for {fields}: left as {{{{field}}}} for you to fill.", severity="warning")

    def _account_chosen(self, event: Select.Changed) -> None:
        value = None if event.value is Select.BLANK else str(event.value)
        if value != self.account_id and not self.read_only:
            self.account_id = value
            self._edited()

    def action_choose_account(self) -> None:
        accounts = getattr(self, "_accounts", [])
        choices = [(a.id, account_service.choice_label(a)) for a in accounts]
        self.app.push_screen(
            ChoiceDialog("Send from", choices, empty="No accounts: `lumina accounts add …`, `lumina demo`."),
            self._account_picked,
        )

    def _account_picked(self, account_id: str | None) -> None:
        if account_id:
            self.query_one("#account-select", Select).value = account_id

    def action_check_account(self) -> None:
        """Check the From account without sending (sign-in, connection), off the event loop."""
        runtime, ref = self.runtime, self.account_id

        def check() -> None:
            try:
                result = account_service.test_account(runtime.db, runtime.actor, ref, runtime.settings)
                text, severity = f"{result['account']['name']}: {result['detail']}", "information"
            except LuminaError as exc:
                text, severity = error_text(exc), "error"
            self.app.call_from_thread(self.notify, text, severity=severity, timeout=10)

        self.run_worker(check, thread=True, group="check-account", exit_on_error=False, name="check account")

    # ================================================================== $EDITOR

    def action_edit_in_editor(self) -> None:
        """Suspend the app, edit the body in $VISUAL/$EDITOR, put the result back as one edit.

        The draft is saved first (off the event loop), so whatever the editor does, nothing typed
        before it is lost. The editor's file is deleted only once its text is in the draft: when the
        editor fails or writes something that is not UTF-8, the file stays and the rep is told where.
        """
        if self.read_only:
            self.explain_read_only()
            return
        self.flush_current_then(self._edit_in_editor)

    def _edit_in_editor(self) -> None:
        editor = os.environ.get("VISUAL") or os.environ.get("EDITOR") or "vi"
        body = self.body.text
        with tempfile.NamedTemporaryFile(
            "w", prefix="lumina-draft-", suffix=".txt", delete=False, encoding="utf-8", newline=""
        ) as handle:
            # Text files end with a newline (POSIX; editors warn or add one); it is taken off again below.
            handle.write(body if body.endswith("\n") else body + "\n")
            path = handle.name
        command = [*shlex.split(editor), path]
        try:
            try:
                with self.app.suspend():
                    code = self._run_editor(command)
            except Exception as exc:  # SuspendNotSupported (headless tests, web): run it anyway
                if exc.__class__.__name__ != "SuspendNotSupported":
                    raise
                code = self._run_editor(command, stdin=subprocess.DEVNULL)
            with open(path, "rb") as handle:
                raw = handle.read()
        except OSError as exc:
            self.notify(f"Could not run {editor}: {exc}; the draft is unchanged.", severity="error")
            with contextlib.suppress(OSError):
                os.unlink(path)
            return
        if code != 0:
            self.notify(
                f"{editor} exited with {code}; the draft is unchanged. "
                f"What the editor left is kept in {path}",
                severity="warning",
                timeout=20,
            )
            return
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            self.notify(
                f"{editor} saved text that is not UTF-8 (byte {raw[exc.start]:#04x} at offset {exc.start}); "
                f"the draft is unchanged. Your text is kept in {path}",
                title="Not applied",
                severity="error",
                timeout=30,
            )
            return
        with contextlib.suppress(OSError):
            os.unlink(path)
        text = text.replace("\r\n", "\n")
        if text.endswith("\n") and not body.endswith("\n"):
            text = text[:-1]  # the final newline the file got (or the editor added), not the rep's
        self.body.replace_all(text)
        self._edited()
        self.body.focus()

    def _run_editor(self, command: list[str], **options: Any) -> int:
        """Run the editor and wait. The event loop is blocked meanwhile, so the app's own SIGTERM/
        SIGHUP handling cannot run: if the terminal goes away now, this handler saves the draft,
        stops the editor and exits at once (the terminal is gone; there is nothing to restore).
        It is in place before the editor starts, so no signal can slip in between."""
        editor: subprocess.Popen[bytes] | None = None

        def hang_up(number: int, _frame: object) -> None:
            if editor is not None:
                with contextlib.suppress(OSError):
                    editor.terminate()
            save = getattr(self.app, "save_open_draft", None)
            if save is not None:
                save()
            os._exit(128 + number)

        previous = {number: signal.signal(number, hang_up) for number in (signal.SIGHUP, signal.SIGTERM)}
        try:
            editor = subprocess.Popen(command, **options)
            return editor.wait()
        finally:
            for number, handler in previous.items():
                signal.signal(number, handler)


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
            # Whole words only; lookarounds rather than \b, which never matches before a name that
            # starts with a non-word character. The replacement is a function so that a backslash
            # in a name is text, not a group reference (`re.error: bad escape`).
            text = re.sub(rf"(?<!\w){re.escape(old)}(?!\w)", lambda _match, new=new: new, text)
    return text
