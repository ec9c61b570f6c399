"""The worker's heartbeat: a JSON file in the data dir rewritten every `heartbeat_interval_seconds`.

The file's format is `services/worker_heartbeat.py`'s alone: this thread only says when to beat.
The composer reads it (`services.worker_status`) to show "worker ● online" and to decide whether a
sidecar must be started; the sweep uses the pid in a lease owner to tell a dead worker's rows.
"""

from __future__ import annotations

import logging
import threading
import time

from lumina_tui.config import Settings
from lumina_tui.services import worker_heartbeat

log = logging.getLogger(__name__)


class HeartbeatWriter:
    def __init__(self, settings: Settings, worker_id: str, threads: int) -> None:
        self.settings = settings
        self.worker_id = worker_id
        self.threads = threads
        self.started_at = time.time()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def beat(self) -> None:
        worker_heartbeat.beat(
            self.settings, worker_id=self.worker_id, started_at=self.started_at, threads=self.threads
        )

    def start(self) -> None:
        """Beat now (so the composer sees us at once), then every interval on a thread."""
        self.beat()
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run, args=(self._stop,), name="lumina-heartbeat", daemon=True
        )
        self._thread.start()

    def _run(self, stop: threading.Event) -> None:
        interval = max(0.05, self.settings.worker.heartbeat_interval_seconds)
        while not stop.wait(interval):
            try:
                self.beat()
            except OSError:
                log.warning("could not write the worker heartbeat", exc_info=True)

    def stop(self) -> None:
        """Stop beating and remove the file: from now on the composer sees no worker."""
        self._stop.set()
        if self._thread is not None and self._thread.is_alive():
            self._thread.join(timeout=5)
        worker_heartbeat.remove(self.settings, self.worker_id)
