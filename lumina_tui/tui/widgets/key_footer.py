"""The Footer, folded to the five most used keys when the screen is narrow (80x24 and the like).

Textual's Footer shows every `show=True` binding and cuts the row at the screen edge; at 80 columns
that would hide Send behind Rewrite and Tone. The keys stay bound either way; the rest are in the
command palette and in help.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.reactive import reactive
from textual.widgets import Footer

from lumina_tui.tui.bindings import PRIMARY_ACTIONS


class KeyFooter(Footer):
    narrow: reactive[bool] = reactive(False, recompose=True)

    def compose(self) -> ComposeResult:
        for widget in super().compose():
            action = getattr(widget, "action", None)  # FooterKey (not exported by Textual)
            if self.narrow and isinstance(action, str) and action not in PRIMARY_ACTIONS:
                continue
            yield widget
