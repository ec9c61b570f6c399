"""The score card: spam risk and reply probability as gauges, and each signal with its advice.

Advisory only (it never changes the draft). The composer refreshes it after a pause in typing,
in a thread worker, and on ctrl+l; a score for an older revision than the last shown is ignored.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from lumina_tui.services.terminal_text import terminal_safe

GAUGE_WIDTH = 8
IDLE_TEXT = "Press ^l to score the draft."


def gauge(value: float, width: int = GAUGE_WIDTH) -> str:
    filled = round(max(0.0, min(1.0, value)) * width)
    return "█" * filled + "░" * (width - filled)


def spam_words(risk: float) -> str:
    if risk < 0.3:
        return "low"
    if risk < 0.6:
        return "medium"
    return "high"


def score_text(score: Any) -> Text:
    """The card's content for an `ai.models.Score`."""
    risk = float(score.spam_risk)
    reply = float(score.reply_probability)
    risk_style = "green" if risk < 0.3 else "yellow" if risk < 0.6 else "bold red"
    text = Text()
    text.append("spam risk  ")
    text.append(gauge(risk), style=risk_style)
    text.append(f" {risk:.2f} {spam_words(risk)}\n")
    text.append("reply prob ")
    text.append(gauge(reply), style="cyan")
    text.append(f" {reply:.2f}" + (" calibrated" if getattr(score, "calibrated", False) else "") + "\n")
    signals = score.signals
    facts = [
        f"{signals.question_count} question{'s' if signals.question_count != 1 else ''}",
        f"grade {signals.reading_grade:.0f}",
        f"{signals.link_count} link{'s' if signals.link_count != 1 else ''}",
        f"{signals.personalization} personal detail{'s' if signals.personalization != 1 else ''}",
    ]
    text.append(" · ".join(facts), style="dim")
    # What needs work first, then what is already right, then context.
    order = {"fix": 0, "good": 1, "info": 2}
    advice = sorted(score.advice, key=lambda item: order.get(getattr(item, "level", "fix"), 0))
    if not any(getattr(item, "level", "fix") == "fix" for item in advice):
        text.append("\n✓ nothing to fix", style="green")
    marks = {"fix": ("!", "yellow"), "good": ("✓", "green"), "info": ("i", "dim")}
    for item in advice:
        mark, style = marks.get(getattr(item, "level", "fix"), marks["fix"])
        text.append(f"\n{mark} {terminal_safe(item.message)}", style=style)  # may quote the draft
        text.append(f" ({item.signal})", style="dim")
    return text


class ScoreCard(VerticalScroll):
    """Shows the latest score; `revision` is the draft revision it was computed for.

    The advice can be longer than the card: the card scrolls (wheel, or focus it and use the
    arrows) instead of cutting a sentence in half.
    """

    DEFAULT_CSS = """
    ScoreCard #score-text {
        height: auto;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.revision = -1
        self.score: Any = None

    def compose(self) -> ComposeResult:
        yield Static(IDLE_TEXT, id="score-text", markup=False)

    def on_mount(self) -> None:
        self.border_title = "Score"

    @property
    def text_widget(self) -> Static:
        return self.query_one("#score-text", Static)

    @property
    def text(self) -> str:
        """What the card says, as plain text."""
        return str(self.text_widget.render())

    def show_score(self, score: Any, revision: int) -> bool:
        """Show a score unless a newer revision's score is already shown; returns whether shown."""
        if revision < self.revision:
            return False
        self.revision = revision
        self.score = score
        self.text_widget.update(score_text(score))
        self.border_title = "Score"
        self.remove_class("-error")
        return True

    def reset(self) -> None:
        """Another draft opened: its score is not this one."""
        self.revision = -1
        self.score = None
        self.border_title = "Score"
        self.remove_class("-error")
        self.text_widget.update(IDLE_TEXT)
        self.scroll_home(animate=False)

    def show_pending(self) -> None:
        self.border_title = "Score · scoring…"

    def show_error(self, message: str) -> None:
        self.border_title = "Score · failed"
        self.add_class("-error")
        if self.score is None:
            self.text_widget.update(message)
