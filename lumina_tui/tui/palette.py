"""The command palette (ctrl+p): every action of the app, with its key when it has one.

The entries are the action registry's (`bindings.ACTIONS`) rows that carry a palette title.

Keys are looked up live (the keymap from `config.toml` applies), so the palette and the Footer
never disagree. Composer actions switch to the Compose screen first when run from elsewhere.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider

from lumina_tui.tui.bindings import Action, Where, key_display, palette_actions

#: The palette's entries: the registry's rows with a palette title (bindings.ACTIONS).
COMMANDS: tuple[Action, ...] = tuple(palette_actions())


class LuminaCommands(Provider):
    """Every Lumina action for the palette; `SystemCommandsProvider` keeps Textual's own."""

    def _entries(self) -> Iterator[tuple[str, Action]]:
        for command in COMMANDS:
            key = key_display(self.app, command.id)
            title = command.palette or command.description
            yield (f"{title}  ({key})" if key else title), command

    def _run(self, command: Action) -> None:
        app = self.app
        if command.where is Where.APP:
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
