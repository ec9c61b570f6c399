"""Help (f1) lists every key from the live bindings, grouped, and shows a remapped key's new key."""

from __future__ import annotations

import pytest
from polling import pilot_wait_until
from textual.app import App
from textual.binding import Binding
from textual.pilot import Pilot

from lumina_tui.services.runtime import Runtime, open_runtime
from lumina_tui.tui.screens.help import HelpScreen
from lumina_tui.tui.screens.outbox import OutboxScreen
from lumina_tui.tui.screens.prospects import ProspectsScreen

pytestmark = pytest.mark.anyio


class HelpHost(App[None]):
    MODES = {"prospects": ProspectsScreen, "outbox": OutboxScreen}
    BINDINGS = [
        Binding("f1", "help", "Help", id="help"),
        Binding("f3", "switch_mode('prospects')", "Prospects", id="prospects"),
        Binding("f4", "switch_mode('outbox')", "Outbox", id="outbox"),
    ]

    def __init__(self, runtime: Runtime) -> None:
        super().__init__()
        self.runtime = runtime

    def on_mount(self) -> None:
        self.switch_mode("prospects")

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())


@pytest.fixture
def runtime(settings) -> Runtime:
    return open_runtime(settings)


async def open_help(pilot: Pilot, key: str = "f1") -> HelpScreen:
    await pilot.pause()
    await pilot.press(key)
    await pilot_wait_until(pilot, lambda: isinstance(pilot.app.screen, HelpScreen))
    screen = pilot.app.screen
    assert isinstance(screen, HelpScreen)
    return screen


def entries(help_screen: HelpScreen) -> dict[str, dict[str, list[str]]]:
    return {g.title: {e.description: e.keys for e in g.entries} for g in help_screen.groups}


async def test_lists_every_screen_and_dialog_grouped(runtime):
    app = HelpHost(runtime)
    async with app.run_test(size=(100, 30)) as pilot:
        found = entries(await open_help(pilot))
        assert next(iter(found)) == "Everywhere"
        assert found["Everywhere"]["Help"] == ["f1"]
        assert found["Everywhere"]["Quit"] == ["^q"]
        assert found["Everywhere"]["Command palette"] == ["^p"]
        assert found["Prospects"] == {
            "Search": ["/"],
            "Add": ["a"],
            "Edit": ["e"],
            "Import CSV": ["i"],
            "Compose to": ["c"],
        }
        # The outbox was never opened, yet its keys are listed (from its class).
        assert found["Outbox"] == {"Retry": ["r"], "Undo send": ["u"], "Filter": ["f"], "Sync": ["s"]}
        assert found["Send review"] == {"Send": ["⏎"], "Back": ["esc"]}
        assert found["Prospect form"]["Save"] == ["^s"]
        assert found["Help"]["Close help"] == ["esc", "f1", "q"]
        # Textual's own widget keys (table cursor, input editing) have no id and stay out.
        assert not any("Cursor" in d for group in found.values() for d in group)


async def test_a_remapped_key_shows_its_new_key(runtime):
    app = HelpHost(runtime)
    app.set_keymap({"prospects_add": "n", "outbox_retry": "ctrl+y", "help": "f9"})
    async with app.run_test(size=(100, 30)) as pilot:
        help_screen = await open_help(pilot, "f9")
        found = entries(help_screen)
        assert found["Prospects"]["Add"] == ["n"]
        assert found["Outbox"]["Retry"] == ["^y"]
        assert found["Everywhere"]["Help"] == ["f9"]
        assert list(found["Prospects"]) == ["Search", "Add", "Edit", "Import CSV", "Compose to"]
        text = "\n".join(strip.text for strip in app.screen._compositor.render_strips())
        assert "prospects_add" in text  # the id to remap it by is shown


@pytest.mark.parametrize("key", ["escape", "f1", "q"])
async def test_closes_with_escape_f1_or_q(runtime, key):
    app = HelpHost(runtime)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_help(pilot)
        await pilot.press(key)
        await pilot_wait_until(pilot, lambda: isinstance(app.screen, ProspectsScreen))


async def test_widgets_with_bindings_are_listed_under_their_screen(runtime):
    from textual.widget import Widget

    class Gauge(Widget):
        BINDINGS = [Binding("plus", "grow", "Grow the gauge", id="gauge_grow")]

    class WithGauge(HelpHost):
        def on_mount(self) -> None:
            super().on_mount()

        async def action_help(self) -> None:
            await self.screen.mount(Gauge())
            super().action_help()

    app = WithGauge(runtime)
    async with app.run_test(size=(100, 30)) as pilot:
        found = entries(await open_help(pilot))
        assert found["Prospects"]["Grow the gauge"] == ["+"]


async def test_in_the_lumina_app_help_lists_the_composer_and_its_dialogs_with_the_keymap(settings):
    from lumina_tui.config import load_settings
    from lumina_tui.tui.app import LuminaApp

    runtime = open_runtime(load_settings(keymap={"personalize": "ctrl+y", "outbox_filter": "s"}))
    app = LuminaApp(runtime, handle_signals=False, clock=lambda: 1000.0)
    async with app.run_test(size=(100, 30)) as pilot:
        found = entries(await open_help(pilot))
        assert found["Compose"]["Personalize"] == ["^y"]
        assert found["Compose"]["Send"] == ["^s"]
        assert found["Outbox"]["Filter"] == ["s"]
        assert found["Everywhere"]["Outbox"] == ["f4"]
        # The composer's own dialogs are found by themselves, before they ever open.
        assert "Confirm dialog" in found and "Send review" in found
        await pilot.press("escape")
        await pilot_wait_until(pilot, lambda: not isinstance(app.screen, HelpScreen))
