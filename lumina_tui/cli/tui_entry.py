"""`lumina` with no command: run the composer, which opens the runtime and starts the sidecar worker
(if none runs) right after its first frame.

Textual is imported here, inside the function, so `lumina --help` and every scripted command
stay fast; the first frame is the composer's.
"""

from __future__ import annotations

import gc
import logging
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lumina_tui.cli.typeahead import HeldTerminal

log = logging.getLogger(__name__)


def run_composer(draft_id: str | None = None, start_worker: bool = True) -> int:
    """Run the app until the rep quits; returns the exit code."""
    from lumina_tui.cli import typeahead

    # First of all: keys typed from now on wait for the app as they were typed (a Ctrl+S typed
    # while the app started was eaten by the terminal as XOFF: cli/typeahead.py); the terminal is
    # put back as it was when the app has closed.
    held = typeahead.hold()
    # Start-up makes ~100,000 long-lived tracked objects (SQLAlchemy, Textual, the widgets); the
    # collector ran ~250 times over them before the first frame, for about 800 garbage objects
    # (~7% of start-up CPU; issue 10 point 9). The app collects, freezes what lives and turns the
    # collector back on right after its first frame (`LuminaApp.settle_memory`).
    gc.disable()
    try:
        return _run_composer(draft_id, start_worker, held)
    finally:
        gc.enable()
        typeahead.release(held)


def _run_composer(draft_id: str | None, start_worker: bool, held: HeldTerminal | None) -> int:
    # Only Textual and the composer's widgets stand between `lumina` and its first frame: the app
    # opens the runtime (settings, store, --draft, the sidecar worker) in a thread right after it
    # (`tui/app.py: open_for_composer`; issue 10 point 9).
    from lumina_tui.cli.typeahead import driver_restoring
    from lumina_tui.tui.app import LuminaApp

    app = LuminaApp(draft_id=draft_id, start_worker=start_worker, driver_class=driver_restoring(held))
    app.run()
    if app.start_error is not None:
        raise app.start_error  # the CLI's error contract (an unknown --draft: exit 2), terminal restored
    code = int(app.return_code or 0)
    if code:
        raise SystemExit(code)  # 128 + n after SIGTERM/SIGHUP, as a shell expects
    return code
