"""One action registry (issue 10.3): every screen's bindings, the palette, help and the hints come from
`tui/bindings.ACTIONS`, and a key remapped in `[keymap]` shows in every hint.

The walk below imports every module of the UI and checks every class that declares BINDINGS: each
binding is a registry row (same id, action and key), the rows of one class all apply to the same
place, and every registry action has a handler on each class where it applies (palette-only rows
included), so a typo in an id or an action name fails here rather than on a rep's key press.
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any

import pytest
from polling import pilot_wait_until
from textual.app import App
from textual.binding import Binding
from textual.dom import DOMNode

import lumina_tui.tui
from lumina_tui.services import accounts, drafts, prospects, sending
from lumina_tui.services.runtime import Runtime, open_runtime
from lumina_tui.tui.bindings import ACTIONS, BY_ID, Where, key_display, key_for, palette_actions
from lumina_tui.tui.palette import COMMANDS
from lumina_tui.tui.screens.dialogs import ConfirmDialog
from lumina_tui.tui.screens.help import HelpScreen, collect_help
from lumina_tui.tui.screens.outbox import OutboxScreen

pytestmark = pytest.mark.anyio


def _ui_classes() -> list[type[DOMNode]]:
    """Every app, screen and widget class of the UI that declares its own BINDINGS."""
    for module in pkgutil.walk_packages(lumina_tui.tui.__path__, "lumina_tui.tui."):
        importlib.import_module(module.name)
    found: list[type[DOMNode]] = []

    def walk(cls: type[Any]) -> None:
        for sub in cls.__subclasses__():
            if sub.__module__.startswith("lumina_tui.tui.") and "BINDINGS" in vars(sub) and sub not in found:
                found.append(sub)
            walk(sub)

    walk(DOMNode)
    return found


def _where(cls: type[DOMNode]) -> Where:
    places = set()
    for binding in cls.BINDINGS:
        assert isinstance(binding, Binding), f"{cls.__name__}: {binding!r} is not a registry binding"
        assert binding.id in BY_ID, f"{cls.__name__}: binding id {binding.id!r} is not in the registry"
        row = BY_ID[binding.id]
        assert (binding.action, binding.key, binding.description) == (row.action, row.key, row.description)
        places.add(row.where)
    assert len(places) == 1, f"{cls.__name__} mixes actions of {places}"
    return places.pop()


def test_every_binding_of_every_screen_is_a_registry_row_with_a_handler() -> None:
    classes = _ui_classes()
    assert len(classes) >= 14, [c.__name__ for c in classes]
    where_of = {cls: _where(cls) for cls in classes}
    for where in Where:
        homes = [cls for cls, place in where_of.items() if place is where]
        assert homes, f"no screen or widget takes the actions of {where}"
        for row in (r for r in ACTIONS if r.where is where):
            for home in homes:
                assert callable(getattr(home, row.handler, None)), f"{home.__name__} has no {row.handler}"
    # Every keyed row is bound somewhere, exactly as the registry says.
    bound = {binding.id for cls in classes for binding in cls.BINDINGS if isinstance(binding, Binding)}
    assert bound == {row.id for row in ACTIONS if row.key is not None}


def test_ids_are_unique_and_the_palette_is_the_registry() -> None:
    ids = [row.id for row in ACTIONS]
    assert len(ids) == len(set(ids))
    assert list(COMMANDS) == palette_actions()
    assert all(row.where in (Where.APP, Where.COMPOSE) for row in COMMANDS)  # the palette runs them there
    # Every app and composer key is also a palette entry, except the palette's own key.
    for row in ACTIONS:
        if row.where in (Where.APP, Where.COMPOSE) and row.key and row.id != "command_palette":
            assert row.palette, row.id


def test_key_for_honours_the_keymap_and_refuses_an_unknown_id() -> None:
    assert key_for("outbox_cancel") == "u"
    assert key_for("outbox_cancel", {"outbox_cancel": "x"}) == "x"
    assert key_for("open_draft") == ""  # palette only
    with pytest.raises(KeyError):
        key_for("outbox.cancel")


class RemappedHost(App[None]):
    """The outbox and a yes/no dialog under a keymap that moves their keys."""

    MODES = {"outbox": OutboxScreen}

    def __init__(self, runtime: Runtime, keymap: dict[str, str]) -> None:
        super().__init__()
        self.runtime = runtime
        self.set_keymap(keymap)

    def on_mount(self) -> None:
        self.switch_mode("outbox")


async def test_a_remapped_key_shows_in_the_hints_and_help(settings) -> None:  # type: ignore[no-untyped-def]
    runtime = open_runtime(settings)
    accounts.add_account(
        runtime.db, runtime.actor, provider="maildir", email="rep@keys.test", make_default=True
    )
    prospect = prospects.create(runtime.db, runtime.actor, email="ana@keys.test", first_name="Ana")
    draft = drafts.create(runtime.db, runtime.actor, prospect_id=prospect.id, subject="Hi", body="Hello Ana")
    sending.send(runtime.db, runtime.actor, draft_id=draft.id, settings=runtime.settings)

    keymap = {"outbox_cancel": "x", "confirm_no": "ctrl+n", "help_close": "f10"}
    app = RemappedHost(runtime, keymap)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.screen
        assert isinstance(screen, OutboxScreen)

        # The queued email's sentence names the remapped undo key (it looked up a wrong id before).
        def sentence() -> str | None:
            text = str(screen.query_one("#outbox-detail-text").content)
            return text if "undoes" in text else None

        text = await pilot_wait_until(pilot, sentence)
        assert "x undoes it" in text and "u undoes" not in text
        assert key_display(app, "outbox_cancel") == "x"

        app.push_screen(ConfirmDialog("Remove?"))
        await pilot_wait_until(
            pilot, lambda: isinstance(app.screen, ConfirmDialog) and app.screen.query(".dialog-hint")
        )
        hint = str(app.screen.query_one(".dialog-hint").content)
        assert hint == "⏎ yes · ^n no"  # written as the Footer writes keys
        app.pop_screen()

        groups = {g.title: {e.binding_id: e.keys for e in g.entries} for g in collect_help(app)}
        assert groups["Outbox"]["outbox_cancel"] == ["x"]
        assert groups["Help"]["help_close"] == ["f10"]
        assert isinstance(HelpScreen.BINDINGS[0], Binding)


async def test_the_composers_hints_name_remapped_keys(lumina_home) -> None:  # type: ignore[no-untyped-def]
    from compose_support import (
    WIDE,
    composer,
    make_app,
    seeded_runtime,
)

    from lumina_tui.config import config_file

    path = config_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text('[keymap]\naccept = "f11"\nundo_send = "f12"\npersonalize = "f10"\n', encoding="utf-8")
    app = make_app(seeded_runtime())
    async with app.run_test(size=WIDE) as pilot:
        screen = composer(app)
        await pilot_wait_until(pilot, lambda: screen.is_mounted and screen.panel.is_mounted)
        assert screen.panel.hint == "f11 accept · esc reject"
        assert (screen.key_of("undo_send"), screen.key_of("outbox")) == ("f12", "f4")
        assert "Press f10 to personalize" in screen.panel.idle_note()
