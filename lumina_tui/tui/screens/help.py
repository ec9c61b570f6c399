"""Help (f1): every key of the app and its screens, from the live bindings (skeleton)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import ModalScreen
from textual.widgets import Static


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape", "close", "Close", id="help.close")]

    def compose(self) -> ComposeResult:
        yield Static("Keys")

    def action_close(self) -> None:
        self.dismiss(None)
