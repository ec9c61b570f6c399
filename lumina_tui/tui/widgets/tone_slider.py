"""The tone slider: formal (0.0) … casual (1.0), moved with ←/→ in steps of 0.1.

It only reports where it is; the composer waits until it stops (settings.composer.tone_settle_ms)
before asking for a personalize with that tone, so sliding across does not fire ten requests.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.message import Message
from textual.reactive import reactive
from textual.widget import Widget

from lumina_tui.tui.bindings import TONE_SLIDER_BINDINGS

STEP = 0.1
TRACK = 16


def tone_words(value: float) -> str:
    if value <= 0.2:
        return "formal"
    if value >= 0.8:
        return "casual"
    return "neutral"


class ToneSlider(Widget, can_focus=True):
    """A one-line slider; `value` is the tone the next personalize uses."""

    BINDINGS = TONE_SLIDER_BINDINGS

    value: reactive[float] = reactive(0.5)

    @dataclass
    class Changed(Message):
        slider: ToneSlider
        value: float

        @property
        def control(self) -> ToneSlider:
            return self.slider

    def __init__(self, value: float = 0.5, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.set_reactive(ToneSlider.value, round(max(0.0, min(1.0, value)), 1))

    def render(self) -> Text:
        position = round(self.value * TRACK)
        track = "─" * position + "●" + "─" * (TRACK - position)
        text = Text(" Tone  ", style="bold")
        text.append("formal ├")
        text.append(track, style="reverse" if self.has_focus else "")
        text.append(f"┤ casual  {self.value:.1f} {tone_words(self.value)}")
        if self.has_focus:
            text.append("   ←/→ move", style="dim")
        return text

    def action_move(self, steps: int) -> None:
        new = round(max(0.0, min(1.0, self.value + steps * STEP)), 1)
        if new != self.value:
            self.value = new
            self.post_message(self.Changed(self, new))

    def on_focus(self) -> None:
        self.refresh()

    def on_blur(self) -> None:
        self.refresh()
