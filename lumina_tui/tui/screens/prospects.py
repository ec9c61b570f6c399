"""Prospects (f3): search, add/edit, CSV import (skeleton)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Input


class ProspectsScreen(Screen[None]):
    def compose(self) -> ComposeResult:
        yield Input(placeholder="Search prospects", id="prospect-search")
        yield DataTable(id="prospects-table")
        yield Footer()
