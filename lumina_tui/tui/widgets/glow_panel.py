"""The AI panel and its Glow System: the border says what the AI is doing, the title says it in words.

idle → thinking → suggestion_ready → (applied → idle) | stale | idle (rejected). Blue and pulsing
while thinking, green when a suggestion is fresh, fading toward yellow as it ages, yellow when
stale; confidence 0..1 sets the intensity (opacity 0.3..1.0: the colour is blended toward the
background). Textual cannot animate a border colour, so `pulse` (a float) is animated and its
watcher sets the border. The title repeats the state in words, for colour-blind reps and NO_COLOR.
"""

from __future__ import annotations

from typing import Any, Literal

from textual.app import ComposeResult
from textual.color import Color
from textual.containers import Vertical
from textual.reactive import reactive
from textual.widgets import Static

from lumina_tui.services.terminal_text import terminal_safe
from lumina_tui.tui.bindings import key_display
from lumina_tui.tui.widgets.suggestion_view import FADE_SECONDS, SuggestionView

GlowState = Literal["idle", "thinking", "suggestion_ready", "stale", "applied"]

BLUE = Color.parse("#3b82f6")
GREEN = Color.parse("#22c55e")
YELLOW = Color.parse("#eab308")
GREY = Color.parse("#6b7280")
PULSE_SECONDS = 0.7

STATE_WORDS: dict[str, str] = {
    "idle": "idle",
    "thinking": "thinking…",
    "suggestion_ready": "suggestion ready",
    "stale": "stale",
    "applied": "applied",
}


def opacity_for(confidence: float) -> float:
    """Confidence 0..1 → opacity 0.3..1.0 (a weak suggestion glows faintly, never invisibly)."""
    return 0.3 + 0.7 * max(0.0, min(1.0, confidence))


def glow_colour(state: str, *, pulse: float, confidence: float, age: float, background: Color) -> Color:
    """The border colour for a state; pure so that every rule above has a unit test."""
    if state == "thinking":
        return background.blend(BLUE, 0.35 + 0.65 * max(0.0, min(1.0, pulse)))
    if state == "suggestion_ready":
        hue = GREEN.blend(YELLOW, max(0.0, min(1.0, age / FADE_SECONDS)))
        return background.blend(hue, opacity_for(confidence))
    if state == "stale":
        return background.blend(YELLOW, opacity_for(confidence))
    if state == "applied":
        return GREEN
    return background.blend(GREY, 0.6)


#: Placeholders until the panel knows its app (replaced from the registry in `compose`).
IDLE_NOTE = "Press ^g to personalize, ^r to rewrite."
SUGGESTION_HINT = "^o accept · esc reject"


class GlowPanel(Vertical):
    """The AI panel: state in the border and title, the suggestion inside."""

    DEFAULT_CSS = """
    GlowPanel #glow-note {
        color: $text-muted;
    }
    GlowPanel #glow-note.-error {
        color: $text-warning;
    }
    GlowPanel #suggestion-view {
        height: 1fr;
    }
    GlowPanel #suggestion-view:focus {
        background: $boost;
    }
    """

    # The watchers restyle the border when the look actually changes; the values themselves never
    # repaint the panel (its content may be a diff of thousands of words).
    state: reactive[str] = reactive("idle", init=False, repaint=False)
    pulse: reactive[float] = reactive(0.0, init=False, repaint=False)
    confidence: reactive[float] = reactive(0.0, init=False, repaint=False)
    age: reactive[float] = reactive(0.0, init=False, repaint=False)

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._pulsing = False
        self._note = IDLE_NOTE
        self._look: tuple[Color, str, str] | None = None
        #: The keys shown under a suggestion; the composer sets it from the live bindings.
        self.hint = SUGGESTION_HINT

    def compose(self) -> ComposeResult:
        # The default words name the live keys (the registry, keymap applied); the composer may
        # replace both before the first frame.
        if self._note == IDLE_NOTE:
            self._note = self.idle_note()
        if self.hint == SUGGESTION_HINT:
            self.hint = f"{key_display(self.app, 'accept')} accept · {key_display(self.app, 'reject')} reject"
        yield Static(self._note, id="glow-note", markup=False)
        yield SuggestionView(id="suggestion-view")

    def on_mount(self) -> None:
        self._restyle()

    @property
    def view(self) -> SuggestionView:
        return self.query_one(SuggestionView)

    # --------------------------------------------------------------------- state

    def idle_note(self) -> str:
        personalize, rewrite = key_display(self.app, "personalize"), key_display(self.app, "rewrite")
        return f"Press {personalize} to personalize, {rewrite} to rewrite."

    def show_note(self, text: str, *, error: bool = False) -> None:
        """A line of text instead of a suggestion (idle hint, thinking, an AI error)."""
        self._note = text
        note = self.query_one("#glow-note", Static)
        note.update(terminal_safe(text, multiline=True))  # AI errors may quote what a server sent
        note.set_class(error, "-error")
        note.display = True
        self.view.display = False

    def show_suggestion(self, suggestion: Any, draft_subject: str, draft_body: str) -> None:
        self.query_one("#glow-note", Static).display = False
        view = self.view
        view.display = True
        view.show(suggestion, draft_subject, draft_body)
        self.confidence = float(getattr(suggestion, "confidence", 0.0))

    def clear(self, note: str | None = None) -> None:
        self.view.clear()
        self.show_note(note or self.idle_note())

    def watch_state(self, old: str, new: str) -> None:
        if new == "thinking":
            self._start_pulse()
        else:
            self._pulsing = False
            self.pulse = 0.0
        self.set_class(new == "stale", "-stale")
        self.set_class(new == "thinking", "-thinking")
        self.set_class(new in ("suggestion_ready", "stale"), "-has-suggestion")
        self.view.set_stale(new == "stale")
        self._restyle()

    def watch_pulse(self) -> None:
        self._restyle()

    def watch_confidence(self) -> None:
        self._restyle()

    def watch_age(self) -> None:
        self._restyle()
        if self.state in ("suggestion_ready", "stale"):
            self.view.set_age(self.age)

    # --------------------------------------------------------------------- pulse

    def _start_pulse(self) -> None:
        if self.app.animation_level == "none":
            self.pulse = 1.0  # a steady blue: still says "thinking", without motion
            return
        if not self._pulsing:
            self._pulsing = True
            self._pulse_to(1.0)

    def _pulse_to(self, target: float) -> None:
        if not self._pulsing or self.state != "thinking" or self.app.animation_level == "none":
            return
        self.animate(
            "pulse",
            target,
            duration=PULSE_SECONDS,
            easing="in_out_sine",
            level="basic",
            on_complete=lambda: self._pulse_to(0.0 if target >= 1.0 else 1.0),
        )

    # --------------------------------------------------------------------- look

    def _background(self) -> Color:
        try:
            return Color.parse(self.app.theme_variables.get("background", "#000000"))
        except Exception:
            return Color(0, 0, 0)

    def _restyle(self) -> None:
        colour = glow_colour(
            self.state,
            pulse=self.pulse,
            confidence=self.confidence,
            age=self.age,
            background=self._background(),
        )
        words = STATE_WORDS.get(self.state, self.state)
        if self.state in ("suggestion_ready", "stale"):
            words = f"{words} {self.confidence:.2f}"
        look = (colour, f"AI · {words}", self.hint if self.state in ("suggestion_ready", "stale") else "")
        if look == self._look:
            return  # the once-a-second age tick changes nothing while stale: no repaint
        self._look = look
        self.styles.border = ("round", colour)
        self.border_title = look[1]
        self.border_subtitle = look[2]
