"""`lumina` with no command: open the runtime, start the sidecar worker if none runs, run the composer.

Textual is imported here, inside the function, so `lumina --help` and every scripted command
stay fast; the first frame is the composer's.
"""

from __future__ import annotations

import gc
import logging

log = logging.getLogger(__name__)


def run_composer(draft_id: str | None = None, start_worker: bool = True) -> int:
    """Run the app until the rep quits; returns the exit code."""
    # Start-up makes ~100,000 long-lived tracked objects (SQLAlchemy, Textual, the widgets); the
    # collector ran ~250 times over them before the first frame, for about 800 garbage objects
    # (~7% of start-up CPU; issue 10 point 9). The app collects, freezes what lives and turns the
    # collector back on right after its first frame (`LuminaApp.settle_memory`).
    gc.disable()
    try:
        return _run_composer(draft_id, start_worker)
    finally:
        gc.enable()


def _run_composer(draft_id: str | None, start_worker: bool) -> int:
    from lumina_tui.services import worker_control
    from lumina_tui.services.runtime import open_runtime

    runtime = open_runtime()
    # The composer works without it (the status bar says "offline"); ensure_running never raises.
    if start_worker and worker_control.ensure_running(runtime.settings):
        log.info("started the sidecar send worker")
    if draft_id is not None:
        from lumina_tui.services import drafts

        drafts.get(runtime.db, runtime.actor, draft_id)  # a bad id fails here, with the CLI's error contract

    from lumina_tui.tui.app import LuminaApp

    app = LuminaApp(runtime, draft_id=draft_id)
    app.run()
    code = int(app.return_code or 0)
    if code:
        raise SystemExit(code)  # 128 + n after SIGTERM/SIGHUP, as a shell expects
    return code
