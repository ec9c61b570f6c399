"""Prospects (f3): who a rep can write to — search as you type, add and edit, import a CSV, compose.

Every read and write runs in a thread worker, so a slow disk never freezes the table or the search
box; a newer search cancels an older one, so results never arrive out of order.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal
from textual.events import ScreenResume
from textual.message import Message
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import DataTable, Footer, Input, Static

from lumina_tui.services import prospects as prospect_service
from lumina_tui.services.terminal_text import terminal_safe
from lumina_tui.tui.bindings import Where, bindings_for, key_display
from lumina_tui.tui.screens.prospect_form import ProspectFormScreen
from lumina_tui.tui.screens.prospect_import import ProspectImportScreen
from lumina_tui.tui.service_jobs import run_service
from lumina_tui.tui.widgets.safe_text import SafeInput

if TYPE_CHECKING:
    from textual import getters

    from lumina_tui.tui.app import LuminaApp

SEARCH_DEBOUNCE_SECONDS = 0.2
PAGE_SIZE = 500


@dataclass(frozen=True, slots=True)
class ProspectRow:
    """What one table row shows; plain values, so nothing lazy crosses the thread boundary."""

    id: str
    name: str
    email: str
    company: str
    title: str


@dataclass(frozen=True, slots=True)
class ProspectPage:
    search: str
    rows: list[ProspectRow]
    total: int


@dataclass
class ProspectsRead(Message):
    """A page of the table for a search (None, with `error`, when it could not be read)."""

    page: ProspectPage | None
    error: str = ""


def read_page(runtime: Any, search: str) -> ProspectsRead:
    """Thread worker: the first page of prospects matching `search`."""
    try:
        page = prospect_service.list_prospects(
            runtime.db, runtime.actor, search=search or None, limit=PAGE_SIZE
        )
    except Exception as exc:
        return ProspectsRead(None, f"{exc}")
    rows = [
        ProspectRow(
            id=p.id,
            name=f"{p.first_name} {p.last_name}".strip(),
            email=p.email,
            company=p.company,
            title=p.job_title,
        )
        for p in page.items
    ]
    return ProspectsRead(ProspectPage(search=search, rows=rows, total=page.total))


class ProspectsScreen(Screen[None]):
    """The prospect table with a search box above it and the actions in the footer."""

    if TYPE_CHECKING:  # screens see the app's runtime typed (no run-time change)
        app = getters.app(LuminaApp)

    HELP_GROUP: ClassVar[str] = "Prospects"

    BINDINGS: ClassVar[list[BindingType]] = bindings_for(Where.PROSPECTS)  # keys: tui/bindings.py

    CSS_PATH = "prospects.tcss"  # its layout (tui/screens/*.tcss: one per screen)

    def __init__(self, name: str | None = None, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._search_timer: Timer | None = None
        self._rows: list[ProspectRow] = []
        self._total = 0
        self._search = ""
        self._select_next: str | None = None

    def compose(self) -> ComposeResult:
        with Horizontal(id="prospects-bar"):
            yield Static("Prospects", id="prospects-title")
            yield SafeInput(
                placeholder="Search name, email, company, title", id="prospect-search", compact=True
            )
            yield Static("", id="prospects-count")
        table: DataTable[str] = DataTable(id="prospects-table", cursor_type="row", zebra_stripes=True)
        table.add_column("Name", key="name")
        table.add_column("Email", key="email")
        table.add_column("Company", key="company")
        table.add_column("Title", key="title")
        yield table
        yield Static("", id="prospects-message", classes="-empty", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(DataTable).focus()
        self.reload()

    def on_screen_resume(self, _event: ScreenResume) -> None:
        # Another screen (an import, the composer) may have changed prospects meanwhile.
        self.reload()

    # ---- loading -------------------------------------------------------------------------------

    def reload(self) -> None:
        """Fetch the table for the current search, off the event loop."""
        self._load(self.query_one("#prospect-search", Input).value)

    def _load(self, search: str) -> None:
        runtime = self.app.runtime
        run_service(self, lambda: read_page(runtime, search), group="prospects-load")

    def on_prospects_read(self, message: ProspectsRead) -> None:
        if message.page is not None:
            self._show_page(message.page)
        else:
            self._show_message(f"Could not read prospects: {message.error}")

    def _show_page(self, page: ProspectPage) -> None:
        table = self.query_one(DataTable)
        selected = self._select_next or self.selected_prospect_id
        self._select_next = None
        self._rows, self._total, self._search = page.rows, page.total, page.search
        table.clear()
        for row in page.rows:
            cells = (row.name or "—", row.email, row.company, row.title)
            # Stored text: a Text cell is never parsed as markup; control characters are shown.
            table.add_row(*(Text(terminal_safe(cell)) for cell in cells), key=row.id)
        if selected is not None:
            for index, row in enumerate(page.rows):
                if row.id == selected:
                    table.move_cursor(row=index, animate=False)
                    break
        self._show_count()
        if page.total == 0:
            self._show_message(
                f"No prospects yet: {key_display(self.app, 'prospects_add')} adds one, "
                f"{key_display(self.app, 'prospects_import')} imports a CSV (or run `lumina demo`)."
                if not page.search.strip()
                else "No prospect matches this search.",
                hint=True,
            )
        else:
            self._show_message("")
        self.refresh_bindings()

    def _show_count(self) -> None:
        shown = len(self._rows)
        if self._search.strip():
            text = f"{self._total} matching"
        else:
            text = f"{self._total} prospect" + ("" if self._total == 1 else "s")
        if shown < self._total:
            text += f" (first {shown})"
        self.query_one("#prospects-count", Static).update(text)

    def _show_message(self, text: str, *, hint: bool = False) -> None:
        message = self.query_one("#prospects-message", Static)
        message.update(text)
        message.set_class(not text, "-empty")
        message.set_class(hint, "-hint")

    # ---- search --------------------------------------------------------------------------------

    @on(Input.Changed, "#prospect-search")
    def _search_changed(self, _event: Input.Changed) -> None:
        # Debounced: one query after the rep pauses, not one per keystroke.
        if self._search_timer is not None:
            self._search_timer.stop()
        self._search_timer = self.set_timer(SEARCH_DEBOUNCE_SECONDS, self.reload)

    @on(Input.Submitted, "#prospect-search")
    def _search_submitted(self, _event: Input.Submitted) -> None:
        self.query_one(DataTable).focus()

    def on_key(self, event: Any) -> None:
        # Down from the search box goes to the results, as in every search field a rep knows.
        if event.key == "down" and self.focused is self.query_one("#prospect-search", Input):
            event.stop()
            self.query_one(DataTable).focus()

    def action_focus_search(self) -> None:
        self.query_one("#prospect-search", Input).focus()

    # ---- selection and actions -----------------------------------------------------------------

    @property
    def selected_prospect_id(self) -> str | None:
        table = self.query_one(DataTable)
        if table.row_count == 0:
            return None
        row_key, _ = table.coordinate_to_cell_key(table.cursor_coordinate)
        return None if row_key.value is None else str(row_key.value)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in {"edit", "compose"} and self.is_mounted:
            return True if self.selected_prospect_id else None
        return True

    @on(DataTable.RowSelected, "#prospects-table")
    def _row_selected(self, _event: DataTable.RowSelected) -> None:
        self.action_edit()

    def action_add(self) -> None:
        self.app.push_screen(ProspectFormScreen(None), self._after_form)

    def action_edit(self) -> None:
        prospect_id = self.selected_prospect_id
        if prospect_id is not None:
            self.app.push_screen(ProspectFormScreen(prospect_id), self._after_form)

    def _after_form(self, prospect_id: str | None) -> None:
        if prospect_id is None:
            return
        # Put the cursor on the saved prospect once the reload lands (if the search shows it).
        self._select_next = prospect_id
        self.reload()

    def action_import_csv(self) -> None:
        self.app.push_screen(ProspectImportScreen(), lambda _report: self.reload())

    async def action_compose(self) -> None:
        """Open the composer for the selected prospect.

        The app owns the composer, so this asks it: `app.action_compose_to(prospect_id)` when the app
        offers it, else a plain switch to the compose mode.
        """
        prospect_id = self.selected_prospect_id
        if prospect_id is None:
            return
        compose_to = getattr(self.app, "action_compose_to", None)
        if compose_to is not None:
            result = compose_to(prospect_id)
            if inspect.isawaitable(result):
                await result
        elif "compose" in getattr(self.app, "MODES", {}):
            self.app.switch_mode("compose")

    @property
    def shown_prospect_ids(self) -> list[str]:
        """The ids in table order (tests and the composer's picker read it)."""
        return [row.id for row in self._rows]
