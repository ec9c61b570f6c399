"""Choose a prospect by typing any part of their name, email or company (fuzzy, best first).

The list is read once, in a thread worker, when the picker opens; matching then runs in memory on
each keystroke, so typing in the picker never waits on the store.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.events import Key
from textual.fuzzy import Matcher
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from lumina_tui.services.terminal_text import terminal_safe
from lumina_tui.tui.bindings import DIALOG_BINDINGS, key_display
from lumina_tui.tui.service_jobs import run_service
from lumina_tui.tui.widgets.safe_text import SafeInput

if TYPE_CHECKING:
    from textual import getters

    from lumina_tui.tui.app import LuminaApp

MAX_SHOWN = 50
MAX_LOADED = 1000


def haystack(prospect: Any) -> str:
    """What a search matches: name, email and company, in the order a rep thinks of them."""
    name = f"{prospect.first_name} {prospect.last_name}".strip()
    return " ".join(part for part in (name, prospect.email, prospect.company) if part)


def matching(query: str, candidates: list[Any]) -> list[Any]:
    """Every candidate matching `query`, best first (all of them, in name order, for an empty query)."""
    query = query.strip()
    if not query:
        return list(candidates)
    matcher = Matcher(query)
    scored = [(matcher.match(haystack(item)), index, item) for index, item in enumerate(candidates)]
    scored = [item for item in scored if item[0] > 0]
    scored.sort(key=lambda item: (-item[0], item[1]))
    return [candidate for _score, _index, candidate in scored]


def rank(query: str, candidates: list[Any]) -> list[Any]:
    """The matches the list shows: the best `MAX_SHOWN`."""
    return matching(query, candidates)[:MAX_SHOWN]


def count_words(query: str, matched: int, loaded: int, total: int, prospects_key: str = "f3") -> str:
    """The picker's count line; it follows the filter ("2 of 12 prospects match")."""
    if not total:
        return f"No prospects yet: add some on the Prospects screen ({prospects_key})."
    noun = "prospect" if total == 1 else "prospects"
    if not query.strip():
        words = f"{total} {noun}"
        if total > loaded:
            words = f"first {loaded} of {total} prospects: type to narrow"
    else:
        of = f"{loaded} loaded" if total > loaded else f"{total}"
        words = f"{matched} of {of} {noun} match" if matched != 1 else f"1 of {of} {noun} matches"
        if matched == 0:
            words = f"none of {of} {noun} match"
    if matched > MAX_SHOWN:
        words += f" (best {MAX_SHOWN} shown)"
    return words


@dataclass
class PickerLoaded(Message):
    """The prospects the picker filters as the rep types (the first MAX_LOADED)."""

    items: list[Any]
    total: int


class ProspectPicker(ModalScreen[str | None]):
    """Returns the chosen prospect's id, or None."""

    if TYPE_CHECKING:  # screens see the app's runtime typed (no run-time change)
        app = getters.app(LuminaApp)

    BINDINGS = DIALOG_BINDINGS

    def __init__(self, title: str = "Choose a prospect", *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.title_text = title
        self.candidates: list[Any] = []
        self.total = 0
        self.loaded = False

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(self.title_text, classes="dialog-title")
            yield SafeInput(placeholder="name, email or company", id="picker-search")
            yield OptionList(id="picker-list")
            yield Static("loading prospects…", id="picker-status", classes="dialog-hint")

    def on_mount(self) -> None:
        self.query_one("#picker-search", Input).focus()
        self._load()

    def _load(self) -> None:
        from lumina_tui.services import prospects as prospect_service

        runtime = self.app.runtime

        def load() -> PickerLoaded:
            page = prospect_service.list_prospects(runtime.db, runtime.actor, limit=MAX_LOADED)
            return PickerLoaded(page.items, page.total)

        run_service(self, load, group="picker-load")

    def on_picker_loaded(self, message: PickerLoaded) -> None:
        self.candidates = message.items
        self.total = message.total
        self.loaded = True
        self._refresh_list(self.query_one("#picker-search", Input).value)

    def _refresh_list(self, query: str) -> None:
        options = self.query_one("#picker-list", OptionList)
        options.clear_options()
        found = matching(query, self.candidates)
        matches = found[:MAX_SHOWN]
        options.add_options(
            Option(Content(terminal_safe(haystack(prospect))), id=prospect.id) for prospect in matches
        )
        if matches:
            options.highlighted = 0
        count = count_words(
            query, len(found), len(self.candidates), self.total, key_display(self.app, "prospects")
        )
        back = key_display(self.app, "dialog_cancel")
        self.query_one("#picker-status", Static).update(f"{count} · ⏎ choose · {back} back")

    @on(Input.Changed, "#picker-search")
    def _search(self, event: Input.Changed) -> None:
        if self.loaded:
            self._refresh_list(event.value)

    @on(Input.Submitted, "#picker-search")
    def _submit(self, _event: Input.Submitted) -> None:
        options = self.query_one("#picker-list", OptionList)
        if options.highlighted is not None and options.option_count:
            self.dismiss(options.get_option_at_index(options.highlighted).id)

    @on(OptionList.OptionSelected, "#picker-list")
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def on_key(self, event: Key) -> None:
        # ↑/↓ move through the matches while the cursor stays in the search box.
        if isinstance(self.focused, Input) and event.key in ("up", "down"):
            options = self.query_one("#picker-list", OptionList)
            if event.key == "down":
                options.action_cursor_down()
            else:
                options.action_cursor_up()
            event.stop()

    def action_cancel(self) -> None:
        self.dismiss(None)
