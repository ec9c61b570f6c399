"""How plain (non-JSON) command output looks to a person: rich tables on stdout, progress on stderr.

Only commands import this, and only when they print for a human, so `--json` runs and `--help` never
pay for rich's import.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from rich.console import Console
from rich.table import Table


def stdout() -> Console:
    return Console(highlight=False, soft_wrap=True)


def stderr() -> Console:
    return Console(stderr=True, highlight=False)


def key_values(title: str, rows: Iterable[tuple[str, Any]]) -> Table:
    """A two-column card: field name, value (empty values shown as a dim dash)."""
    table = Table(title=title, title_justify="left", show_header=False, box=None, pad_edge=False)
    table.add_column(style="bold cyan", no_wrap=True)
    table.add_column(overflow="fold")
    for name, value in rows:
        table.add_row(name, "[dim]-[/dim]" if value in (None, "", [], {}) else _text(value))
    return table


def rows_table(title: str, columns: list[str], rows: Iterable[Iterable[Any]]) -> Table:
    table = Table(title=title, title_justify="left", header_style="bold")
    for column in columns:
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*(_text(value) for value in row))
    return table


def _text(value: Any) -> str:
    from rich.markup import escape

    if isinstance(value, list):
        return escape("\n".join(str(item) for item in value))
    return escape(str(value))


@contextmanager
def progress_bar(description: str) -> Iterator[Any]:
    """A rich progress bar on stderr, only when stderr is a terminal; yields `update(done, total)`."""
    console = stderr()
    if not console.is_terminal:
        yield lambda done, total: None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as progress:
        task = progress.add_task(description, total=None)

        def update(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        yield update
