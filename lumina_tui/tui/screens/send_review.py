"""The send review: one look at what will go out, then Enter sends and Esc goes back (skeleton)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import ModalScreen
from textual.widgets import Static

from lumina_tui.services.send_review import SendReview


class SendReviewScreen(ModalScreen[bool]):
    BINDINGS = [
        Binding("enter", "confirm", "Send", id="send_review.confirm"),
        Binding("escape", "back", "Back", id="send_review.back"),
    ]

    def __init__(self, review: SendReview) -> None:
        super().__init__()
        self.review = review

    def compose(self) -> ComposeResult:
        yield Static(f"Send this email? {self.review.subject}")

    def action_confirm(self) -> None:
        if self.review.can_send:
            self.dismiss(True)

    def action_back(self) -> None:
        self.dismiss(False)
