"""Team mode: worker throughput with 1, 2 and 4 `lumina worker` processes on one shared queue.

Each run gets a fresh database on a private PostgreSQL server and an emptied private Redis (both
started by tests/team_servers.py on 127.0.0.1), queues the same number of emails to an SMTP sink
on loopback that holds each message `--hold` ms (a real server's latency: without it the figure
would only measure the loopback), then starts N workers, each in its own home as on N machines.
Throughput is counted between the first and the last acceptance at the sink (start-up excluded).
The 1-worker run is the baseline measured in the same run; 2 and 4 are reported as ratios to it.

Run: `.venv/bin/python bench/bench_team_workers.py [--emails 300] [--quick] [--json PATH]`.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path[:0] = [str(BENCH), str(BENCH.parent / "tests")]

import team_servers  # noqa: E402
from bench_send import Sink  # noqa: E402  (sets a throwaway LUMINA_HOME on import)
from benchrows import Rows, single  # noqa: E402


def lumina(*args: str) -> list[str]:
    script = Path(sys.executable).with_name("lumina")
    return [str(script), *args] if script.exists() else [sys.executable, "-m", "lumina_tui.cli", *args]


def one_run(workers: int, emails: int, hold: float, pg: team_servers.PostgresServer, redis_url: str) -> float:
    """Emails per second with `workers` processes (first to last acceptance)."""
    from lumina_tui import queue
    from lumina_tui.config import load_settings
    from lumina_tui.services import accounts, drafts, prospects, sending
    from lumina_tui.services.actors import local_actor
    from lumina_tui.services.runtime import reset_runtime
    from lumina_tui.store import close_all, open_database

    root = Path(tempfile.mkdtemp(prefix=f"lumina-bench-team-{workers}-"))
    os.environ["LUMINA_HOME"] = str(root / "composer")
    os.environ["LUMINA_DATABASE_URL"] = pg.new_database()
    os.environ["LUMINA_QUEUE_URL"] = redis_url
    os.environ["LUMINA_UNDO_WINDOW_SECONDS"] = "0"
    os.environ["PYTHON_KEYRING_BACKEND"] = "keyring.backends.fail.Keyring"
    team_servers.redis_server().flush()
    settings = load_settings()
    db = open_database(settings.resolved_database_url)
    actor = local_actor(db)
    sink = Sink()
    port = sink.start()
    hold_seconds = hold / 1000

    original = Sink.handle_DATA

    async def held(self, server, session, envelope):  # type: ignore[no-untyped-def]
        import asyncio

        await asyncio.sleep(hold_seconds)
        return await original(self, server, session, envelope)

    Sink.handle_DATA = held  # type: ignore[method-assign]
    accounts.add_account(
        db,
        actor,
        provider="smtp",
        email="sam@acme.test",
        name="Bench SMTP",
        display_name="Sam",
        settings={"host": "127.0.0.1", "port": port, "security": "plain", "timeout": 60},
        make_default=True,
    )
    prospect = prospects.create(db, actor, email="ana@example.com", first_name="Ana")
    for n in range(emails):
        body = "Hi Ana,\n\nA call?\n\nSam"
        draft = drafts.create(db, actor, prospect_id=prospect.id, subject=f"Bench {n}", body=body)
        sending.send(db, actor, draft_id=draft.id, settings=settings)
    env = {
        **os.environ,
        "LUMINA_WORKER__POLLING_DELAY_SECONDS": "0.01",
        "LUMINA_WORKER__SWEEP_INTERVAL_SECONDS": "1",
    }
    procs = []
    for n in range(workers):
        home = root / f"machine-{n}"
        home.mkdir(parents=True)
        procs.append(
            subprocess.Popen(
                lumina("worker"),
                env={**env, "LUMINA_HOME": str(home)},
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                stdin=subprocess.DEVNULL,
            )
        )
    try:
        if not sink.wait(lambda: len(sink.accepted) >= emails, timeout=600):
            raise SystemExit(f"{workers} workers: only {len(sink.accepted)} of {emails} sent in 600 s")
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
        Sink.handle_DATA = original  # type: ignore[method-assign]
        sink.controller.stop()
        queue.close_all()
        reset_runtime()
        close_all()
    times = sorted(sink.accepted.values())
    return (len(times) - 1) / max(1e-9, times[-1] - times[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--emails", type=int, default=300)
    parser.add_argument("--hold", type=float, default=50.0, help="ms the SMTP sink holds each message")
    parser.add_argument("--quick", action="store_true", help="fewer emails (a smoke run)")
    parser.add_argument("--json", metavar="PATH", help="also write the figures as rows for bench/report.py")
    args = parser.parse_args()
    emails = 80 if args.quick else args.emails
    rows = Rows("team_workers", args.json)
    try:
        pg = team_servers.postgres()
        redis_url = team_servers.redis_server().url
    except RuntimeError as exc:
        print(f"skipped: {exc}")
        rows.findings.append(f"team workers bench skipped: {exc}")
        rows.write()
        return
    rates: dict[int, float] = {}
    for workers in (1, 2, 4):
        rates[workers] = one_run(workers, emails, args.hold, pg, redis_url)
        print(
            f"{workers} worker(s) on PostgreSQL + Redis: {rates[workers]:.1f} emails/s ({emails} emails), "
            f"load average {os.getloadavg()[0]:.1f}"
        )
    base = rates[1]
    for workers in (1, 2, 4):
        rows.add(
            f"worker throughput, {workers} worker(s) on the shared queue"
            f" (PG + Redis, {args.hold:g} ms SMTP hold)",
            "emails/s",
            single(rates[workers]),
            baseline_name="1 worker, same run",
            baseline=single(base),
            higher_is_better=True,
            note=f"x{rates[workers] / base:.2f} of 1 worker; load average {os.getloadavg()[0]:.1f}",
        )
    rows.write()


if __name__ == "__main__":
    main()
