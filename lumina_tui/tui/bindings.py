"""Every key of the composer app in one place, each with an id a rep can remap in `config.toml`.

The keys follow the README's table ("Keys in the composer"). The order is the Footer's order, so
the most used come first; `PRIMARY_ACTIONS` are the five the Footer keeps at 80 columns. TextArea already owns
ctrl+a/e/k/u/w/d/x/c/v/z/y, f6 and f7, and tmux owns ctrl+b, so none of those appear here; the
undo of a queued send gets f8 because ctrl+z is the editor's own undo.
"""

from __future__ import annotations

from textual.binding import Binding

#: Shown in the Footer even at 80x24 (the command palette key is added by the Footer itself).
PRIMARY_ACTIONS: frozenset[str] = frozenset({"personalize", "accept", "reject", "send", "command_palette"})

#: When the Footer cannot show every key, the ones kept first (most important first). Help (f1) and
#: the palette come first: from them every other key can be found.
FOOTER_PRIORITY: tuple[str, ...] = (
    "command_palette",
    "help",
    "undo_send",
    "send",
    "personalize",
    "accept",
    "reject",
    "score",
    "rewrite",
    "new_draft",
    "tone",
)

APP_BINDINGS: list[Binding] = [
    Binding("f1", "help", "Help", id="help"),
    Binding("f2", "switch_mode('compose')", "Compose", show=False, id="compose"),
    Binding("f3", "switch_mode('prospects')", "Prospects", show=False, id="prospects"),
    Binding("f4", "switch_mode('outbox')", "Outbox", show=False, id="outbox"),
    Binding("f5", "switch_mode('stats')", "Stats", show=False, id="stats"),
    Binding("ctrl+q", "quit", "Quit", show=False, priority=True, id="quit"),
    Binding("ctrl+p", "command_palette", "Commands", show=False, priority=True, id="command_palette"),
]

COMPOSE_BINDINGS: list[Binding] = [
    Binding("ctrl+g", "personalize", "Personalize", id="personalize"),
    Binding("ctrl+r", "rewrite", "Rewrite", id="rewrite"),
    Binding("ctrl+t", "tone", "Tone", id="tone"),
    Binding("ctrl+o", "accept", "Accept", id="accept"),
    Binding("escape", "reject", "Reject", id="reject"),
    Binding("ctrl+l", "score", "Score", id="score"),
    Binding("ctrl+s", "send", "Send", id="send"),
    Binding("ctrl+n", "new_draft", "New", id="new_draft"),
    Binding("f8", "undo_send", "Undo send", id="undo_send"),
]

TONE_SLIDER_BINDINGS: list[Binding] = [
    Binding("left", "move(-1)", "More formal", show=False, id="tone_formal"),
    Binding("right", "move(1)", "More casual", show=False, id="tone_casual"),
]

SUGGESTION_BINDINGS: list[Binding] = [
    Binding("enter", "edit_suggestion", "Edit suggestion", show=False, id="suggestion_edit"),
]

DIALOG_BINDINGS: list[Binding] = [
    Binding("escape", "cancel", "Back", id="dialog_cancel"),
]

CONFIRM_BINDINGS: list[Binding] = [
    Binding("enter,y", "confirm", "Yes", id="confirm_yes"),
    Binding("escape,n", "cancel", "No", id="confirm_no"),
]


QUIT_WHILE_SENDING_BINDINGS: list[Binding] = [
    Binding("q", "choose('quit')", "Quit", id="quit_anyway"),
    Binding("u", "choose('undo')", "Undo send and quit", id="quit_undo_send"),
    Binding("escape,s", "choose('stay')", "Stay", id="quit_stay"),
]


def all_bindings() -> list[Binding]:
    """Every binding this package defines, for help and for checking a keymap's ids."""
    return [
        *APP_BINDINGS,
        *COMPOSE_BINDINGS,
        *TONE_SLIDER_BINDINGS,
        *SUGGESTION_BINDINGS,
        *DIALOG_BINDINGS,
        *CONFIRM_BINDINGS,
        *QUIT_WHILE_SENDING_BINDINGS,
    ]


def key_for(binding_id: str, keymap: dict[str, str] | None = None) -> str:
    """The key that runs a binding now: the keymap's choice, else the default."""
    if keymap and binding_id in keymap:
        return keymap[binding_id]
    for binding in all_bindings():
        if binding.id == binding_id:
            return binding.key
    raise KeyError(binding_id)
