"""The send review: one look at what will go out, then Enter sends and Esc goes back.

The screen only shows a `SendReview` (built by `services.send_review.build_review`, off the event
loop, by the composer) and answers True or False; the composer does the send with the review's
idempotency key. Blockers disable Enter and say why, in words, next to the disabled key.

With `on_confirm` (the composer), Enter does not close the review: it calls `on_confirm`, which
starts storing the email, and the review stays up, Enter and Esc ignored, until the composer closes
it (`dismiss(True)`) in the same step that shows "Queued" or why not. So nothing is drawn between
Enter and that frame, the send has the CPU to itself, and nobody can edit the draft meanwhile
(issue 10 point 9).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Label, Static

from lumina_tui.services.send_review import SendReview
from lumina_tui.services.terminal_text import terminal_safe as safe
from lumina_tui.tui.bindings import Where, bindings_for


def _score_line(review: SendReview) -> Content:
    if review.spam_risk is None and review.reply_probability is None:
        return Content.styled(review.score_note or "Score unavailable.", "$text-muted")
    parts: list[Content] = []
    if review.spam_risk is not None:
        style = "$text-error" if review.spam_risk >= 0.5 else ""
        parts.append(Content.assemble("spam risk ", (f"{review.spam_risk:.2f}", style)))
    if review.reply_probability is not None:
        parts.append(Content(f"reply prob. {review.reply_probability:.2f}"))
    return Content(" · ").join(parts)


class SendReviewScreen(ModalScreen[bool]):
    """Dismisses True to send, False to go back to the draft."""

    HELP_GROUP: ClassVar[str] = "Send review"

    BINDINGS: ClassVar[list[BindingType]] = bindings_for(Where.SEND_REVIEW)  # keys: tui/bindings.py

    CSS_PATH = "send_review.tcss"  # its layout; the shared dialog box is .dialog in app.tcss

    def __init__(self, review: SendReview, on_confirm: Callable[[], None] | None = None) -> None:
        super().__init__()
        self.review = review
        self.on_confirm = on_confirm
        #: Enter was pressed and `on_confirm` called: the email is being stored.
        self.confirmed = False

    def compose(self) -> ComposeResult:
        review = self.review
        with Vertical(id="review", classes="dialog" if review.can_send else "dialog -blocked") as box:
            box.border_title = "Send this email?" if review.can_send else "This email cannot be sent yet"
            with VerticalScroll(id="review-body"):
                for label, value, widget_id in (
                    ("From", review.from_label, "review-from"),
                    ("To", review.to_label or "(no recipient)", "review-to"),
                    ("Subject", review.subject or "(no subject)", "review-subject"),
                ):
                    with Horizontal(classes="review-row"):
                        yield Label(label, classes="review-key")
                        yield Static(safe(value), id=widget_id, classes="review-value", markup=False)
                # The whole body, exactly as it goes out (blank lines and all); the box scrolls.
                # Control characters are made visible, never sent to the terminal raw.
                body = safe(review.body, multiline=True) if review.body.strip() else "(empty body)"
                yield Static(body, id="review-message", markup=False)
                yield Static(_score_line(review), id="review-score")
                for text in review.warnings:
                    yield Static(Content(f"⚠ {safe(text)}"), classes="review-warning")
                for text in review.blockers:
                    yield Static(Content(f"✖ {safe(text)}"), classes="review-blocker")
            with Horizontal(id="review-buttons"):
                send = Button(
                    "Send ⏎" if review.can_send else "Send disabled", id="review-send", compact=True
                )
                send.disabled = not review.can_send
                back = Button("Back esc", id="review-back", compact=True)
                # Keys do the work; the buttons are for the mouse, so Enter never lands on "Back".
                send.can_focus = False
                back.can_focus = False
                yield send
                yield back

    def on_mount(self) -> None:
        # ↑/↓ and page keys scroll a long email; Enter and Esc stay the screen's.
        self.query_one("#review-body", VerticalScroll).focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "confirm":
            return True if self.review.can_send else None  # None: shown, but disabled
        return True

    def action_confirm(self) -> None:
        if not self.review.can_send:
            self.notify(self.review.blockers[0], title="Not sent", severity="warning")
        elif self.on_confirm is None:
            self.dismiss(True)
        elif not self.confirmed:  # a second Enter while the email is stored does nothing
            self.confirmed = True
            self.on_confirm()

    def action_back(self) -> None:
        if not self.confirmed:  # once sending, the composer closes the review with the outcome
            self.dismiss(False)

    def show_queuing(self) -> None:
        """The send takes longer than usual: say so where the rep is looking."""
        if self.is_mounted:
            self.query_one("#review", Vertical).border_title = "Queuing…"
            self.query_one("#review-send", Button).label = "Queuing…"

    @on(Button.Pressed, "#review-send")
    def _send_pressed(self) -> None:
        self.action_confirm()

    @on(Button.Pressed, "#review-back")
    def _back_pressed(self) -> None:
        self.action_back()
