"""One CSS strategy (issue 10.6): a screen's layout in its own .tcss beside it (CSS_PATH), a widget's
internals in its DEFAULT_CSS, app-wide rules (the shared `.dialog` box) in app.tcss, and every modal
drawn in that shared box. A screen that grows DEFAULT_CSS again, a .tcss that does not parse, or a
modal that builds its own box fails here."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
from pathlib import Path
from typing import Any

from textual.app import App
from textual.css.stylesheet import Stylesheet
from textual.screen import ModalScreen, Screen

import lumina_tui.tui

TUI = Path(lumina_tui.tui.__file__).parent


def _screens() -> list[type[Screen[Any]]]:
    for module in pkgutil.walk_packages(lumina_tui.tui.__path__, "lumina_tui.tui."):
        importlib.import_module(module.name)
    found: list[type[Screen[Any]]] = []

    def walk(cls: type[Any]) -> None:
        for sub in cls.__subclasses__():
            if sub.__module__.startswith("lumina_tui.tui.") and sub not in found:
                found.append(sub)
            walk(sub)

    walk(Screen)
    return found


def _parses(path: Path) -> None:
    sheet = Stylesheet(variables=App[None]().get_css_variables())  # $accent, $surface, …
    sheet.read(path)
    sheet.parse()
    assert sheet.rules, f"{path.name} has no rules"


def test_every_screen_keeps_its_layout_in_its_own_tcss() -> None:
    screens = _screens()
    assert len(screens) >= 12, [s.__name__ for s in screens]
    for screen in screens:
        assert "DEFAULT_CSS" not in vars(screen), f"{screen.__name__}: layout belongs in a .tcss file"
        css_path = vars(screen).get("CSS_PATH")
        if css_path is None:
            continue  # a small dialog drawn only with the shared .dialog rules
        path = Path(inspect.getfile(screen)).parent / str(css_path)
        assert path.exists(), path
        _parses(path)
        # Its rules name its own class, so a rule cannot leak onto another screen's widgets.
        text = re.sub(r"/\*.*?\*/", "", path.read_text(encoding="utf-8"), flags=re.S)
        selectors = [block.split("{")[0].strip() for block in text.split("}") if "{" in block]
        if screen.__name__ != "ComposeScreen":  # the composer's ids are its own (#body, #subject…)
            for selector in selectors:
                for part in selector.split(","):
                    assert part.strip().startswith(screen.__name__), f"{path.name}: {part.strip()}"


def test_app_tcss_holds_only_app_wide_rules_and_parses() -> None:
    path = TUI / "app.tcss"
    _parses(path)
    text = re.sub(r"/\*.*?\*/", "", path.read_text(encoding="utf-8"), flags=re.S)
    selectors = [block.split("{")[0].strip() for block in text.split("}") if "{" in block]
    assert ".dialog" in selectors
    assert not any(s.startswith("#") and not s.startswith("#quit-") for s in selectors), selectors


def test_every_modal_is_drawn_in_the_shared_dialog_box() -> None:
    modals = [screen for screen in _screens() if issubclass(screen, ModalScreen)]
    assert len(modals) >= 7, [m.__name__ for m in modals]
    for modal in modals:
        source = inspect.getsource(modal.compose)
        drawn_in_dialog = re.search(r'classes="dialog\b|"dialog"|"dialog -', source)
        assert drawn_in_dialog, f"{modal.__name__} draws its own box"
    app_css = (TUI / "app.tcss").read_text(encoding="utf-8")
    for modal in modals:
        assert modal.__name__ in app_css, f"{modal.__name__} is not centred with the other dialogs"
