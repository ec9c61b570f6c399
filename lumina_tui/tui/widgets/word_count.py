"""The live word count beside the subject ("68 words"; 50-125 is the range that gets replies).

A widget of its own with a fixed width: a new count repaints these few cells and nothing else.
"""

from __future__ import annotations

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget


class WordCount(Widget):
    count: reactive[int] = reactive(0)

    def render(self) -> Text:
        return Text(f"{self.count} word{'s' if self.count != 1 else ''}", justify="right", style="dim")
