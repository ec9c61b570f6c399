"""Help (f1): every key of the app and its screens, grouped, read from the live bindings.

Nothing here is a hand-kept list: the screen walks the running app (its own bindings, every screen
it has built or can build, the widgets inside those screens, and the dialogs Lumina opens) and
applies the app's keymap, so a key remapped in `config.toml` shows its new key. Bindings without an
id are Textual's own widget keys (cursor movement, editing) and are left out, except the app-wide
ones that carry a description (quit, the command palette).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, ClassVar

from textual.app import App, ComposeResult
from textual.binding import Binding, BindingsMap, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.dom import DOMNode
from textual.screen import ModalScreen, Screen
from textual.widgets import Static

from lumina_tui.tui.bindings import Where, bindings_for, key_display

EVERYWHERE = "Everywhere"
# Descriptions for Textual's own app keys, which ship without one or with a terse one.
BUILTIN_DESCRIPTIONS = {"command_palette": "Command palette", "quit": "Quit"}


@dataclass(slots=True)
class HelpEntry:
    keys: list[str]
    description: str
    binding_id: str | None


@dataclass(slots=True)
class HelpGroup:
    title: str
    entries: list[HelpEntry] = field(default_factory=list)


def group_title(node: DOMNode | type[DOMNode]) -> str:
    """A screen's or widget's `HELP_GROUP`, else its class name in words ("OutboxScreen" → "Outbox")."""
    cls = node if isinstance(node, type) else type(node)
    explicit = getattr(cls, "HELP_GROUP", None)
    if explicit:
        return str(explicit)
    name = cls.__name__.removesuffix("Screen").removesuffix("App") or cls.__name__
    return re.sub(r"(?<=[a-z])(?=[A-Z])", " ", name).capitalize()


def _description(binding: Binding) -> str:
    text = binding.description or binding.tooltip or BUILTIN_DESCRIPTIONS.get(binding.action, "")
    if binding.action in BUILTIN_DESCRIPTIONS and binding.description in {"", "palette"}:
        text = BUILTIN_DESCRIPTIONS[binding.action]
    return text or binding.action.replace("_", " ").capitalize()


def _with_keymap(bindings: BindingsMap, keymap: dict[str, str]) -> BindingsMap:
    live = bindings.copy()
    if keymap:
        live.apply_keymap(keymap)
    return live


def _screen_sources(app: App[Any]) -> Iterator[Screen[Any] | type[Screen[Any]]]:
    """Every screen the app has built, then the classes of those it can build but has not yet."""
    seen: set[type] = set()
    stacks: list[list[Screen[Any]]] = [list(app.screen_stack)]
    stacks.extend(list(stack) for stack in getattr(app, "_screen_stacks", {}).values())
    for stack in stacks:
        for screen in stack:
            if type(screen) not in seen and not isinstance(screen, HelpScreen):
                seen.add(type(screen))
                yield screen
    candidates: list[Any] = [*getattr(app, "MODES", {}).values(), *getattr(app, "SCREENS", {}).values()]
    candidates.extend(getattr(app, "_installed_screens", {}).values())
    for candidate in candidates:
        if isinstance(candidate, Screen) and type(candidate) not in seen:
            seen.add(type(candidate))
            yield candidate
        elif isinstance(candidate, type) and issubclass(candidate, Screen) and candidate not in seen:
            seen.add(candidate)
            yield candidate


def _dialog_classes() -> list[type[Screen[Any]]]:
    """Every screen class Lumina's UI defines, so a dialog's keys are known before it first opens.

    Found from the class hierarchy (not a hand-kept list): a dialog added later shows up by itself.
    """
    from lumina_tui.tui.screens import prospect_form, prospect_import, send_review  # noqa: F401

    found: list[type[Screen[Any]]] = []

    def walk(cls: type[Screen[Any]]) -> None:
        for sub in cls.__subclasses__():
            if sub.__module__.startswith("lumina_tui.tui.") and sub not in found:
                found.append(sub)
            walk(sub)

    walk(Screen)
    # The help screen's own keys last: it is the one the rep is looking at.
    return sorted(found, key=lambda cls: cls is HelpScreen)


def collect_help(app: App[Any], extra_screens: Iterable[type[Screen[Any]]] = ()) -> list[HelpGroup]:
    """The app's keys, grouped: app-wide first, then each screen (with its widgets), then dialogs."""
    keymap: dict[str, str] = dict(getattr(app, "_keymap", {}) or {})
    groups: dict[str, HelpGroup] = {}
    identities: dict[str, dict[tuple[str, str], HelpEntry]] = {}

    def add(title: str, bindings: BindingsMap, *, app_level: bool = False) -> None:
        group = groups.setdefault(title, HelpGroup(title))
        by_identity = identities.setdefault(title, {})
        # Entries in the order the code declares them; keys from the keymap-applied copy (which
        # reorders remapped bindings).
        for live_pass, source in ((False, bindings), (True, _with_keymap(bindings, keymap))):
            for _key, binding in source:
                if binding.id is None and not (app_level and binding.description):
                    continue
                description = _description(binding)
                identity = (binding.id or binding.action, description)
                entry = by_identity.get(identity)
                if entry is None:
                    entry = HelpEntry(keys=[], description=description, binding_id=binding.id)
                    by_identity[identity] = entry
                    group.entries.append(entry)
                key = app.get_key_display(binding)
                if live_pass and key not in entry.keys:
                    entry.keys.append(key)

    add(EVERYWHERE, app._bindings, app_level=True)
    seen_classes: set[type] = set()
    for source in _screen_sources(app):
        if isinstance(source, Screen):
            seen_classes.add(type(source))
            title = group_title(source)
            add(title, source._bindings)
            for widget in source.walk_children(with_self=False):
                if isinstance(widget, DOMNode):  # one without bindings adds no entries
                    add(
                        group_title(widget) if hasattr(type(widget), "HELP_GROUP") else title,
                        widget._bindings,
                    )
        else:
            seen_classes.add(source)
            add(group_title(source), source._merge_bindings())
    for dialog in [*extra_screens, *_dialog_classes()]:
        if dialog not in seen_classes:
            seen_classes.add(dialog)
            add(group_title(dialog), dialog._merge_bindings())
    return [group for group in groups.values() if group.entries]


def render_group(group: HelpGroup, key_width: int = 14, description_width: int = 30) -> Content:
    """The group's title, then one line per action: its keys, what it does, and its keymap id."""
    lines = [Content.styled(group.title, "bold $accent")]
    for entry in group.entries:
        keys = " / ".join(entry.keys)
        lines.append(
            Content.assemble(
                (f"  {keys:<{key_width}}", "bold"),
                " ",
                f"{entry.description:<{description_width}}",
                " ",
                (entry.binding_id or "", "$text-muted"),
            )
        )
    return Content("\n").join(lines)


class HelpScreen(ModalScreen[None]):
    """The key list; f1, escape or q closes it."""

    HELP_GROUP: ClassVar[str] = "Help"

    BINDINGS: ClassVar[list[BindingType]] = bindings_for(Where.HELP)  # keys: tui/bindings.py

    CSS_PATH = "help.tcss"  # its layout; the shared dialog box is .dialog in app.tcss

    def __init__(self, extra_screens: Iterable[type[Screen[Any]]] = ()) -> None:
        super().__init__()
        self._extra_screens = tuple(extra_screens)
        self.groups: list[HelpGroup] = []

    def compose(self) -> ComposeResult:
        self.groups = collect_help(self.app, self._extra_screens)
        with Vertical(id="help", classes="dialog") as box:
            box.border_title = "Keys"
            with VerticalScroll(id="help-keys"):
                for group in self.groups:
                    yield Static(render_group(group), classes="help-group")
            yield Static(
                Content(
                    f"↑↓ scroll · {key_display(self.app, 'help_close')} closes · "
                    "remap a key by its id in config.toml [keymap]"
                ),
                id="help-hint",
            )

    def on_mount(self) -> None:
        self.query_one("#help-keys", VerticalScroll).focus()

    def keys_for(self, description: str) -> list[str]:
        """The keys shown for a description (tests and docs use it)."""
        for group in self.groups:
            for entry in group.entries:
                if entry.description == description:
                    return entry.keys
        return []

    def action_close(self) -> None:
        self.dismiss(None)
