"""`lumina worker`: huey's consumer in-process with thread workers, plus the worker's own housekeeping.

Start-up order matters: take the data dir's lock (or step aside), register the doorbell handlers,
write the first heartbeat, sweep (the previous worker may have died mid-send), then consume.
Stopping: SIGTERM and ctrl+c (SIGINT) both let the sends in progress finish, then exit; huey makes
only one signal graceful by itself, so `LuminaConsumer` makes the other one graceful too.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from collections.abc import Callable

from huey.consumer import Consumer

from lumina_tui import queue
from lumina_tui.config import Settings, load_settings
from lumina_tui.services import leases, worker_heartbeat
from lumina_tui.services.outcome_consumers import default_consumers
from lumina_tui.services.runtime import open_runtime
from lumina_tui.services.worker_status import lock_path, pending_count
from lumina_tui.worker import tasks
from lumina_tui.worker.consumer_runner import ConsumerRunner
from lumina_tui.worker.heartbeat import HeartbeatWriter
from lumina_tui.worker.lock import WorkerLock
from lumina_tui.worker.mailbox_syncer import MailboxSyncer
from lumina_tui.worker.provider_pool import ProviderPool

log = logging.getLogger(__name__)

# How often the housekeeping thread wakes up to check for idleness and due sweeps.
HOUSEKEEPING_TICK_SECONDS = 0.25
SIDECAR_LOCK_WAIT_SECONDS = 5.0


class LuminaConsumer(Consumer):  # type: ignore[misc]  # huey ships no types: its Consumer is Any
    """huey's consumer, with SIGINT as graceful as SIGTERM (a second signal still stops at once)."""

    stopping: threading.Event | None = None  # set first on stop: a drain ends after its batch

    def _set_signal_handlers(self) -> None:
        self._signal_actions[self._interrupt_sig] = (False, True)
        super()._set_signal_handlers()

    def stop(self, graceful: bool = False) -> None:
        if self.stopping is not None:
            self.stopping.set()
        super().stop(graceful=graceful)


class Housekeeping(threading.Thread):
    """Renews the periodic lease, sweeps every `sweep_interval_seconds` while holding it and, for a
    sidecar, stops the worker once idle."""

    def __init__(
        self,
        ctx: tasks.WorkerRuntime,
        exit_when_idle: float | None,
        stop_worker: Callable[[], None],
        heartbeat: HeartbeatWriter,
        periodic: leases.Lease,
    ):
        super().__init__(name="lumina-housekeeping", daemon=True)
        self.ctx = ctx
        self.exit_when_idle = exit_when_idle
        self.stop_worker = stop_worker
        self.heartbeat = heartbeat
        self.periodic = periodic
        self._stop = threading.Event()
        self._quiet_since = time.monotonic()

    def run(self) -> None:
        interval = max(0.05, self.ctx.settings.worker.sweep_interval_seconds)
        next_sweep = time.monotonic() + interval
        renew_every = max(0.05, self.periodic.ttl_seconds / 4)
        next_renew = time.monotonic() + renew_every
        while not self._stop.wait(HOUSEKEEPING_TICK_SECONDS):
            now = time.monotonic()
            if now >= next_renew:
                next_renew = now + renew_every
                was_holding = self.periodic.holding()
                if self.periodic.refresh():
                    if not was_holding:
                        log.info("worker %s holds the periodic lease now", self.ctx.worker_id)
                elif was_holding:
                    log.info("worker %s no longer holds the periodic lease", self.ctx.worker_id)
            if now >= next_sweep and self.periodic.holding():
                next_sweep = now + interval
                try:
                    tasks.sweep(self.ctx)
                except Exception:
                    log.exception("sweep failed; trying again at the next interval")
            if self.exit_when_idle is not None and self._idle_long_enough() and self._leave():
                return

    def _leave(self) -> bool:
        """Exit without stranding a send that arrives at this very moment.

        The heartbeat goes first, so a composer sending from now on starts a new sidecar; then the
        store is checked once more, and an email committed before the heartbeat vanished (whose
        sender saw us online and started nobody) keeps this worker alive.
        """
        self.heartbeat.stop()
        if self.ctx.activity.in_flight > 0 or pending_count(self.ctx.db) > 0:
            self.heartbeat.start()
            self._quiet_since = time.monotonic()
            return False
        log.info("no email pending for %.0f s: the sidecar worker exits", self.exit_when_idle)
        self.stop_worker()
        return True

    def _idle_long_enough(self) -> bool:
        activity = self.ctx.activity
        try:
            busy = activity.in_flight > 0 or pending_count(self.ctx.db) > 0
        except Exception:
            log.warning("idle check could not read the store", exc_info=True)
            busy = True
        now = time.monotonic()
        if busy:
            self._quiet_since = now
            return False
        quiet_since = max(self._quiet_since, activity.last_busy)
        return now - quiet_since >= (self.exit_when_idle or 0.0)

    def stop(self) -> None:
        self._stop.set()


def _route_huey_logs() -> None:
    """huey's own warnings (a task that crashed, a queue error) into our log file, not the terminal."""
    ours = logging.getLogger("lumina_tui")
    huey_log = logging.getLogger("huey")
    for handler in ours.handlers:
        if handler not in huey_log.handlers:
            huey_log.addHandler(handler)
    huey_log.setLevel(logging.WARNING)
    huey_log.propagate = False


def _send_and_drain(ctx: tasks.WorkerRuntime, email_id: str, after: Callable[[], None]) -> str:
    """The email the doorbell names, then every other due one (`tasks.drain`); then wake the
    consumers, since the sends appended events (in this process, no doorbell needed)."""
    try:
        result = tasks.send_email(ctx, email_id)
        tasks.drain(ctx)
    finally:
        after()
    return result


def run_worker(
    settings: Settings | None = None,
    *,
    exit_when_idle: float | None = None,
    say: Callable[[str], None] = print,
) -> int:
    """Run until signalled (or idle, for a sidecar); returns the process exit code."""
    settings = settings or load_settings()
    runtime = open_runtime(settings, log_file="worker.log")
    _route_huey_logs()
    lock = WorkerLock(lock_path(settings))
    # A sidecar may be started while an idle one is on its way out: it waits for the lock a moment.
    if not lock.acquire(timeout=SIDECAR_LOCK_WAIT_SECONDS if exit_when_idle is not None else 0.0):
        heartbeat = worker_heartbeat.read(settings)
        who = f" (pid {heartbeat.pid})" if heartbeat else ""
        say(f"another Lumina worker is already running for {settings.data_dir}{who}; this one exits")
        return 0

    worker = settings.worker
    ctx = tasks.WorkerRuntime(
        settings=settings,
        db=runtime.db,
        worker_id=tasks.new_worker_id(),
        providers=ProviderPool(runtime.db, settings),
    )
    heartbeat_writer: HeartbeatWriter | None = None
    housekeeping: Housekeeping | None = None
    syncer = MailboxSyncer(ctx, worker.mailbox_sync_interval_seconds)
    # Team mode: with several workers on one store, the periodic work runs on one at a time.
    periodic = leases.Lease(
        runtime.db,
        leases.PERIODIC,
        ctx.worker_id,
        worker.periodic_lease_seconds,
        holder_alive=ctx.owner_alive,
    )
    syncer.may_run = periodic.holding
    consumer_runner = ConsumerRunner(
        runtime.db, default_consumers(), worker.consumer_interval_seconds, may_run=periodic.holding
    )
    try:
        bells = queue.doorbells(settings)
        queue.register_handlers(
            send_email=lambda email_id: _send_and_drain(ctx, email_id, consumer_runner.request),
            sweep=lambda: tasks.sweep(ctx) if periodic.holding() else None,
            sync_mailboxes=syncer.request,
            run_consumers=consumer_runner.request,
        )
        heartbeat_writer = HeartbeatWriter(settings, ctx.worker_id, worker.threads)
        heartbeat_writer.start()
        if periodic.refresh():
            report = tasks.sweep(ctx)
            log.info(
                "worker %s started: %d threads; holds the periodic lease; start-up sweep took back %d "
                "and rang %d",
                ctx.worker_id,
                worker.threads,
                report.reclaimed,
                report.enqueued,
            )
        else:
            log.info(
                "worker %s started: %d threads; another worker holds the periodic lease",
                ctx.worker_id,
                worker.threads,
            )
        poll = max(0.001, worker.polling_delay_seconds)
        consumer = LuminaConsumer(
            bells.huey,
            workers=max(1, worker.threads),
            worker_type="thread",
            periodic=True,
            initial_delay=poll,
            backoff=1.15,
            # An idle worker polls at most this far apart, so a new job waits well under 100 ms.
            max_delay=max(poll, 0.05),
            scheduler_interval=1,
            graceful_signal="TERM",
        )
        consumer.stopping = ctx.stopping
        housekeeping = Housekeeping(
            ctx, exit_when_idle, lambda: os.kill(os.getpid(), signal.SIGTERM), heartbeat_writer, periodic
        )
        housekeeping.start()
        syncer.start()
        consumer_runner.start()
        say(f"Lumina worker {os.getpid()} on {settings.data_dir}; ctrl+c stops after the current send")
        consumer.run()
    finally:
        consumer_runner.stop()
        syncer.stop()
        if housekeeping is not None:
            housekeeping.stop()
        if heartbeat_writer is not None:
            heartbeat_writer.stop()
        periodic.release()
        ctx.providers.close_all()
        queue.clear_handlers()
        queue.close_all()
        lock.release()
    log.info("worker %s stopped", ctx.worker_id)
    return 0
