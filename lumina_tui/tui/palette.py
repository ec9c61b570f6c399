"""The command palette (ctrl+p): every action of the app, with its key when it has one.

Keys are looked up live (the keymap from `config.toml` applies), so the palette and the Footer
never disagree. Composer actions switch to the Compose screen first when run from elsewhere.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial
from typing import Literal

from textual.binding import Binding
from textual.command import DiscoveryHit, Hit, Hits, Provider

from lumina_tui.tui.bindings import all_bindings


@dataclass(frozen=True, slots=True)
class PaletteCommand:
    title: str
    help: str
    action: str
    scope: Literal["app", "compose"]
    binding_id: str | None = None


COMMANDS: tuple[PaletteCommand, ...] = (
    PaletteCommand(
        "Personalize",
        "Ask the AI for a version of this draft for its prospect",
        "personalize",
        "compose",
        "personalize",
    ),
    PaletteCommand(
        "Rewrite…",
        "Rewrite the draft with an instruction (shorter, friendlier…)",
        "rewrite",
        "compose",
        "rewrite",
    ),
    PaletteCommand("Tone slider", "Focus the tone slider (←/→ formal … casual)", "tone", "compose", "tone"),
    PaletteCommand(
        "Accept suggestion", "Apply the AI suggestion as one undoable edit", "accept", "compose", "accept"
    ),
    PaletteCommand("Reject suggestion", "Dismiss the AI suggestion", "reject", "compose", "reject"),
    PaletteCommand("Score the draft", "Spam risk, reply probability and advice", "score", "compose", "score"),
    PaletteCommand("Send…", "Review, then send this draft", "send", "compose", "send"),
    PaletteCommand(
        "Undo send", "Cancel the email still in its undo window", "undo_send", "compose", "undo_send"
    ),
    PaletteCommand("New draft", "Start a new draft", "new_draft", "compose", "new_draft"),
    PaletteCommand(
        "Open a draft…", "The drafts list: open any draft (sent ones read-only)", "open_draft", "compose"
    ),
    PaletteCommand(
        "Choose prospect…", "Address this draft to someone (fuzzy search)", "choose_prospect", "compose"
    ),
    PaletteCommand(
        "Duplicate this draft for another prospect…",
        "A copy of this draft addressed to someone else",
        "duplicate_for_prospect",
        "compose",
    ),
    PaletteCommand("Apply a template…", "Fill a template from the prospect", "choose_template", "compose"),
    PaletteCommand("Send from…", "Choose the From account", "choose_account", "compose"),
    PaletteCommand(
        "Check the sending account",
        "Sign-in and connection of the From account, nothing sent (`lumina accounts signin` if it needs one)",
        "check_account",
        "compose",
    ),
    PaletteCommand("Compose in $EDITOR", "Edit the body in your own editor", "edit_in_editor", "compose"),
    PaletteCommand("AI panel", "Open or close the AI panel (narrow terminals)", "toggle_ai_panel", "compose"),
    PaletteCommand("Compose", "The composer", "switch_mode('compose')", "app", "compose"),
    PaletteCommand(
        "Prospects", "Search, add, edit and import prospects", "switch_mode('prospects')", "app", "prospects"
    ),
    PaletteCommand(
        "Outbox", "Sent and queued emails, retry and undo", "switch_mode('outbox')", "app", "outbox"
    ),
    PaletteCommand(
        "Stats", "Replies, templates and alerts over time", "switch_mode('stats')", "app", "stats"
    ),
    PaletteCommand("Help", "Every key", "help", "app", "help"),
    PaletteCommand("Quit", "Save and quit", "quit", "app", "quit"),
)


class LuminaCommands(Provider):
    """Every Lumina action for the palette; `SystemCommandsProvider` keeps Textual's own."""

    def _key(self, binding_id: str | None) -> str:
        if binding_id is None:
            return ""
        keymap = getattr(getattr(self.app, "runtime", None), "settings", None)
        overrides = dict(getattr(keymap, "keymap", {}) or {})
        for binding in all_bindings():
            if binding.id == binding_id:
                key = overrides.get(binding_id, binding.key).split(",")[0]
                return self.app.get_key_display(Binding(key, binding.action))
        return ""

    def _entries(self) -> Iterator[tuple[str, PaletteCommand]]:
        for command in COMMANDS:
            key = self._key(command.binding_id)
            yield (f"{command.title}  ({key})" if key else command.title), command

    def _run(self, command: PaletteCommand) -> None:
        app = self.app
        if command.scope == "app":
            app.call_later(app.run_action, command.action)
            return

        async def run_in_composer() -> None:
            if app.current_mode != "compose":
                await app.switch_mode("compose")
            composer = getattr(app, "composer", None)
            if composer is not None:
                await app.run_action(command.action, composer)

        app.call_later(run_in_composer)

    async def discover(self) -> Hits:
        for title, command in self._entries():
            yield DiscoveryHit(title, partial(self._run, command), help=command.help)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, command in self._entries():
            score = matcher.match(title)
            if score > 0:
                yield Hit(score, matcher.highlight(title), partial(self._run, command), help=command.help)
