"""Small questions the composer asks: pick one of a list (or type your own), or yes/no.

Used for the rewrite instruction, templates, From accounts, the drafts list and "apply a stale
suggestion anyway?". Each returns its answer through `dismiss`, None meaning "never mind".
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.events import Key
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from lumina_tui.services.terminal_text import terminal_safe
from lumina_tui.tui.bindings import (
    CONFIRM_BINDINGS,
    DIALOG_BINDINGS,
    QUIT_WHILE_SENDING_BINDINGS,
    key_display,
)
from lumina_tui.tui.widgets.safe_text import SafeInput


class ChoiceDialog(ModalScreen[str | None]):
    """A list to pick from; with `free_text`, whatever the rep types is an answer too."""

    BINDINGS = DIALOG_BINDINGS

    def __init__(
        self,
        title: str,
        choices: Sequence[tuple[str, str]],
        *,
        free_text: str | None = None,
        empty: str = "Nothing to choose from yet.",
        id: str | None = None,
    ) -> None:
        super().__init__(id=id)
        self.title_text = title
        self.choices = list(choices)
        self.free_text = free_text
        self.empty = empty

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(self.title_text, classes="dialog-title")
            if self.free_text is not None:
                yield SafeInput(placeholder=self.free_text, id="choice-input")
            if self.choices:
                # Labels hold stored text (draft subjects, names, template and account names).
                options = [Option(Content(terminal_safe(label)), id=key) for key, label in self.choices]
                yield OptionList(*options, id="choice-list")
            else:
                yield Static(self.empty, classes="dialog-empty")
            yield Static(f"⏎ choose · {key_display(self.app, 'dialog_cancel')} back", classes="dialog-hint")

    def on_mount(self) -> None:
        if self.free_text is not None:
            self.query_one("#choice-input", Input).focus()
        elif self.choices:
            self.query_one("#choice-list", OptionList).focus()

    @on(OptionList.OptionSelected, "#choice-list")
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    @on(Input.Submitted, "#choice-input")
    def _typed(self, event: Input.Submitted) -> None:
        text = event.value.strip()
        if text:
            self.dismiss(text)
        elif self.choices:
            options = self.query_one("#choice-list", OptionList)
            if options.highlighted is not None:
                self.dismiss(self.choices[options.highlighted][0])

    def on_key(self, event: Key) -> None:
        # From the text box, ↓ walks into the list of common choices.
        if event.key == "down" and isinstance(self.focused, Input) and self.choices:
            options = self.query_one("#choice-list", OptionList)
            options.focus()
            if options.highlighted is None:
                options.highlighted = 0
            event.stop()

    def action_cancel(self) -> None:
        self.dismiss(None)


class ConfirmDialog(ModalScreen[bool]):
    """Yes (Enter, y) or no (Esc, n)."""

    BINDINGS = CONFIRM_BINDINGS

    def __init__(self, question: str, detail: str = "", *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.question = question
        self.detail = detail

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            # The question may quote stored text (an account's name): never parsed as markup.
            yield Label(Content(terminal_safe(self.question)), classes="dialog-title")
            if self.detail:
                yield Static(terminal_safe(self.detail, multiline=True), markup=False)
            yield Static(
                f"{key_display(self.app, 'confirm_yes')} yes · {key_display(self.app, 'confirm_no')} no",
                classes="dialog-hint",
            )

    def action_confirm(self) -> None:
        self.dismiss(True)

    def action_cancel(self) -> None:
        self.dismiss(False)


#: Each answer of the quit question, and the registry id of its key.
QUIT_CHOICES = {"quit": "quit_anyway", "undo": "quit_undo_send", "stay": "quit_stay"}


class QuitWhileSendingDialog(ModalScreen[str]):
    """Quitting inside a send's undo window: the email still goes out, so ask (issue 9.14).

    Answers "quit" (it will be sent), "undo" (cancel the send, then quit) or "stay". The countdown
    follows `seconds_left()`; once the window has closed, undoing is no longer offered.
    """

    HELP_GROUP = "Quit while an email waits"
    BINDINGS = QUIT_WHILE_SENDING_BINDINGS

    def __init__(self, seconds_left: Callable[[], float | None], *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.seconds_left = seconds_left

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(self._question(), id="quit-question", classes="dialog-title")
            yield Static(
                "Quitting does not stop it: the worker sends it when the undo window closes.",
                markup=False,
            )
            with Horizontal(id="quit-buttons"):
                yield Button(f"Quit {self._key('quit')}", id="quit-anyway", compact=True)
                yield Button(f"Undo send and quit {self._key('undo')}", id="quit-undo", compact=True)
                yield Button(f"Stay {self._key('stay')}", id="quit-stay", compact=True, variant="primary")

    def _key(self, choice: str) -> str:
        return key_display(self.app, QUIT_CHOICES[choice])

    def on_mount(self) -> None:
        self.query_one("#quit-stay", Button).focus()
        self.set_interval(1.0, self._tick, name="quit-countdown")

    def _question(self) -> str:
        left = self.seconds_left()
        if left is None or left <= 0:
            return "1 email is being sent now."
        return f"1 email will still be sent in {max(1, round(left))} s."

    def _tick(self) -> None:
        self.query_one("#quit-question", Label).update(self._question())
        left = self.seconds_left()
        self.query_one("#quit-undo", Button).disabled = left is None or left <= 0

    def action_choose(self, choice: str) -> None:
        if choice == "undo" and self.query_one("#quit-undo", Button).disabled:
            self.notify("Too late to undo: the email is on its way.", severity="warning")
            return
        self.dismiss(choice)

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        choice = {"quit-anyway": "quit", "quit-undo": "undo", "quit-stay": "stay"}.get(event.button.id or "")
        if choice:
            self.action_choose(choice)
