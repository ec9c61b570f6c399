"""The Lumina app: Compose (f2), Prospects (f3) and Outbox (f4) as modes, Help on f1.

It owns what every screen shares: the runtime (settings, store, acting user), the keymap from
`config.toml` (`[keymap]`, applied with `App.set_keymap`), the command palette, and the last-chance
saves: quitting, SIGTERM and SIGHUP save the open draft synchronously before the app exits.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import time
from collections.abc import Callable
from typing import Any, ClassVar

from textual.app import App

from lumina_tui.tui.bindings import APP_BINDINGS
from lumina_tui.tui.palette import LuminaCommands
from lumina_tui.tui.screens.compose import ComposeScreen
from lumina_tui.tui.screens.outbox import OutboxScreen
from lumina_tui.tui.screens.prospects import ProspectsScreen

log = logging.getLogger(__name__)

TERMINATING_SIGNALS = (signal.SIGTERM, signal.SIGHUP)


class LuminaApp(App[None]):
    CSS_PATH = "app.tcss"
    TITLE = "Lumina"
    BINDINGS = APP_BINDINGS
    MODES: ClassVar[dict[str, Any]] = {
        "compose": ComposeScreen,
        "prospects": ProspectsScreen,
        "outbox": OutboxScreen,
    }
    DEFAULT_MODE = "compose"
    COMMANDS = App.COMMANDS | {LuminaCommands}

    def __init__(
        self,
        runtime: Any,
        *,
        draft_id: str | None = None,
        clock: Callable[[], float] | None = None,
        handle_signals: bool = True,
    ) -> None:
        super().__init__()
        self.runtime = runtime
        self.initial_draft_id = draft_id
        self._clock = clock or time.monotonic
        self.handle_signals = handle_signals
        self.composer: ComposeScreen | None = None
        self.set_keymap(dict(runtime.settings.keymap or {}))

    def clock(self) -> float:
        """The clock behind "saved 2 s ago" and a suggestion's age (fixed in snapshot tests)."""
        return self._clock()

    def on_mount(self) -> None:
        if self.handle_signals:
            loop = asyncio.get_running_loop()
            for number in TERMINATING_SIGNALS:
                try:
                    loop.add_signal_handler(number, self._terminate, number)
                except (NotImplementedError, RuntimeError, ValueError):  # not the main thread / Windows
                    log.info("cannot handle signal %s here", number)

    def on_unmount(self) -> None:
        if self.handle_signals:
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:
                return
            for number in TERMINATING_SIGNALS:
                with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                    loop.remove_signal_handler(number)

    def _terminate(self, number: int) -> None:
        """SIGTERM/SIGHUP: save the draft synchronously, then exit cleanly (terminal restored)."""
        log.info("signal %s: saving the open draft and exiting", number)
        self.save_open_draft()
        self.exit(return_code=128 + int(number))

    def save_open_draft(self) -> None:
        composer = self.composer
        if composer is not None and composer.is_mounted:
            composer.flush_blocking()

    async def action_quit(self) -> None:
        self.save_open_draft()
        self.exit()

    def action_help(self) -> None:
        from lumina_tui.tui.screens.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    async def action_compose_to(self, prospect_id: str) -> None:
        """The prospects screen's "compose to": the composer, addressed to this prospect."""
        await self.switch_mode("compose")
        if self.composer is not None:
            self.composer.compose_to(prospect_id)
