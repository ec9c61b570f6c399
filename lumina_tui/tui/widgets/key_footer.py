"""The Footer, folded to fit: the five most used keys at 80x24, and never cut at the screen edge.

Textual's Footer shows every `show=True` binding and cuts the row at the screen edge; at 80 columns
that would hide Send behind Rewrite and Tone, and at 100 it hid f1 (Help). Here the keys that do
not fit are left out, least used first (`FOOTER_PRIORITY`), so what is shown is always whole. The
keys stay bound either way; the rest are in the command palette and in help.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from textual.app import ComposeResult
from textual.reactive import reactive
from textual.widget import Widget
from textual.widgets import Footer

from lumina_tui.tui.bindings import FOOTER_PRIORITY, PRIMARY_ACTIONS

#: Cells around a key and its description (" ^g Personalize "), and the palette key's border.
KEY_PADDING = 3
PALETTE_BORDER = 1


def footer_width(key_display: str, description: str) -> int:
    return len(key_display) + len(description) + KEY_PADDING


def keys_that_fit(keys: list[tuple[str, int]], width: int) -> set[str]:
    """The actions to show: drop the least important until the rest fit in `width` cells.

    `keys` are (action, cells) in Footer order; actions not in `FOOTER_PRIORITY` go first.
    """
    rank = {action: index for index, action in enumerate(FOOTER_PRIORITY)}
    kept = dict(keys)
    by_importance = sorted(kept, key=lambda action: rank.get(action, len(rank)), reverse=True)
    for action in by_importance:
        if sum(kept.values()) <= width:
            break
        if action != "command_palette":
            del kept[action]
    return set(kept)


class KeyFooter(Footer):
    narrow: reactive[bool] = reactive(False, recompose=True)
    #: The width to fit (the screen's); 0 until the first resize.
    fit_width: reactive[int] = reactive(0, recompose=True)

    def __init__(self, *children: Widget, **options: Any) -> None:
        super().__init__(*children, **options)
        #: What the keys shown were built from (`_shown_as`), to skip rebuilding the same row.
        self._composed_as: tuple[object, ...] | None = None

    def _shown_as(self) -> tuple[object, ...]:
        """Everything `compose` reads. Textual's Footer rebuilds its keys (a layout of the whole
        screen) on every change of bindings, which happens on every focus change and on every
        return from a modal, mostly to show the same keys: the send review's Enter paid for two
        such rebuilds before its "Queued" frame (issue 10 point 9)."""
        if not self._bindings_ready or not self.is_attached:
            return (False,)
        app = self.app
        keys = tuple(
            (
                key,
                app.get_key_display(binding),
                binding.description,
                binding.action,
                enabled,
                tooltip,
                None if binding.group is None else (binding.group.description, binding.group.compact),
            )
            for key, (_node, binding, enabled, tooltip) in self.screen.active_bindings.items()
            if binding.show or key == app.COMMAND_PALETTE_BINDING
        )
        return (True, self.narrow, self.fit_width, self.compact, self.show_command_palette, keys)

    async def recompose(self) -> None:
        if self._composed_as is not None and self._shown_as() == self._composed_as:
            return
        await super().recompose()

    def compose(self) -> ComposeResult:
        self._composed_as = self._shown_as()
        widgets = list(super().compose())
        keys: list[tuple[str, int]] = []
        for widget in _footer_keys(widgets):
            action = widget.action  # type: ignore[attr-defined]  # a FooterKey (textual does not export the class)
            if self.narrow and action not in PRIMARY_ACTIONS:
                continue
            cells = footer_width(widget.key_display, widget.description)  # type: ignore[attr-defined]  # a FooterKey, as above
            if widget.has_class("-command-palette"):
                cells += PALETTE_BORDER
            keys.append((action, cells))
        shown = keys_that_fit(keys, self.fit_width) if self.fit_width else {action for action, _ in keys}
        for widget in widgets:
            action = getattr(widget, "action", None)  # FooterKey (not exported by Textual)
            if isinstance(action, str) and action not in shown:
                continue
            yield widget


def _footer_keys(widgets: Iterable[Widget]) -> Iterable[Widget]:
    return (widget for widget in widgets if isinstance(getattr(widget, "action", None), str))
