"""Is a send worker alive for this data dir, and if not, start one beside the composer (the sidecar).

The worker writes a small JSON heartbeat file in the data dir every few seconds (pid, host, time);
anyone can read it without touching the worker. It is fresh when younger than
`heartbeat_stale_seconds` and, on this host, its pid is still alive. The composer never waits for
the worker: `ensure_sidecar` only spawns a detached `lumina worker --exit-when-idle N` and returns.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import socket
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from lumina_tui.config import Settings
from lumina_tui.store import Database
from lumina_tui.store.models import Email

log = logging.getLogger(__name__)

HEARTBEAT_FILE = "worker.heartbeat.json"
LOCK_FILE = "worker.lock"
SPAWN_STAMP_FILE = "worker.spawned"
SIDECAR_OUTPUT = "worker.out"
UNFINISHED = ("PENDING_SEND", "SENDING")


@dataclass(frozen=True, slots=True)
class Heartbeat:
    worker_id: str
    pid: int
    hostname: str
    beat_at: float  # unix time of the last beat
    started_at: float
    threads: int = 0

    def as_json(self) -> dict[str, Any]:
        body = asdict(self)
        body["beat_at_iso"] = _iso(self.beat_at)
        return body

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Heartbeat:
        return cls(
            worker_id=str(data["worker_id"]),
            pid=int(data["pid"]),
            hostname=str(data["hostname"]),
            beat_at=float(data["beat_at"]),
            started_at=float(data.get("started_at", data["beat_at"])),
            threads=int(data.get("threads", 0)),
        )


@dataclass(frozen=True, slots=True)
class WorkerStatus:
    online: bool
    pid: int | None = None
    last_beat: datetime | None = None  # naive UTC, like every time Lumina stores
    worker_id: str | None = None
    hostname: str | None = None
    pending_count: int | None = None  # emails still PENDING_SEND or SENDING (when a db was given)
    reason: str = ""

    def as_json(self) -> dict[str, Any]:
        return {
            "online": self.online,
            "pid": self.pid,
            "last_beat": self.last_beat.isoformat(timespec="milliseconds") + "Z" if self.last_beat else None,
            "worker_id": self.worker_id,
            "hostname": self.hostname,
            "pending_count": self.pending_count,
            "reason": self.reason,
        }


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).replace(tzinfo=None).isoformat(timespec="milliseconds") + "Z"


def heartbeat_path(settings: Settings) -> Path:
    return settings.data_dir / HEARTBEAT_FILE


def lock_path(settings: Settings) -> Path:
    return settings.data_dir / LOCK_FILE


def write_heartbeat(settings: Settings, heartbeat: Heartbeat) -> None:
    """Atomically replace the heartbeat file (a reader never sees half a file)."""
    path = heartbeat_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    tmp.write_text(json.dumps(heartbeat.as_json()), encoding="utf-8")
    os.replace(tmp, path)


def remove_heartbeat(settings: Settings, worker_id: str) -> None:
    """Remove the file on a clean exit, unless another worker has written it since."""
    current = read_heartbeat(settings)
    if current is not None and current.worker_id == worker_id:
        with contextlib.suppress(FileNotFoundError):
            heartbeat_path(settings).unlink()


def read_heartbeat(settings: Settings) -> Heartbeat | None:
    try:
        data = json.loads(heartbeat_path(settings).read_text(encoding="utf-8"))
        return Heartbeat.from_json(data)
    except (FileNotFoundError, ValueError, KeyError, TypeError):
        return None


def pid_alive(pid: int) -> bool:
    """True if a process with this pid exists on this machine (signal 0 checks without sending)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it exists, it is just not ours
    return True


def is_fresh(heartbeat: Heartbeat, settings: Settings, now: float | None = None) -> tuple[bool, str]:
    """(fresh, why not): young enough, and its process is alive when it runs on this host."""
    now = time.time() if now is None else now
    age = now - heartbeat.beat_at
    if age > settings.worker.heartbeat_stale_seconds:
        return False, f"last heartbeat {age:.0f} s ago"
    if heartbeat.hostname == socket.gethostname() and not pid_alive(heartbeat.pid):
        return False, f"worker process {heartbeat.pid} is gone"
    return True, ""


def pending_count(db: Database) -> int:
    """Emails still on their way, in every workspace of this store (the worker serves them all)."""
    with db.read() as session:
        return int(
            session.execute(
                select(func.count()).select_from(Email).where(Email.status.in_(UNFINISHED))  # type: ignore[attr-defined]
            ).scalar_one()
        )


def read_status(settings: Settings, db: Database | None = None) -> WorkerStatus:
    """What the composer's status bar shows: online or offline, and why."""
    pending = pending_count(db) if db is not None else None
    heartbeat = read_heartbeat(settings)
    if heartbeat is None:
        return WorkerStatus(online=False, pending_count=pending, reason="no worker heartbeat")
    fresh, why = is_fresh(heartbeat, settings)
    return WorkerStatus(
        online=fresh,
        pid=heartbeat.pid,
        last_beat=datetime.fromtimestamp(heartbeat.beat_at, UTC).replace(tzinfo=None),
        worker_id=heartbeat.worker_id,
        hostname=heartbeat.hostname,
        pending_count=pending,
        reason=why,
    )


# -- the sidecar -----------------------------------------------------------------------------------

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
    return 0 <= age < max(5.0, settings.worker.heartbeat_stale_seconds) and pid_alive(int(pid))


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


def ensure_sidecar(settings: Settings) -> bool:
    """Start a detached worker if none is alive (and the setting allows it); True if one was started.

    Never waits for it. Two callers racing may both start one; the second finds the data dir's
    worker lock taken and exits at once, so at most one worker runs.
    """
    if not settings.worker.autostart_sidecar:
        return False
    with _spawn_lock:
        _reap()
        if read_status(settings).online or _recently_spawned(settings):
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
