"""The Prospects screen (f3) with the real services on a real SQLite file: search, add/edit, import."""

from __future__ import annotations

from pathlib import Path

import pytest
from polling import pilot_wait_until
from snapshot_sizes import snapshot_sizes
from textual.app import App
from textual.pilot import Pilot
from textual.widgets import DataTable, Input, ProgressBar

from lumina_tui.services import prospects
from lumina_tui.services.runtime import Runtime, open_runtime
from lumina_tui.tui.app import LuminaApp
from lumina_tui.tui.screens.prospect_form import ProspectFormScreen
from lumina_tui.tui.screens.prospect_import import ProspectImportScreen
from lumina_tui.tui.screens.prospects import ProspectsScreen

# Pilot tests are coroutines; anyio's pytest plugin (anyio comes with httpx/openai) runs them.
pytestmark = pytest.mark.anyio

PEOPLE = [
    ("ana.okafor@brightwave.example", "Ana", "Okafor", "Brightwave Logistics", "VP Operations"),
    ("ben.ito@acme.example", "Ben", "Ito", "Acme Tools", "Head of Sales"),
    ("cara.diaz@brightwave.example", "Cara", "Diaz", "Brightwave Logistics", "Finance Lead"),
    ("dev.rao@northwind.example", "Dev", "Rao", "Northwind Freight", "COO"),
]


class ProspectsHost(App[None]):
    """A small app that hosts the screen the way LuminaApp does (runtime on the app, modes)."""

    MODES = {"prospects": ProspectsScreen}

    def __init__(self, runtime: Runtime, *, with_compose_to: bool = True) -> None:
        super().__init__()
        self.runtime = runtime
        self.composed_to: list[str] = []
        if not with_compose_to:
            self.action_compose_to = None  # type: ignore[assignment,method-assign]

    def on_mount(self) -> None:
        self.switch_mode("prospects")

    def action_compose_to(self, prospect_id: str) -> None:
        self.composed_to.append(prospect_id)


@pytest.fixture
def runtime(settings) -> Runtime:
    rt = open_runtime(settings)
    for email, first, last, company, title in PEOPLE:
        prospects.create(
            rt.db, rt.actor, email=email, first_name=first, last_name=last, company=company, job_title=title
        )
    return rt


def table_names(app: App) -> list[str]:
    table = app.screen.query_one("#prospects-table", DataTable)
    return [str(table.get_row_at(i)[0]) for i in range(table.row_count)]


async def loaded(pilot: Pilot) -> ProspectsScreen:
    screen = pilot.app.screen
    assert isinstance(screen, ProspectsScreen)
    await pilot_wait_until(pilot, lambda: len(screen.shown_prospect_ids) > 0)
    return screen


async def test_lists_prospects_by_name(runtime):
    app = ProspectsHost(runtime)
    async with app.run_test(size=(100, 30)) as pilot:
        await loaded(pilot)
        assert table_names(app) == ["Ana Okafor", "Ben Ito", "Cara Diaz", "Dev Rao"]
        assert "4 prospects" in str(app.screen.query_one("#prospects-count").content)


async def test_search_filters_as_you_type(runtime):
    app = ProspectsHost(runtime)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await loaded(pilot)
        await pilot.press("slash")
        assert app.focused is screen.query_one("#prospect-search", Input)
        await pilot.press(*"brightw")
        await pilot_wait_until(pilot, lambda: table_names(app) == ["Ana Okafor", "Cara Diaz"])
        assert "2 matching" in str(screen.query_one("#prospects-count").content)
        # Title and email match too; clearing the search shows everyone again.
        screen.query_one("#prospect-search", Input).value = "coo"
        await pilot_wait_until(pilot, lambda: table_names(app) == ["Dev Rao"])
        screen.query_one("#prospect-search", Input).value = ""
        await pilot_wait_until(pilot, lambda: len(table_names(app)) == 4)
        # Down from the search box goes to the table.
        await pilot.press("slash", "down")
        assert app.focused is screen.query_one(DataTable)


async def test_add_a_prospect_through_the_form(runtime):
    app = ProspectsHost(runtime)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await loaded(pilot)
        await pilot.press("a")
        await pilot_wait_until(pilot, lambda: isinstance(app.screen, ProspectFormScreen))
        form = app.screen
        for name, value in {
            "email": "Eve.Stone@Quay.example",
            "first_name": "Eve",
            "last_name": "Stone",
            "company": "Quay Ports",
            "job_title": "CTO",
        }.items():
            form.query_one(f"#field-{name}", Input).value = value
        await pilot.press("ctrl+s")
        await pilot_wait_until(pilot, lambda: app.screen is screen)
        stored = prospects.get(runtime.db, runtime.actor, "eve.stone@quay.example")
        assert (stored.first_name, stored.company, stored.job_title) == ("Eve", "Quay Ports", "CTO")
        await pilot_wait_until(pilot, lambda: "Eve Stone" in table_names(app))
        assert screen.selected_prospect_id == stored.id  # the cursor lands on the new prospect


async def test_validation_errors_appear_next_to_the_named_field(runtime):
    app = ProspectsHost(runtime)
    async with app.run_test(size=(100, 30)) as pilot:
        await loaded(pilot)
        await pilot.press("a")
        await pilot_wait_until(pilot, lambda: isinstance(app.screen, ProspectFormScreen))
        form = app.screen
        assert isinstance(form, ProspectFormScreen)
        form.query_one("#field-email", Input).value = "not-an-address"
        await pilot.press("enter")  # Enter in a field saves, too
        await pilot_wait_until(pilot, lambda: form.field_error("email") != "")
        assert "invalid email address" in form.field_error("email")
        assert form.field_error("first_name") == ""
        assert app.focused is form.query_one("#field-email", Input)
        # A duplicate is the service's call, and lands beside the email field as well.
        form.query_one("#field-email", Input).value = "ana.okafor@brightwave.example"
        await pilot.press("ctrl+s")
        await pilot_wait_until(pilot, lambda: "already exists" in form.field_error("email"))
        # A name with a line break is refused beside the name field; the email error is gone.
        form.query_one("#field-email", Input).value = "new@person.example"
        form.query_one("#field-first_name", Input).value = "x" * 201
        await pilot.press("ctrl+s")
        await pilot_wait_until(pilot, lambda: form.field_error("first_name") != "")
        assert "too long" in form.field_error("first_name")
        assert form.field_error("email") == ""
        await pilot.press("escape")
        await pilot_wait_until(pilot, lambda: isinstance(app.screen, ProspectsScreen))
        assert prospects.list_prospects(runtime.db, runtime.actor).total == 4


async def test_edit_the_selected_prospect(runtime):
    app = ProspectsHost(runtime)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await loaded(pilot)
        await pilot.press("down")  # Ben Ito
        ben = screen.selected_prospect_id
        await pilot.press("e")
        await pilot_wait_until(pilot, lambda: isinstance(app.screen, ProspectFormScreen))
        form = app.screen
        await pilot_wait_until(
            pilot, lambda: form.query_one("#field-email", Input).value == "ben.ito@acme.example"
        )
        assert form.query_one("#field-company", Input).value == "Acme Tools"
        form.query_one("#field-company", Input).value = "Acme Robotics"
        await pilot.press("ctrl+s")
        await pilot_wait_until(pilot, lambda: app.screen is screen)
        assert prospects.get(runtime.db, runtime.actor, ben).company == "Acme Robotics"
        await pilot_wait_until(
            pilot, lambda: "Acme Robotics" in str(screen.query_one(DataTable).get_row_at(1))
        )
        # Enter on a row opens the same form.
        await pilot.press("enter")
        await pilot_wait_until(pilot, lambda: isinstance(app.screen, ProspectFormScreen))
        assert app.screen.prospect_id == ben


async def test_compose_to_the_selected_prospect_asks_the_app(runtime):
    app = ProspectsHost(runtime)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await loaded(pilot)
        await pilot.press("down", "down", "c")
        await pilot_wait_until(pilot, lambda: app.composed_to != [])
        assert app.composed_to == [screen.shown_prospect_ids[2]]


async def test_compose_to_without_the_app_action_switches_to_compose_mode(runtime):
    class WithCompose(ProspectsHost):
        MODES = {"prospects": ProspectsScreen, "compose": ProspectsScreen}

    app = WithCompose(runtime, with_compose_to=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await loaded(pilot)
        await pilot.press("c")
        await pilot_wait_until(pilot, lambda: app.current_mode == "compose")


async def test_an_empty_list_says_how_to_fill_it(settings):
    app = ProspectsHost(open_runtime(settings))
    app.set_keymap({"prospects_add": "n"})
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.screen
        message = screen.query_one("#prospects-message")
        await pilot_wait_until(pilot, lambda: "No prospects yet" in str(message.content))
        assert "n adds one, i imports a CSV" in str(message.content)  # the live (remapped) keys
        assert "0 prospects" in str(screen.query_one("#prospects-count").content)


async def test_a_search_without_matches_says_so(runtime):
    app = ProspectsHost(runtime)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await loaded(pilot)
        screen.query_one("#prospect-search", Input).value = "zzz-nobody"
        await pilot_wait_until(pilot, lambda: table_names(app) == [])
        assert "No prospect matches this search." in str(screen.query_one("#prospects-message").content)


CSV = (
    "Email,First Name,Last Name,Company,Title\n"
    "fay@quay.example,Fay,Lin,Quay Ports,CFO\n"
    "not-an-email,Gus,Hart,Hart Co,CEO\n"
    "ana.okafor@brightwave.example,Ana,Okafor,Brightwave Logistics,SVP Operations\n"
    "hal@quay.example,Hal,Berg,Quay Ports,Ops\n"
)


async def test_csv_import_shows_progress_and_the_report(runtime, tmp_path: Path):
    path = tmp_path / "crm export.csv"
    path.write_text(CSV, encoding="utf-8")
    app = ProspectsHost(runtime)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await loaded(pilot)
        await pilot.press("i")
        await pilot_wait_until(pilot, lambda: isinstance(app.screen, ProspectImportScreen))
        dialog = app.screen
        assert isinstance(dialog, ProspectImportScreen)
        dialog.query_one("#import-path", Input).value = str(path)
        await pilot.press("enter")
        await pilot_wait_until(pilot, lambda: dialog.summary is not None)
        summary = dialog.summary
        assert (summary.imported, summary.updated) == (2, 1)
        assert [row.line for row in summary.rejected] == [3]
        bar = dialog.query_one(ProgressBar)
        assert bar.total is not None and bar.progress == bar.total
        text = str(dialog.query_one("#import-summary").content)
        assert "2 imported" in text and "1 updated" in text and "1 rejected" in text
        assert "line 3:" in str(dialog.query_one("#import-rejected-lines").content)
        await pilot.press("escape")
        await pilot_wait_until(pilot, lambda: app.screen is screen)
        await pilot_wait_until(
            pilot, lambda: "Fay Lin" in table_names(app) and "Hal Berg" in table_names(app)
        )
        assert prospects.get(runtime.db, runtime.actor, "ana.okafor@brightwave.example").job_title == (
            "SVP Operations"
        )


async def test_csv_import_of_a_missing_file_says_so_beside_the_path(runtime, tmp_path: Path):
    app = ProspectsHost(runtime)
    async with app.run_test(size=(100, 30)) as pilot:
        await loaded(pilot)
        await pilot.press("i")
        await pilot_wait_until(pilot, lambda: isinstance(app.screen, ProspectImportScreen))
        dialog = app.screen
        await pilot.press("enter")  # nothing typed yet
        assert "Type the path" in str(dialog.query_one("#import-path-error").content)
        dialog.query_one("#import-path", Input).value = str(tmp_path / "nope.csv")
        await pilot.press("enter")
        await pilot_wait_until(pilot, lambda: not dialog.running)
        path_error = dialog.query_one("#import-path-error")
        await pilot_wait_until(pilot, lambda: "cannot read" in str(path_error.content))
        assert dialog.summary is None
        # Issue 9.19: said once (beside the path), and no progress bar left spinning at "--%".
        error = str(dialog.query_one("#import-path-error").content)
        assert error not in str(dialog.query_one("#import-summary").content)
        assert not dialog.query_one(ProgressBar).display


# ---- inside the Lumina app -----------------------------------------------------------------------


def lumina(runtime: Runtime) -> LuminaApp:
    return LuminaApp(runtime, handle_signals=False, clock=lambda: 1000.0)


async def test_f3_opens_prospects_and_compose_to_addresses_the_composer(runtime):
    app = lumina(runtime)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("f3")
        await pilot_wait_until(pilot, lambda: isinstance(app.screen, ProspectsScreen))
        screen = await loaded(pilot)
        await pilot.press("down", "c")  # Ben Ito
        await pilot_wait_until(pilot, lambda: app.current_mode == "compose")
        ben = screen.shown_prospect_ids[1]
        await pilot_wait_until(
            pilot, lambda: "Ben Ito" in "\n".join(s.text for s in app.screen._compositor.render_strips())
        )
        assert prospects.get(runtime.db, runtime.actor, ben).first_name == "Ben"


# ---- snapshots (in the Lumina app) -----------------------------------------------------------------


def _still(pilot: Pilot) -> None:
    for widget in pilot.app.screen.query(Input):
        widget.cursor_blink = False


async def _prospects_mode(pilot: Pilot) -> ProspectsScreen:
    await pilot.press("f3")
    await pilot_wait_until(pilot, lambda: isinstance(pilot.app.screen, ProspectsScreen))
    return await loaded(pilot)


@snapshot_sizes((100, 30), (80, 24))
def test_snapshot_prospects_table(runtime, snap_compare, size):
    async def run_before(pilot: Pilot) -> None:
        screen = await _prospects_mode(pilot)
        await pilot.press("down")
        await pilot_wait_until(pilot, lambda: screen.selected_prospect_id == screen.shown_prospect_ids[1])
        _still(pilot)

    assert snap_compare(lumina(runtime), terminal_size=size, run_before=run_before)


@snapshot_sizes((100, 30), (80, 24))
def test_snapshot_prospect_form_with_an_error(runtime, snap_compare, size):
    async def run_before(pilot: Pilot) -> None:
        await _prospects_mode(pilot)
        await pilot.press("a")
        # Wait for the form's fields, not just the screen: a loaded box composes it a moment later.
        def form_composed() -> bool:
            screen = pilot.app.screen
            return isinstance(screen, ProspectFormScreen) and bool(screen.query("#field-email"))

        await pilot_wait_until(pilot, form_composed)
        form = pilot.app.screen
        form.query_one("#field-email", Input).value = "ana@"
        form.query_one("#field-first_name", Input).value = "Ana"
        await pilot.press("ctrl+s")
        await pilot_wait_until(pilot, lambda: form.field_error("email") != "")
        _still(pilot)

    assert snap_compare(lumina(runtime), terminal_size=size, run_before=run_before)
