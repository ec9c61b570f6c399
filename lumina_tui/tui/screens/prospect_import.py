"""Import prospects from a CSV: a path, a progress bar, then the report (imported, updated, rejected).

The import runs in a thread worker; the service's progress callback reaches the bar as an
`ImportProgress` message, at most every few hundredths of a second so a large file is not slowed by
repainting. The report lists each rejected row by its physical line number, as the CLI does.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, ProgressBar, Static
from textual.worker import get_current_worker

from lumina_tui.services.errors import LuminaError
from lumina_tui.services.terminal_text import terminal_safe
from lumina_tui.tui.bindings import Where, bindings_for
from lumina_tui.tui.service_jobs import run_service

if TYPE_CHECKING:
    from textual import getters

    from lumina_tui.tui.app import LuminaApp

PROGRESS_INTERVAL_SECONDS = 0.05


@dataclass(frozen=True, slots=True)
class RejectedRow:
    line: int
    message: str


@dataclass(slots=True)
class ImportSummary:
    """What the screen shows of the service's report, read defensively by attribute name."""

    imported: int = 0
    updated: int = 0
    rejected: list[RejectedRow] = field(default_factory=list)
    error: str | None = None
    error_field: str | None = None

    @classmethod
    def from_report(cls, report: Any) -> ImportSummary:
        rejected = []
        for item in _get(report, "rejected", []) or []:
            line = _get(item, "line", None)
            if line is None:
                line = _get(item, "line_number", 0)
            message = _get(item, "message", None) or _get(item, "reason", None) or _get(item, "error", "")
            rejected.append(RejectedRow(line=int(line or 0), message=str(message)))
        return cls(
            imported=_count(_get(report, "imported", 0)),
            updated=_count(_get(report, "updated", 0)),
            rejected=rejected,
        )


def _get(obj: Any, name: str, default: Any) -> Any:
    if isinstance(obj, dict):
        return obj.get(name, default)
    return getattr(obj, name, default)


def _count(value: Any) -> int:
    """A count, whether the report gives a number or the list of rows it counted."""
    if isinstance(value, int):
        return value
    try:
        return len(value)
    except TypeError:
        return 0


class ProspectImportScreen(ModalScreen[ImportSummary | None]):
    """Dismisses with the summary of the last import (None when nothing was imported)."""

    if TYPE_CHECKING:  # screens see the app's runtime typed (no run-time change)
        app = getters.app(LuminaApp)

    HELP_GROUP: ClassVar[str] = "Import prospects"

    BINDINGS: ClassVar[list[BindingType]] = bindings_for(Where.PROSPECT_IMPORT)  # keys: tui/bindings.py

    CSS_PATH = "prospect_import.tcss"  # its layout; the shared dialog box is .dialog in app.tcss

    def __init__(self, path: str = "") -> None:
        super().__init__()
        self._initial_path = path
        self._last_progress = 0.0
        self.summary: ImportSummary | None = None
        self.running = False

    def compose(self) -> ComposeResult:
        with Vertical(id="import-dialog", classes="dialog") as dialog:
            dialog.border_title = "Import prospects from CSV"
            with Horizontal(id="import-path-row"):
                yield Label("CSV file")
                yield Input(
                    self._initial_path,
                    placeholder="~/Downloads/prospects.csv",
                    id="import-path",
                    compact=True,
                )
            yield Static("", id="import-path-error", classes="-empty", markup=False)
            yield ProgressBar(id="import-progress", show_eta=False)
            yield Static("Type the file's path and press Enter.", id="import-summary", markup=False)
            with VerticalScroll(id="import-rejected"):
                yield Static("", id="import-rejected-lines", markup=False)
            with Horizontal(id="import-buttons"):
                yield Button("Import ⏎", id="import-start", variant="primary", compact=True)
                yield Button("Close esc", id="import-close", compact=True)

    def on_mount(self) -> None:
        self.query_one("#import-path", Input).focus()
        self.query_one(ProgressBar).display = False  # shown while an import runs

    # ---- running the import --------------------------------------------------------------------

    @on(Input.Submitted, "#import-path")
    @on(Button.Pressed, "#import-start")
    def _start_pressed(self) -> None:
        self.start_import()

    def start_import(self) -> None:
        if self.running:
            return
        text = self.query_one("#import-path", Input).value.strip()
        if not text:
            self._path_error("Type the path of a CSV file.")
            return
        path = Path(text).expanduser()
        self._path_error("")
        self.running = True
        self.query_one("#import-start", Button).disabled = True
        bar = self.query_one(ProgressBar)
        bar.update(total=None, progress=0)
        bar.display = True
        self.query_one("#import-summary", Static).update(f"Importing {path.name}...")
        self.query_one("#import-rejected-lines", Static).update("")
        self._last_progress = 0.0
        self._import(path)

    def _import(self, path: Path) -> None:
        runtime = self.app.runtime
        run_service(self, lambda: self._run_import(runtime, path), group="prospect-import")

    def _run_import(self, runtime: Any, path: Path) -> ImportDone:
        """Thread worker: the import, with its progress posted as it goes."""
        from lumina_tui.services import prospect_import

        try:
            report = prospect_import.import_csv(runtime.db, runtime.actor, path, progress=self._progress)
        except LuminaError as error:
            return ImportDone(ImportSummary(error=error.message, error_field=error.field))
        except OSError as error:
            return ImportDone(
                ImportSummary(error=f"Could not read {path}: {error.strerror or error}", error_field="path")
            )
        except Exception as error:
            return ImportDone(ImportSummary(error=f"The import failed: {error}"))
        return ImportDone(ImportSummary.from_report(report))

    def _progress(self, done: int, total: int | None) -> None:
        """Called by the service in the worker thread; throttled, then posted to the UI thread."""
        now = time.monotonic()
        if done != total and now - self._last_progress < PROGRESS_INTERVAL_SECONDS:
            return
        self._last_progress = now
        if get_current_worker().is_cancelled:
            return  # the rep closed this dialog; the import itself goes on to the end
        self.post_message(ImportProgress(done, total))

    def on_import_progress(self, message: ImportProgress) -> None:
        if self.is_attached:
            self.query_one(ProgressBar).update(total=message.total or None, progress=message.done)

    def on_import_done(self, message: ImportDone) -> None:
        self.running = False
        self.query_one("#import-start", Button).disabled = False
        self._show_summary(message.summary)

    def _show_summary(self, summary: ImportSummary) -> None:
        if summary.error:
            # Said once: under the path when the path is at fault, else in the summary; and no
            # bar left spinning ("--%") for an import that is not running.
            self.query_one(ProgressBar).display = False
            if summary.error_field in {"path", "file", None}:
                self._path_error(summary.error)
                self.query_one("#import-summary", Static).update("Nothing was imported.")
            else:
                self.query_one("#import-summary", Static).update(summary.error)
            return
        self.summary = summary
        bar = self.query_one(ProgressBar)
        if bar.total is None:
            bar.update(total=1, progress=1)
        else:
            bar.update(progress=bar.total)
        self.query_one("#import-summary", Static).update(
            Content.from_markup(
                "[b]$imported[/b] imported · [b]$updated[/b] updated · [b]$rejected[/b] rejected",
                imported=str(summary.imported),
                updated=str(summary.updated),
                rejected=str(len(summary.rejected)),
            )
        )
        # A rejected row's reason quotes the CSV cell: stored text, shown, never obeyed.
        lines = "\n".join(f"line {row.line}: {terminal_safe(row.message)}" for row in summary.rejected)
        self.query_one("#import-rejected-lines", Static).update(lines)

    def _path_error(self, message: str) -> None:
        error = self.query_one("#import-path-error", Static)
        error.update(message)
        error.set_class(not message, "-empty")

    def action_close(self) -> None:
        # Closing while an import runs leaves it running to the end: rows are committed as they go,
        # and the prospects table reloads when it is shown again.
        self.dismiss(self.summary)

    @on(Button.Pressed, "#import-close")
    def _close_pressed(self) -> None:
        self.action_close()


@dataclass
class ImportProgress(Message):
    """Rows done of `total` (None: not known yet), posted at most every PROGRESS_INTERVAL_SECONDS."""

    done: int
    total: int | None


@dataclass
class ImportDone(Message):
    summary: ImportSummary
