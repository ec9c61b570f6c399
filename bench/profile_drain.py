"""Profile one worker's drain in process: N queued emails, a local aiosmtpd sink, cProfile.

`.venv/bin/python bench/profile_drain.py [N] [--top 30]`: where a worker's time per email goes
(issue 14 point 3). Prints the emails/s of the profiled run (inflated by the profiler) and the
functions with the most cumulative time.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import shutil
import sys
import tempfile
import time
from pathlib import Path

HOME = Path(tempfile.mkdtemp(prefix="lumina-profile-drain-"))
os.environ["LUMINA_HOME"] = str(HOME)
os.environ["LUMINA_WORKER__AUTOSTART_SIDECAR"] = "false"
sys.path.insert(0, str(Path(__file__).parent))

from bench_send import Sink  # noqa: E402

from lumina_tui import queue  # noqa: E402
from lumina_tui.config import load_settings  # noqa: E402
from lumina_tui.services import accounts, drafts, prospects, sending  # noqa: E402
from lumina_tui.services.runtime import open_runtime  # noqa: E402
from lumina_tui.worker import tasks  # noqa: E402
from lumina_tui.worker.provider_pool import ProviderPool  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n", nargs="?", type=int, default=300)
    parser.add_argument("--top", type=int, default=35)
    parser.add_argument("--no-profile", action="store_true", help="time the drain only")
    args = parser.parse_args()
    try:
        rt = open_runtime()
        sink = Sink()
        port = sink.start()
        accounts.add_account(rt.db, rt.actor, provider="smtp", email="sam@acme.test",
                             settings={"host": "127.0.0.1", "port": port, "security": "plain"},
                             make_default=True)
        settings = load_settings(undo_window_seconds=0)
        prospect = prospects.create(rt.db, rt.actor, email="vic@brightwave.example", first_name="Vic")
        for _ in range(args.n):
            draft = drafts.create(rt.db, rt.actor, prospect_id=prospect.id, subject="Volume", body="Hi Vic")
            sending.send(rt.db, rt.actor, draft_id=draft.id, settings=settings)
        ctx = tasks.WorkerRuntime(settings=settings, db=rt.db, worker_id=tasks.new_worker_id(),
                                  providers=ProviderPool(rt.db, settings))
        tasks.drain(ctx, limit=1)  # warm-up: the connection, imports
        profiler = cProfile.Profile()
        start = time.perf_counter()
        if args.no_profile:
            done = tasks.drain(ctx, limit=args.n)
        else:
            done = profiler.runcall(tasks.drain, ctx, limit=args.n)
        elapsed = time.perf_counter() - start
        print(f"{done} attempts in {elapsed:.2f} s: {done / elapsed:.1f} emails/s"
              f"{'' if args.no_profile else ' (under cProfile)'}; sink received {sink.count}")
        if not args.no_profile:
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(args.top)
        ctx.providers.close_all()
        sink.controller.stop()
    finally:
        queue.close_all()
        shutil.rmtree(HOME, ignore_errors=True)


if __name__ == "__main__":
    main()
