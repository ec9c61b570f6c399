"""Start a send worker beside the composer when none runs (the sidecar): asked for, never implied.

A doorbell needs someone to hear it, but a service that spawns processes is a side effect in the
wrong layer: `sending.send` and `outbox.retry` only commit the row and ring. The caller that knows a
person is waiting (the `lumina send` and `lumina emails retry` verbs, the composer at start and after
each send, the outbox's retry) calls `ensure_running`. It never waits for the worker: it spawns a
detached `lumina worker --exit-when-idle N` and returns. A sidecar leaves after its idle time, so
the next send asks again.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
import time

from lumina_tui.config import Settings
from lumina_tui.services import worker_heartbeat, worker_status

log = logging.getLogger(__name__)

SPAWN_STAMP_FILE = "worker.spawned"
SIDECAR_OUTPUT = "worker.out"


def ensure_running(settings: Settings) -> bool:
    """Start the sidecar if no worker is alive and the setting allows it; True if one was started.

    Never raises (the composer and the CLI work without a worker; the status bar says "offline" and
    the next call tries again) and never waits.
    """
    try:
        return _start_sidecar(settings)
    except Exception:
        log.warning("could not start the sidecar worker", exc_info=True)
        return False


_spawned: list[subprocess.Popen[bytes]] = []
_spawn_lock = threading.Lock()


def _reap() -> None:
    """Collect sidecars that exited, so they do not linger as zombies that look alive."""
    for proc in list(_spawned):
        if proc.poll() is not None:
            _spawned.remove(proc)


def _recently_spawned(settings: Settings) -> bool:
    """A sidecar started a moment ago, still alive, may not have written its first heartbeat yet."""
    try:
        stamp, pid = (settings.data_dir / SPAWN_STAMP_FILE).read_text(encoding="utf-8").split()
        age = time.time() - float(stamp)
    except (FileNotFoundError, ValueError):
        return False
    young = 0 <= age < max(5.0, settings.worker.heartbeat_stale_seconds)
    return young and worker_heartbeat.pid_alive(int(pid))


def sidecar_command(settings: Settings) -> list[str]:
    idle = settings.worker.idle_exit_seconds
    return [
        sys.executable,
        "-c",
        "from lumina_tui.cli import main; main(prog_name='lumina')",
        "worker",
        "--exit-when-idle",
        f"{idle:g}",
    ]


def _start_sidecar(settings: Settings) -> bool:
    """Start a detached worker if none is alive (and the setting allows it); True if one was started.

    Never waits for it. Two callers racing may both start one; the second finds the data dir's
    worker lock taken and exits at once, so at most one worker runs.
    """
    if not settings.worker.autostart_sidecar:
        return False
    with _spawn_lock:
        _reap()
        if worker_status.read_status(settings).online or _recently_spawned(settings):
            return False
        settings.ensure_dirs()
        output = open(settings.log_dir / SIDECAR_OUTPUT, "ab")  # noqa: SIM115 - handed to the child
        try:
            proc = subprocess.Popen(
                sidecar_command(settings),
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # ctrl+c in the composer's terminal must not reach it
                close_fds=True,
                env=os.environ.copy(),
            )
        finally:
            output.close()
        _spawned.append(proc)
        (settings.data_dir / SPAWN_STAMP_FILE).write_text(f"{time.time():.3f} {proc.pid}", encoding="utf-8")
        log.info("started the sidecar worker (pid %s)", proc.pid)
        return True
