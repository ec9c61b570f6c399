"""The action registry: every action of the app in one table, each with an id a rep can remap.

One row per action: its id (the `[keymap]` name in `config.toml`), the Textual action it runs, where
it applies (`Where`: the app, or one screen, dialog or widget), its default key and what it does.
Everything else is derived from `ACTIONS`, never kept beside it:

- each screen's and widget's `BINDINGS` (`bindings_for(where)`),
- the command palette (the rows with a `palette` title, `palette_actions()`),
- the help screen (it walks those bindings; descriptions and ids come from here),
- every on-screen hint ("u undoes it", "⏎ choose · esc back"): `key_display(app, id)`, which
  reads the live keymap, so a remapped key shows its new key everywhere.

The keys follow the README's table ("Keys in the composer"). The composer's order is the Footer's
order, so the most used come first; `PRIMARY_ACTIONS` are the five the Footer keeps at 80 columns.
TextArea already owns ctrl+a/e/k/u/w/d/x/c/v/z/y, f6 and f7, and tmux owns ctrl+b, so none of those
appear here; the undo of a queued send gets f8 because ctrl+z is the editor's own undo. Ids are bare
TOML keys (words joined by underscores): a dotted id would be read as a nested table.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from textual.binding import Binding, BindingType


class Where(StrEnum):
    """Where an action applies: the app, or the screen, dialog or widget whose BINDINGS hold it."""

    APP = "app"
    COMPOSE = "compose"
    TONE_SLIDER = "tone_slider"
    SUGGESTION = "suggestion"
    PROSPECTS = "prospects"
    PROSPECT_FORM = "prospect_form"
    PROSPECT_IMPORT = "prospect_import"
    OUTBOX = "outbox"
    STATS = "stats"
    ACCOUNTS = "accounts"
    SEND_REVIEW = "send_review"
    HELP = "help"
    DIALOG = "dialog"  # a list to pick from (ChoiceDialog, the prospect picker)
    CONFIRM = "confirm"
    QUIT_WHILE_SENDING = "quit_while_sending"


@dataclass(frozen=True, slots=True)
class Action:
    """One action: `key` None means no default key (the palette runs it); `palette` is its title there."""

    id: str
    where: Where
    action: str
    description: str
    key: str | None = None
    show: bool = True
    priority: bool = False
    palette: str | None = None
    help: str = ""

    @property
    def handler(self) -> str:
        """The method that runs it: `switch_mode('outbox')` → `action_switch_mode`."""
        return "action_" + self.action.split("(", 1)[0]

    def binding(self) -> Binding:
        assert self.key is not None, self.id
        return Binding(
            self.key, self.action, self.description, show=self.show, priority=self.priority, id=self.id
        )


A = Action
W = Where

ACTIONS: tuple[Action, ...] = (
    # ---- everywhere
    A("help", W.APP, "help", "Help", "f1", palette="Help", help="Every key"),
    A("compose", W.APP, "switch_mode('compose')", "Compose", "f2", show=False, palette="Compose",
      help="The composer"),
    A("prospects", W.APP, "switch_mode('prospects')", "Prospects", "f3", show=False, palette="Prospects",
      help="Search, add, edit and import prospects"),
    A("outbox", W.APP, "switch_mode('outbox')", "Outbox", "f4", show=False, palette="Outbox",
      help="Sent and queued emails, retry and undo"),
    A("stats", W.APP, "switch_mode('stats')", "Stats", "f5", show=False, palette="Stats",
      help="Replies, templates and alerts over time"),
    A("accounts", W.APP, "accounts", "Accounts", "f9", show=False, palette="Accounts…",
      help="Sending accounts: test, sign in again, make default, remove"),
    A("quit", W.APP, "quit", "Quit", "ctrl+q", show=False, priority=True, palette="Quit",
      help="Save and quit"),
    A("command_palette", W.APP, "command_palette", "Commands", "ctrl+p", show=False, priority=True),
    # ---- the composer (Footer order)
    A("personalize", W.COMPOSE, "personalize", "Personalize", "ctrl+g", palette="Personalize",
      help="Ask the AI for a version of this draft for its prospect"),
    A("rewrite", W.COMPOSE, "rewrite", "Rewrite", "ctrl+r", palette="Rewrite…",
      help="Rewrite the draft with an instruction (shorter, friendlier…)"),
    A("tone", W.COMPOSE, "tone", "Tone", "ctrl+t", palette="Tone slider",
      help="Focus the tone slider (←/→ formal … casual)"),
    A("accept", W.COMPOSE, "accept", "Accept", "ctrl+o", palette="Accept suggestion",
      help="Apply the AI suggestion as one undoable edit"),
    A("reject", W.COMPOSE, "reject", "Reject", "escape", palette="Reject suggestion",
      help="Dismiss the AI suggestion"),
    A("score", W.COMPOSE, "score", "Score", "ctrl+l", palette="Score the draft",
      help="Spam risk, reply probability and advice"),
    A("send", W.COMPOSE, "send", "Send", "ctrl+s", palette="Send…", help="Review, then send this draft"),
    A("new_draft", W.COMPOSE, "new_draft", "New", "ctrl+n", palette="New draft", help="Start a new draft"),
    A("undo_send", W.COMPOSE, "undo_send", "Undo send", "f8", palette="Undo send",
      help="Cancel the email still in its undo window"),
    A("open_draft", W.COMPOSE, "open_draft", "Open a draft", palette="Open a draft…",
      help="The drafts list: open any draft (sent ones read-only)"),
    A("choose_prospect", W.COMPOSE, "choose_prospect", "Choose prospect", palette="Choose prospect…",
      help="Address this draft to someone (fuzzy search)"),
    A("duplicate_for_prospect", W.COMPOSE, "duplicate_for_prospect", "Duplicate for another prospect",
      palette="Duplicate this draft for another prospect…",
      help="A copy of this draft addressed to someone else"),
    A("choose_template", W.COMPOSE, "choose_template", "Apply a template", palette="Apply a template…",
      help="Fill a template from the prospect"),
    A("choose_account", W.COMPOSE, "choose_account", "Send from", palette="Send from…",
      help="Choose the From account"),
    A("check_account", W.COMPOSE, "check_account", "Check the sending account",
      palette="Check the sending account",
      help="Sign-in and connection of the From account, nothing sent "
      "(`lumina accounts signin` if it needs one)"),
    A("edit_in_editor", W.COMPOSE, "edit_in_editor", "Compose in $EDITOR", palette="Compose in $EDITOR",
      help="Edit the body in your own editor"),
    A("toggle_ai_panel", W.COMPOSE, "toggle_ai_panel", "AI panel", palette="AI panel",
      help="Open or close the AI panel (narrow terminals)"),
    # ---- composer widgets
    A("tone_formal", W.TONE_SLIDER, "move(-1)", "More formal", "left", show=False),
    A("tone_casual", W.TONE_SLIDER, "move(1)", "More casual", "right", show=False),
    A("suggestion_edit", W.SUGGESTION, "edit_suggestion", "Edit suggestion", "enter", show=False),
    # ---- prospects
    A("prospects_search", W.PROSPECTS, "focus_search", "Search", "slash"),
    A("prospects_add", W.PROSPECTS, "add", "Add", "a"),
    A("prospects_edit", W.PROSPECTS, "edit", "Edit", "e"),
    A("prospects_import", W.PROSPECTS, "import_csv", "Import CSV", "i"),
    A("prospects_compose", W.PROSPECTS, "compose", "Compose to", "c"),
    A("prospect_form_save", W.PROSPECT_FORM, "save", "Save", "ctrl+s", priority=True),
    A("prospect_form_cancel", W.PROSPECT_FORM, "cancel", "Back", "escape"),
    A("prospect_import_close", W.PROSPECT_IMPORT, "close", "Close", "escape"),
    # ---- outbox, stats, accounts
    A("outbox_retry", W.OUTBOX, "retry", "Retry", "r"),
    A("outbox_cancel", W.OUTBOX, "cancel_send", "Undo send", "u"),
    A("outbox_filter", W.OUTBOX, "next_filter", "Filter", "f"),
    A("outbox_sync", W.OUTBOX, "sync_mailboxes", "Sync", "s"),
    A("stats_mark_read", W.STATS, "mark_read", "Mark alerts read", "r"),
    A("accounts_test", W.ACCOUNTS, "test_account", "Test", "t"),
    A("accounts_sign_in", W.ACCOUNTS, "sign_in", "Sign in again", "s"),
    A("accounts_default", W.ACCOUNTS, "make_default", "Make default", "d"),
    A("accounts_remove", W.ACCOUNTS, "remove", "Remove", "delete"),
    A("accounts_close", W.ACCOUNTS, "close", "Back", "escape"),
    # ---- dialogs
    A("send_review_confirm", W.SEND_REVIEW, "confirm", "Send", "enter", priority=True),
    A("send_review_back", W.SEND_REVIEW, "back", "Back", "escape"),
    A("help_close", W.HELP, "close", "Close help", "escape,f1,q"),
    A("dialog_cancel", W.DIALOG, "cancel", "Back", "escape"),
    A("confirm_yes", W.CONFIRM, "confirm", "Yes", "enter,y"),
    A("confirm_no", W.CONFIRM, "cancel", "No", "escape,n"),
    A("quit_anyway", W.QUIT_WHILE_SENDING, "choose('quit')", "Quit", "q"),
    A("quit_undo_send", W.QUIT_WHILE_SENDING, "choose('undo')", "Undo send and quit", "u"),
    A("quit_stay", W.QUIT_WHILE_SENDING, "choose('stay')", "Stay", "escape,s"),
)  # fmt: skip

BY_ID: dict[str, Action] = {action.id: action for action in ACTIONS}

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


def _keyed(where: Where) -> list[Binding]:
    return [action.binding() for action in ACTIONS if action.where is where and action.key is not None]


def bindings_for(where: Where) -> list[BindingType]:
    """The BINDINGS of the screen, dialog or widget where these actions apply (keyed ones only)."""
    return list(_keyed(where))


def palette_actions() -> list[Action]:
    """The command palette's entries: the composer's first (the screen a rep spends the day on)."""
    return sorted((action for action in ACTIONS if action.palette), key=lambda a: a.where is Where.APP)


APP_BINDINGS: list[BindingType] = bindings_for(Where.APP)
COMPOSE_BINDINGS: list[BindingType] = bindings_for(Where.COMPOSE)
TONE_SLIDER_BINDINGS: list[BindingType] = bindings_for(Where.TONE_SLIDER)
SUGGESTION_BINDINGS: list[BindingType] = bindings_for(Where.SUGGESTION)
DIALOG_BINDINGS: list[BindingType] = bindings_for(Where.DIALOG)
CONFIRM_BINDINGS: list[BindingType] = bindings_for(Where.CONFIRM)
QUIT_WHILE_SENDING_BINDINGS: list[BindingType] = bindings_for(Where.QUIT_WHILE_SENDING)


def all_bindings() -> list[Binding]:
    """Every keyed action as a binding, for help and for checking a keymap's ids."""
    return [action.binding() for action in ACTIONS if action.key is not None]


def key_for(action_id: str, keymap: Mapping[str, str] | None = None) -> str:
    """The key(s) that run an action now: the keymap's choice, else the default ("" if it has none).

    Raises KeyError for an id the registry does not know (a typo in a hint is a bug, not a blank).
    """
    action = BY_ID[action_id]
    if keymap and keymap.get(action_id):
        return keymap[action_id]
    return action.key or ""


class KeyDisplayHost(Protocol):
    """What `key_display` needs of the app: Textual's key display (and its live keymap)."""

    def get_key_display(self, binding: Binding, /) -> str: ...


def live_keymap(app: object) -> dict[str, str]:
    """The keymap the app applies now (`App.set_keymap` keeps it in `_keymap`; Textual has no getter)."""
    return dict(getattr(app, "_keymap", None) or {})


def key_display(app: KeyDisplayHost, action_id: str) -> str:
    """The first key of an action as the Footer writes it (`^g`, `f8`, `u`), keymap applied.

    Every on-screen hint uses this, so a key remapped in `config.toml` shows its new key.
    """
    key = key_for(action_id, live_keymap(app)).split(",")[0].strip()
    return app.get_key_display(Binding(key, BY_ID[action_id].action)) if key else ""
