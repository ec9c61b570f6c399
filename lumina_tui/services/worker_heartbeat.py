"""The worker's heartbeat file: its one owner. Only this module writes, reads or removes it.

A running worker rewrites a small JSON file in the data dir every `heartbeat_interval_seconds`
(`worker/heartbeat.py` runs the beating thread and calls `beat`); anyone can read it without
touching the worker. It is fresh when younger than `heartbeat_stale_seconds` and, on this host, its
pid is still alive. `worker_status` turns it into the composer's "worker ● online".
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import threading
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from lumina_tui.config import Settings

HEARTBEAT_FILE = "worker.heartbeat.json"


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

    @property
    def beat_at_utc(self) -> datetime:
        """The last beat as naive UTC, like every time Lumina stores."""
        return datetime.fromtimestamp(self.beat_at, UTC).replace(tzinfo=None)


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).replace(tzinfo=None).isoformat(timespec="milliseconds") + "Z"


def path(settings: Settings) -> Path:
    return settings.data_dir / HEARTBEAT_FILE


def beat(settings: Settings, *, worker_id: str, started_at: float, threads: int) -> Heartbeat:
    """Write this process's heartbeat now; returns what was written."""
    heartbeat = Heartbeat(
        worker_id=worker_id,
        pid=os.getpid(),
        hostname=socket.gethostname(),
        beat_at=time.time(),
        started_at=started_at,
        threads=threads,
    )
    write(settings, heartbeat)
    return heartbeat


def write(settings: Settings, heartbeat: Heartbeat) -> None:
    """Atomically replace the heartbeat file (a reader never sees half a file)."""
    target = path(settings)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f"{target.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    tmp.write_text(json.dumps(heartbeat.as_json()), encoding="utf-8")
    os.replace(tmp, target)


def remove(settings: Settings, worker_id: str) -> None:
    """Remove the file on a clean exit, unless another worker has written it since."""
    current = read(settings)
    if current is not None and current.worker_id == worker_id:
        with contextlib.suppress(FileNotFoundError):
            path(settings).unlink()


def read(settings: Settings) -> Heartbeat | None:
    """The last heartbeat, or None when there is none (or it cannot be read)."""
    try:
        data = json.loads(path(settings).read_text(encoding="utf-8"))
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
