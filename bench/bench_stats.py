"""Benchmark the outcome consumers and the stats screen's load (issue 12).

- Consumer throughput: events/s of the consumers (dashboard, alerts, learning) folding the log, with
  results and cursor in one transaction per batch, against a bare INSERT ... SELECT aggregation of
  the same log in the same run (the ratio is the price of incremental, crash-safe consumption).
- Opening the stats screen: `services.stats.stats` (everything the screen loads) p95 with 100,000
  and 1,000,000 events; goal p95 < 300 ms at both, and no growth with the log.

Events are bulk-inserted with executemany (every column the consumers and the screen read).
Run: .venv/bin/python bench/bench_stats.py [--sizes 100000,1000000]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "outcomes"))
sys.path.insert(0, str(ROOT / "bench"))

from benchrows import Rows, quantiles, single  # noqa: E402

GOAL_P95_MS = 300.0


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[18] if len(values) >= 20 else max(values)


def run(size: int) -> dict[str, float]:
    home = tempfile.mkdtemp(prefix="lumina-bench-stats-")
    os.environ["LUMINA_HOME"] = home
    from outcome_support import bulk_append_events, insert_emails
    from sqlalchemy import text

    from lumina_tui.config import load_settings
    from lumina_tui.services import consumers, stats
    from lumina_tui.services.actors import local_actor
    from lumina_tui.services.outcome_consumers import default_consumers
    from lumina_tui.store import open_database

    db = open_database(load_settings().resolved_database_url)
    actor = local_actor(db)
    started = time.perf_counter()
    seeded = insert_emails(
        db, actor.workspace_id, actor.user_id, max(1000, size // 5), templates=8, accounts=3
    )
    bulk_append_events(db, actor.workspace_id, seeded.email_ids, size, chunk=50_000)
    seed_s = time.perf_counter() - started

    started = time.perf_counter()
    with db.write() as s:
        s.execute(text("CREATE TEMP TABLE bare AS SELECT 0 AS d, '' AS t, '' AS a, 0 AS n, 0 AS r WHERE 0"))
        s.execute(
            text(
                "INSERT INTO bare SELECT date(e.occurred_at), m.template_id, m.account_id,"
                " sum(e.event_type = 'sent'), sum(e.event_type = 'replied') FROM email_events e"
                " JOIN emails m ON m.id = e.email_id GROUP BY 1, 2, 3"
            )
        )
    bare_s = time.perf_counter() - started

    started = time.perf_counter()
    consumers.run_until_caught_up(db, default_consumers())
    consume_s = time.perf_counter() - started

    timings = []
    for _ in range(60):
        t0 = time.perf_counter()
        stats.stats(db, actor)
        timings.append((time.perf_counter() - t0) * 1000)
    return {
        "events": size,
        "seed_s": seed_s,
        "consumer_events_per_s": size / consume_s,
        "bare_events_per_s": size / bare_s,
        "stats_p50_ms": statistics.median(timings),
        "stats_p95_ms": p95(timings),
        "timings_ms": timings,
    }


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--quick", action="store_true", help="10k and 100k events (bench/report.py --quick)")
    parser.add_argument("--json", metavar="PATH", help="also write the figures as rows for bench/report.py")
    args = parser.parse_args()
    if args.quick:
        args.sizes = "10000,100000"
    rows = Rows("stats", args.json)
    results = []
    for size in (int(x) for x in args.sizes.split(",")):
        r = run(size)
        results.append(r)
        print(
            f"{r['events']:>9} events: seeded in {r['seed_s']:.1f} s;"
            f" consumers {r['consumer_events_per_s']:,.0f}"
            f" ev/s vs bare INSERT...SELECT {r['bare_events_per_s']:,.0f} ev/s"
            f" (ratio {r['bare_events_per_s'] / r['consumer_events_per_s']:.1f}x);"
            f" stats open p50 {r['stats_p50_ms']:.1f} ms p95 {r['stats_p95_ms']:.1f} ms",
            flush=True,
        )
        rows.add(f"stats open at {r['events']:,} events", "ms", quantiles(r["timings_ms"], scale=1.0),
                 target="p95 < 500 ms (API)", target_met=r["stats_p95_ms"] < 500,
                 goal=f"p95 < {GOAL_P95_MS:g} ms", met=r["stats_p95_ms"] < GOAL_P95_MS)
        rows.add(f"consumers at {r['events']:,} events", "events/s", single(r["consumer_events_per_s"]),
                 baseline_name="bare INSERT...SELECT", baseline=single(r["bare_events_per_s"]),
                 higher_is_better=True)
    rows.write()
    ok = all(r["stats_p95_ms"] < GOAL_P95_MS for r in results)
    if len(results) >= 2:
        growth = results[-1]["stats_p95_ms"] / max(0.001, results[0]["stats_p95_ms"])
        print(f"stats open p95 growth from smallest to largest log: {growth:.2f}x")
    print("OK" if ok else f"MISSED: stats open p95 must be < {GOAL_P95_MS} ms")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
