"""Keys: the README's key table, ids on every binding, remapping from config.toml, the Footer at
80x24, the command palette and the mode keys."""

from __future__ import annotations

import pytest
from compose_support import (
    NARROW,
    WIDE,
    composer,
    make_app,
    seeded_runtime,
)
from polling import pilot_wait_until
from textual.widgets import Footer

from lumina_tui.config import config_file
from lumina_tui.tui.bindings import APP_BINDINGS, COMPOSE_BINDINGS, PRIMARY_ACTIONS, all_bindings
from lumina_tui.tui.palette import COMMANDS, LuminaCommands
from lumina_tui.tui.screens.help import HelpScreen
from lumina_tui.tui.widgets.tone_slider import ToneSlider

pytestmark = pytest.mark.anyio

# README.md, "Keys in the composer".
KEY_TABLE = {
    "personalize": "ctrl+g",
    "rewrite": "ctrl+r",
    "tone": "ctrl+t",
    "accept": "ctrl+o",
    "reject": "escape",
    "score": "ctrl+l",
    "send": "ctrl+s",
    "new_draft": "ctrl+n",
    "help": "f1",
    "compose": "f2",
    "prospects": "f3",
    "outbox": "f4",
    "quit": "ctrl+q",
    "command_palette": "ctrl+p",
}
# TextArea owns these; tmux owns ctrl+b.
RESERVED = {f"ctrl+{c}" for c in "aekuwdxcvzyb"} | {"f6", "f7"}


def footer_actions(app) -> list[str]:  # type: ignore[no-untyped-def]
    footer = app.screen.query_one(Footer)
    return [key.action for key in footer.query("FooterKey")]


def test_every_binding_has_a_unique_id_and_the_table_keys() -> None:
    ids = [binding.id for binding in all_bindings()]
    assert all(ids), "a binding without an id cannot be remapped"
    assert len(ids) == len(set(ids))
    by_id = {binding.id: binding.key for binding in [*APP_BINDINGS, *COMPOSE_BINDINGS]}
    for binding_id, key in KEY_TABLE.items():
        assert by_id[binding_id] == key
    for binding in [*APP_BINDINGS, *COMPOSE_BINDINGS]:
        assert not set(binding.key.split(",")) & RESERVED, binding


def test_the_palette_offers_every_action() -> None:
    palette_actions = {command.action for command in COMMANDS}
    for binding in [*APP_BINDINGS, *COMPOSE_BINDINGS]:
        if binding.action != "command_palette":
            assert binding.action in palette_actions, binding.action


async def test_palette_hits_show_their_keys() -> None:
    runtime = seeded_runtime()
    app = make_app(runtime)
    async with app.run_test(size=WIDE):
        provider = LuminaCommands(app.screen)
        titles = [str(hit.display) async for hit in provider.discover()]
        assert any(title.startswith("Personalize") and "^g" in title for title in titles)
        assert any(title.startswith("Duplicate this draft for another prospect") for title in titles)
        assert any(title.startswith("Compose in $EDITOR") for title in titles)
        assert any(title.startswith("Open a draft") for title in titles)


async def test_footer_shows_the_most_used_keys_and_folds_to_five_at_80x24() -> None:
    runtime = seeded_runtime()
    app = make_app(runtime)
    async with app.run_test(size=WIDE) as pilot:
        # The Footer is rebuilt to fit once the screen knows its width: wait for that build.
        wide = await pilot_wait_until(
            pilot, lambda: footer_actions(app) if "help" in footer_actions(app) else None
        )
        for action in ("personalize", "rewrite", "tone", "accept", "score", "send", "new_draft", "help"):
            assert action in wide
    app = make_app(runtime)
    async with app.run_test(size=NARROW) as pilot:

        def folded() -> list[str] | None:
            actions = footer_actions(app)
            return actions if actions and set(actions) <= PRIMARY_ACTIONS else None

        narrow = await pilot_wait_until(pilot, folded)
        assert set(narrow) <= PRIMARY_ACTIONS
        assert {"personalize", "accept", "send", "command_palette"} <= set(narrow)
        screen = composer(app)
        # Subject, body, the one-line status and the footer stay visible at 80x24.
        for selector in ("#subject", "#body", "#status"):
            assert screen.query_one(selector).region.height > 0, selector
        assert screen.query_one("#prospect-card").region.height == 0
        assert screen.query_one("#ai-panel").region.height == 0


async def test_keymap_in_config_toml_remaps_a_binding(lumina_home) -> None:  # type: ignore[no-untyped-def]
    path = config_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text('[keymap]\npersonalize = "f9"\n', encoding="utf-8")
    runtime = seeded_runtime()
    assert runtime.settings.keymap == {"personalize": "f9"}
    app = make_app(runtime)
    async with app.run_test(size=WIDE) as pilot:
        screen = composer(app)
        await pilot.press("ctrl+g")
        await pilot.pause()
        assert screen._ai_request == 0  # the old key is gone
        await pilot.press("f9")
        await pilot_wait_until(pilot, lambda: screen._ai_request == 1)
        assert "f9" in [key.key for key in app.screen.query_one(Footer).query("FooterKey")]


async def test_function_keys_switch_screens_and_open_help() -> None:
    runtime = seeded_runtime()
    app = make_app(runtime)
    async with app.run_test(size=WIDE) as pilot:
        await pilot.press("f3")
        await pilot_wait_until(pilot, lambda: app.current_mode == "prospects")
        await pilot.press("f4")
        await pilot_wait_until(pilot, lambda: app.current_mode == "outbox")
        await pilot.press("f2")
        await pilot_wait_until(pilot, lambda: app.current_mode == "compose")
        await pilot.press("f1")
        await pilot_wait_until(pilot, lambda: isinstance(app.screen, HelpScreen))


async def test_tone_key_focuses_the_slider_and_arrows_move_it() -> None:
    runtime = seeded_runtime()
    app = make_app(runtime)
    async with app.run_test(size=WIDE) as pilot:
        screen = composer(app)
        slider = screen.query_one(ToneSlider)
        start = slider.value
        await pilot.press("ctrl+t")
        assert app.focused is slider
        await pilot.press("right", "right")
        assert slider.value == pytest.approx(min(1.0, start + 0.2))
        await pilot.press("left")
        assert slider.value == pytest.approx(min(1.0, start + 0.1))


async def test_escape_does_nothing_without_a_suggestion() -> None:
    runtime = seeded_runtime()
    app = make_app(runtime)
    async with app.run_test(size=WIDE) as pilot:
        screen = composer(app)
        assert screen.check_action("reject", ()) is None  # shown, greyed out, Esc passes on
        assert screen.check_action("accept", ()) is None  # shown, greyed out
        await pilot.press("escape")
        assert app.screen is screen


async def test_remapped_keys_show_in_the_panel_hints(lumina_home) -> None:  # type: ignore[no-untyped-def]
    path = config_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text('[keymap]\npersonalize = "f9"\naccept = "f10"\n', encoding="utf-8")
    runtime = seeded_runtime()
    app = make_app(runtime)
    async with app.run_test(size=WIDE):
        screen = composer(app)
        assert "f9 to personalize" in str(screen.panel.query_one("#glow-note").render())
        assert screen.panel.hint.startswith("f10 accept")
