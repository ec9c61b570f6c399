"""How plain (non-JSON) command output looks to a person: rich tables on stdout, progress on stderr.

Only commands import this, and only when they print for a human, so `--json` runs and `--help` never
pay for rich's import.

Every value shown here is stored text (a prospect's name, a CSV cell, a subject): it goes through
`terminal_safe` and into a `rich.text.Text`, so it is never parsed as markup and its control
characters are shown, not obeyed. Titles that contain such a value are `Text` too.

Piped (not a terminal), output is never wrapped: a script or `grep` gets one row per line and whole
ids. On a terminal, id columns never fold; the other columns give way first.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from lumina_tui.services.terminal_text import terminal_safe

# Wide enough that no row is ever folded when the output goes to a file or a pipe.
PIPE_WIDTH = 100_000


def stdout() -> Console:
    console = Console(highlight=False, soft_wrap=True)
    if not console.is_terminal:
        console.width = PIPE_WIDTH
    return console


def stderr() -> Console:
    return Console(stderr=True, highlight=False)


def key_values(title: str, rows: Iterable[tuple[str, Any]]) -> Table:
    """A two-column card: field name, value (empty values shown as a dim dash)."""
    table = Table(title=safe(title), title_justify="left", show_header=False, box=None, pad_edge=False)
    table.add_column(style="bold cyan", no_wrap=True)
    table.add_column(overflow="fold")
    for name, value in rows:
        table.add_row(safe(name), Text("-", style="dim") if value in (None, "", [], {}) else safe(value))
    return table


def rows_table(
    title: str, columns: list[str], rows: Iterable[Iterable[Any]], *, whole: Iterable[str] = ("id",)
) -> Table:
    """A table; the `whole` columns (ids) are never folded, so they can be copied as they are."""
    keep = set(whole)
    table = Table(title=safe(title), title_justify="left", header_style="bold")
    for column in columns:
        if column in keep:
            table.add_column(column, no_wrap=True, overflow="ignore")
        else:
            table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*(safe(value) for value in row))
    return table


def safe(value: Any) -> Text:
    """Stored text as a rich `Text`: never parsed as markup, control characters made visible."""
    if isinstance(value, Text):
        return value
    if isinstance(value, list):
        return Text("\n".join(terminal_safe(item) for item in value))
    return Text(terminal_safe(value))


def body(text: str) -> Text:
    """A multi-line stored text (an email body): newlines kept, everything else made safe."""
    return Text(terminal_safe(text, multiline=True))


@contextmanager
def progress_bar(description: str) -> Iterator[Any]:
    """A rich progress bar on stderr, only when stderr is a terminal; yields `update(done, total)`."""
    console = stderr()
    if not console.is_terminal:
        yield lambda done, total: None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(
        TextColumn("{task.description}", markup=False),  # the description names the rep's file
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as progress:
        task = progress.add_task(terminal_safe(description), total=None)

        def update(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        yield update
