"""The Lumina app: Compose (f2), Prospects (f3) and Outbox (f4) as modes, Help on f1.

It owns what every screen shares: the runtime (settings, store, acting user), the keymap from
`config.toml` (`[keymap]`, applied with `App.set_keymap`), the command palette, and the last-chance
saves: quitting, SIGTERM and SIGHUP save the open draft synchronously before the app exits.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import PurePath
from typing import TYPE_CHECKING, Any, ClassVar

from textual import events
from textual.app import App
from textual.message import Message
from textual.notifications import SeverityLevel
from textual.screen import Screen

from lumina_tui.services.terminal_text import terminal_safe
from lumina_tui.tui.bindings import APP_BINDINGS
from lumina_tui.tui.palette import LuminaCommands
from lumina_tui.tui.screens.compose import ComposeScreen
from lumina_tui.tui.service_jobs import ServiceFailed, run_service

if TYPE_CHECKING:
    from textual.driver import Driver

    from lumina_tui.tui.alert_watch import AlertsRead  # imported when the app mounts (services.stats)

if TYPE_CHECKING:  # for annotations only: the app opens the runtime in a thread (`open_for_composer`)
    from lumina_tui.services.runtime import Runtime
    from lumina_tui.tui.compose.reads import ComposerOpened

log = logging.getLogger(__name__)

TERMINATING_SIGNALS = (signal.SIGTERM, signal.SIGHUP)
SWITCH_INTERVAL_SECONDS = 0.001


# Prospects and Outbox are imported when first shown: the outbox pulls in the send queue (huey and
# its backends), which would otherwise sit between `lumina` and its first frame.
def prospects_screen() -> Screen[None]:
    from lumina_tui.tui.screens.prospects import ProspectsScreen

    return ProspectsScreen()


def outbox_screen() -> Screen[None]:
    from lumina_tui.tui.screens.outbox import OutboxScreen

    return OutboxScreen()


def stats_screen() -> Screen[None]:
    from lumina_tui.tui.screens.stats import StatsScreen  # plotext loads only when f5 is pressed

    return StatsScreen()


@dataclass
class RuntimeOpened(Message):
    """The store, the settings and the composer's first read, opened after the first frame."""

    runtime: Runtime
    first_read: ComposerOpened


@dataclass
class RuntimeFailed(Message):
    """The runtime could not be opened (bad settings, no store, an unknown --draft): the app closes
    and `lumina` reports the error with the CLI's contract once the terminal is back."""

    error: BaseException


def open_for_composer(draft_id: str | None, start_worker: bool) -> Message:
    """Thread worker, after the first frame: open the runtime, check --draft, start the sidecar
    worker if none runs, and read what the composer shows first.

    This is everything `lumina` used to do before its first frame (importing SQLAlchemy and
    pydantic-settings, opening and checking the store, the first queries): about two thirds of
    its start-up (issue 10 point 9)."""
    try:
        from lumina_tui.services import drafts, worker_control
        from lumina_tui.services.runtime import open_runtime
        from lumina_tui.tui.compose import reads

        runtime = open_runtime()
        if draft_id is not None:
            drafts.get(runtime.db, runtime.actor, draft_id)  # an unknown id ends `lumina` with exit 2
        # The composer works without it (the status bar says "offline"); ensure_running never raises.
        if start_worker and worker_control.ensure_running(runtime.settings):
            log.info("started the sidecar send worker")
        first_read = reads.open_composer(runtime, draft_id)
    except Exception as exc:  # reported by `lumina` after the app closes (cli/tui_entry.py)
        return RuntimeFailed(exc)
    return RuntimeOpened(runtime, first_read)


class LuminaApp(App[None]):
    # The composer's layout is read with the app's own CSS, before the first frame, although it is
    # the composer's file (ComposeScreen.CSS_PATH names it too): a screen that brings a new .tcss
    # when it is first shown makes Textual re-parse every rule of every widget from scratch and
    # restyle every node, and the composer is always shown first (issue 10 point 9).
    CSS_PATH: ClassVar[list[str | PurePath]] = ["app.tcss", "screens/compose.tcss"]
    TITLE = "Lumina"
    BINDINGS = APP_BINDINGS
    MODES: ClassVar[dict[str, Any]] = {
        "compose": ComposeScreen,
        "prospects": prospects_screen,
        "outbox": outbox_screen,
        "stats": stats_screen,
    }
    DEFAULT_MODE = "compose"
    COMMANDS = App.COMMANDS | {LuminaCommands}

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = True,
    ) -> None:
        """Every toast is plain text: they quote names, subjects and error messages (stored text),
        so markup is never parsed (`[/]` raised MarkupError) and control characters are shown."""
        super().notify(
            terminal_safe(message, multiline=True),
            title=terminal_safe(title),
            severity=severity,
            timeout=timeout,
            markup=False,
        )

    def __init__(
        self,
        runtime: Runtime | None = None,
        *,
        draft_id: str | None = None,
        clock: Callable[[], float] | None = None,
        handle_signals: bool = True,
        start_worker: bool = False,
        driver_class: type[Driver] | None = None,
    ) -> None:
        """With a `runtime` (tests, scripts) the app starts on it; without one (`lumina`) the app
        draws its first frame first and opens the runtime in a thread right after it.
        `driver_class`: `lumina`'s (cli/typeahead.py), or Textual's choice."""
        super().__init__(driver_class=driver_class)
        self._runtime = runtime
        self._switch_interval = sys.getswitchinterval()
        self.initial_draft_id = draft_id
        self._clock = clock or time.monotonic
        self.handle_signals = handle_signals
        self.start_worker = start_worker
        self.composer: ComposeScreen | None = None
        #: Why the runtime could not be opened; `lumina` raises it once the app has closed.
        self.start_error: BaseException | None = None
        #: Keys and pastes that arrive before the runtime is open, replayed once it is (None: open).
        self._typeahead: list[events.Key | events.Paste] | None = None
        if runtime is None:
            self._typeahead = []
        else:
            self.set_keymap(dict(runtime.settings.keymap or {}))

    @property
    def runtime(self) -> Runtime:
        """Settings, store and acting user; every screen reads it once `runtime_ready`."""
        if self._runtime is None:
            raise RuntimeError("the runtime is not open yet")
        return self._runtime

    @property
    def runtime_ready(self) -> bool:
        return self._runtime is not None

    async def on_event(self, event: events.Event) -> None:
        """Until the runtime is open, keys and pastes wait (in order) and clicks are ignored: every
        action needs the store, and a key typed into the empty composer would land before the draft."""
        if self._typeahead is not None and isinstance(event, events.InputEvent) and not event.is_forwarded:
            if isinstance(event, (events.Key, events.Paste)):
                self._typeahead.append(event)
                return
            if isinstance(event, (events.MouseDown, events.MouseUp, events.Click)):
                return
        await super().on_event(event)

    def on_ready(self) -> None:
        """The first frame is on screen: now open the runtime (`lumina`; tests hand one in), and
        meanwhile put the composer's parts that the first frame only stood in for in place (queued
        now, so handled before the runtime's answer; `on_runtime_opened` makes sure)."""
        if self._runtime is None:
            draft_id, start_worker = self.initial_draft_id, self.start_worker
            run_service(self, lambda: open_for_composer(draft_id, start_worker), group="runtime")
            if self.composer is not None:
                self.call_later(self.composer.mount_the_rest)

    async def on_runtime_opened(self, message: RuntimeOpened) -> None:
        self._runtime = message.runtime
        self.set_keymap(dict(message.runtime.settings.keymap or {}))
        self._watch_alerts()
        composer = self.composer
        if composer is not None and composer.is_mounted:
            await composer.mount_the_rest()  # done already (queued by `on_ready`): nothing left
            composer.fill(message.first_read)
        typed, self._typeahead = self._typeahead or [], None
        for event in typed:  # ahead of any key that arrives from now on
            if isinstance(event, events.Key):
                self.post_message(events.Key(event.key, event.character))
            else:
                self.post_message(events.Paste(event.text))
        self.call_after_refresh(self.settle_memory)

    def on_runtime_failed(self, message: RuntimeFailed) -> None:
        self.start_error = message.error
        self.exit(return_code=2)

    def settle_memory(self, *, full: bool = False) -> None:
        """Collect garbage, then freeze what is alive (at a typing pause, after a big load such as a
        suggestion's diff of thousands of words).

        Python's full collections walk every tracked object; a long suggestion and its rendered
        lines are tens of thousands of them, which would make a collection that lands between two
        keystrokes cost tens of milliseconds. Frozen objects are skipped, so collections stay as
        short as in a bare Textual app. The light version collects and freezes only what is not
        frozen yet (a few ms); `full` first unfreezes everything, so that nothing which became
        garbage since an earlier freeze is kept: the composer does that when the rep is idle.
        """
        started = time.perf_counter()
        if full:
            gc.unfreeze()
        gc.collect()
        gc.freeze()
        gc.enable()  # `lumina` starts with the collector off until the first frame (cli/tui_entry.py)
        log.debug("memory settled (full=%s) in %.1f ms", full, (time.perf_counter() - started) * 1000)

    def clock(self) -> float:
        """The clock behind "saved 2 s ago" and a suggestion's age (fixed in snapshot tests)."""
        return self._clock()

    def on_mount(self) -> None:
        # Saves, scores and AI calls run in threads; a short switch interval hands the GIL back to
        # the UI thread within a millisecond when a key arrives while one of them computes.
        sys.setswitchinterval(SWITCH_INTERVAL_SECONDS)
        # Everything loaded so far (Textual, SQLAlchemy, pydantic, the draft) lives as long as the
        # app: moving it out of the collector's reach keeps full collections, and the pauses they
        # cause between keystrokes, as short as in a bare Textual app.
        if self._runtime is not None:
            self.call_after_refresh(self.settle_memory)
            self._watch_alerts()
        if self.handle_signals:
            loop = asyncio.get_running_loop()
            for number in TERMINATING_SIGNALS:
                try:
                    loop.add_signal_handler(number, self._terminate, number)
                except (NotImplementedError, RuntimeError, ValueError):  # not the main thread / Windows
                    log.info("cannot handle signal %s here", number)

    def _watch_alerts(self) -> None:
        from lumina_tui.tui.alert_watch import AlertWatch

        self.alert_watch = AlertWatch(self, self.runtime)

    def on_alerts_read(self, message: AlertsRead) -> None:
        self.alert_watch.done(message)

    def on_service_failed(self, message: ServiceFailed) -> None:
        """A screen's job failed in a way it did not expect: said once, the app goes on."""
        self.notify(f"{message.group}: {message.text}", severity="error")

    def on_unmount(self) -> None:
        # Leave the process as we found it (tests run many apps in one process).
        sys.setswitchinterval(self._switch_interval)
        gc.unfreeze()
        if self.handle_signals:
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:
                return
            for number in TERMINATING_SIGNALS:
                with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                    loop.remove_signal_handler(number)

    def show_unread_alerts(self, count: int) -> None:
        """The alert count in the composer's top line (alerts/alert_watch.py keeps it current)."""
        composer = self.composer
        if composer is not None and composer.is_mounted:
            from lumina_tui.tui.widgets.status_bar import StatusBar

            for bar in composer.query(StatusBar):
                bar.alerts = count

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
        """Save and quit; inside a send's undo window, ask first (the email would still go out).
        A second ctrl+q while asking means "quit anyway"."""
        from lumina_tui.tui.screens.dialogs import QuitWhileSendingDialog

        composer = self.composer
        waiting = composer is not None and composer.is_mounted and composer.seconds_until_send() is not None
        if waiting and not isinstance(self.screen, QuitWhileSendingDialog):
            assert composer is not None
            self.push_screen(QuitWhileSendingDialog(composer.seconds_until_send), self._quit_answered)
            return
        self._save_and_exit()

    def _quit_answered(self, choice: str | None) -> None:
        composer = self.composer
        if choice == "quit":
            self._save_and_exit()
        elif choice == "undo" and composer is not None:
            composer.undo_send_then(self._save_and_exit)

    def _save_and_exit(self) -> None:
        self.save_open_draft()
        self.exit()

    def action_accounts(self) -> None:
        """The accounts screen (f9), over whatever screen the rep is on; esc comes back."""
        from lumina_tui.tui.screens.accounts import AccountsScreen

        if not isinstance(self.screen, AccountsScreen):
            self.push_screen(AccountsScreen())

    def action_help(self) -> None:
        # Every screen's class must exist for help to list its keys, visited or not.
        from lumina_tui.tui.screens import accounts, outbox, prospects  # noqa: F401
        from lumina_tui.tui.screens.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    async def action_compose_to(self, prospect_id: str) -> None:
        """The prospects screen's "compose to": the composer, addressed to this prospect."""
        await self.switch_mode("compose")
        if self.composer is not None:
            self.composer.compose_to(prospect_id)
