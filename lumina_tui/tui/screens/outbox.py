"""The outbox (f4): emails and their delivery state (skeleton)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import DataTable, Footer


class OutboxScreen(Screen[None]):
    def compose(self) -> ComposeResult:
        yield DataTable(id="outbox-table")
        yield Footer()
