"""How cost grows with the data: the screens' first reads at 1x, 10x and 100x the data.

Run: .venv/bin/python bench/bench_growth.py [--quick] [--json PATH]

One workspace grows from 1x (1k prospects, 1k drafts, 1k emails, 10k events) to 10x and 100x
(100k prospects, drafts and emails, 1M events), seeded with plain INSERTs into the migrated store
(seeding through the services would take longer than the measuring). At each size the same
service calls the screens make are timed, with a bare sqlite3 primary-key SELECT in the same
rounds as the baseline (it should not grow):

- composer's first data: accounts, templates, the latest unsent draft, preferences, its prospect
  and company (what ComposeScreen.on_mount reads);
- prospect picker: its first load (`prospects.list_prospects(limit=1000)`, ranked in memory) and
  the prospects screen's search (`list_prospects(search=..., limit=500)`), both a broad one
  (10% of the prospects match) and one that finds a single prospect;
- outbox first page: `outbox.list_emails(limit=200)` and the first email's events.

A figure whose p50 at 100x is more than 3x its p50 at 1x grows with the data: a finding.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import sqlite3
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from benchrows import Rows, quantiles

HOME = Path(tempfile.mkdtemp(prefix="lumina-bench-growth-"))
os.environ["LUMINA_HOME"] = str(HOME)
os.environ["LUMINA_WORKER__AUTOSTART_SIDECAR"] = "false"

from lumina_tui.services import (  # noqa: E402
    accounts,
    company_data,
    drafts,
    outbox,
    preferences,
    prospects,
    templates,
)
from lumina_tui.services.runtime import open_runtime  # noqa: E402

SCALES = [("1x", 1_000), ("10x", 10_000), ("100x", 100_000)]  # prospects = drafts = emails; events 10x
EVENTS_PER_EMAIL = 10
GROWTH_LIMIT = 3.0
FIRST = ["Ana", "Ben", "Chloe", "Dev", "Eli", "Fay", "Gus", "Hana", "Ivo", "Jo", "Kai", "Lea"]
LAST = ["Okafor", "Smith", "Nguyen", "Garcia", "Khan", "Rossi", "Berg", "Silva", "Kim", "Novak"]


def stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S.%f")


class Seeder:
    """Adds rows with plain INSERTs until the workspace holds `n` of each (and 10n events)."""

    def __init__(self, path: Path, workspace_id: str, user_id: str) -> None:
        self.conn = sqlite3.connect(path, isolation_level=None)
        self.conn.execute("PRAGMA journal_mode = WAL")
        self.conn.execute("PRAGMA synchronous = OFF")
        self.workspace_id, self.user_id = workspace_id, user_id
        self.count = 0
        self.rng = random.Random(14)
        self.start = datetime(2025, 1, 1, tzinfo=UTC)

    def grow_to(self, n: int) -> None:
        prospects_rows, drafts_rows, emails_rows, events_rows = [], [], [], []
        for i in range(self.count, n):
            pid, did, eid = str(uuid.uuid4()), str(uuid.uuid4()), str(uuid.uuid4())
            when = stamp(self.start + timedelta(seconds=i))
            first, last = self.rng.choice(FIRST), self.rng.choice(LAST)
            email = f"{first.lower()}.{last.lower()}{i}@co{i % 500}.example"
            prospects_rows.append((pid, self.workspace_id, email, first, last, f"Company {i % 500}",
                                   "Head of Operations", "{}", 0, when, when))
            drafts_rows.append((did, self.workspace_id, self.user_id, pid, "Weekly reporting",
                                f"Hi {first},\n\nA short note.", "", 1, None, None, 0, when, when))
            emails_rows.append((eid, self.workspace_id, self.user_id, "smtp", "sam@acme.test", "Sam",
                                email, first, "[]", "[]", "Weekly reporting", f"Hi {first}", "", pid,
                                "{}", "{}", "[]", f"key-{eid}", "fp", f"<{eid}@acme.test>", when, when,
                                "SENT", 1, when, when))
            for k in range(EVENTS_PER_EMAIL):
                events_rows.append((str(uuid.uuid4()), self.workspace_id, eid, "smtp", f"{eid}-{k}",
                                    "delivered" if k == 0 else "opened", "{}", when, when))
        self.conn.execute("BEGIN")
        self.conn.executemany(
            "INSERT INTO prospects (id, workspace_id, email, first_name, last_name, company, job_title,"
            " custom_fields, is_demo, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            prospects_rows)
        self.conn.executemany(
            "INSERT INTO email_drafts (id, workspace_id, user_id, prospect_id, subject, body_text, body_html,"
            " revision, sent_at, email_id, is_demo, created_at, updated_at)"
            " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
            drafts_rows)
        self.conn.executemany(
            "INSERT INTO emails (id, workspace_id, user_id, provider, from_email, from_name, to_email,"
            " to_name, cc, bcc, subject, body_text, body_html, prospect_id, prospect_snapshot,"
            " score_snapshot, accepted_suggestion_ids, idempotency_key, request_fingerprint, message_id,"
            " send_after, created_at, status, attempts, sent_at, updated_at)"
            " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            emails_rows)
        self.conn.executemany(
            "INSERT INTO email_events (id, workspace_id, email_id, provider, provider_event_id, event_type,"
            " event_data, occurred_at, recorded_at) VALUES (?,?,?,?,?,?,?,?,?)",
            events_rows)
        self.conn.execute("COMMIT")
        self.conn.execute("ANALYZE")
        # One transaction of 1M rows leaves a WAL of hundreds of MB that the app, committing as
        # it goes, never has (SQLite checkpoints every 1,000 pages): measure the steady state.
        self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        self.count = n


def time_calls(calls: dict[str, Callable[[], object]], rounds: int) -> dict[str, list[float]]:
    """Every call once per round, in the same rounds, so machine load hits them alike."""
    for call in calls.values():  # warm caches and pools
        call()
    samples: dict[str, list[float]] = {name: [] for name in calls}
    for _ in range(rounds):
        for name, call in calls.items():
            started = time.perf_counter()
            call()
            samples[name].append(time.perf_counter() - started)
    return samples


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer samples")
    parser.add_argument("--json", metavar="PATH", help="also write the figures as rows for bench/report.py")
    args = parser.parse_args()
    rounds = 15 if args.quick else 50
    rows = Rows("growth", args.json)
    try:
        rt = open_runtime()
        db, actor = rt.db, rt.actor
        seeder = Seeder(Path(db.path), actor.workspace_id, actor.user_id)
        bare = sqlite3.connect(db.path)

        def composer_first_data() -> object:
            accounts.list_accounts(db, actor)
            templates.list_templates(db, actor)
            draft = drafts.latest_unsent(db, actor)
            preferences.get(db, actor)
            assert draft is not None and draft.prospect_id
            prospect = prospects.get(db, actor, draft.prospect_id)
            return company_data.for_prospect(db, actor, prospect)

        def outbox_first_page() -> object:
            page = outbox.list_emails(db, actor, limit=200)
            return outbox.list_events(db, actor, page.items[0].id)

        calls: dict[str, Callable[[], object]] = {
            "composer's first data": composer_first_data,
            "prospect picker first load (1,000)": lambda: prospects.list_prospects(db, actor, limit=1000),
            "prospect search 'okafor' (500)": lambda: prospects.list_prospects(
                db, actor, search="okafor", limit=500),
            "outbox first page (200) + events": outbox_first_page,
            # One match at every size: what an index makes flat ('okafor' above matches 10% of
            # the prospects, so its count and sort grow with its matches).
            "prospect search, one match": lambda: prospects.list_prospects(db, actor, search=needle[0]),
        }
        needle = [""]
        print(f"{'figure':<40} {'scale':>5} {'p50 ms':>9} {'p95 ms':>9} {'p99 ms':>9}")
        # --quick stops at 10x: seeding 1M events takes minutes on a loaded machine.
        for scale, n in SCALES[:2] if args.quick else SCALES:
            started = time.perf_counter()
            seeder.grow_to(n)
            if not needle[0]:  # the 501st prospect's address up to its '@': unique at every size
                needle[0] = bare.execute(
                    "SELECT email FROM prospects ORDER BY created_at LIMIT 1 OFFSET 500").fetchone()[0]
                needle[0] = needle[0].split("@")[0] + "@"
            some_id = bare.execute("SELECT id FROM prospects LIMIT 1 OFFSET ?", (n // 2,)).fetchone()[0]
            calls["baseline: sqlite3 SELECT by primary key"] = lambda pid=some_id: bare.execute(
                "SELECT * FROM prospects WHERE id = ?", (pid,)).fetchone()
            seeded = time.perf_counter() - started
            data = f"{n:,} prospects/drafts/emails, {n * EVENTS_PER_EMAIL:,} events"
            print(f"-- {scale}: {data} (seeded in {seeded:.1f} s)")
            for name, samples in time_calls(calls, rounds).items():
                q = quantiles(samples)
                print(f"{name:<40} {scale:>5} {q['p50']:9.2f} {q['p95']:9.2f} {q['p99']:9.2f}")
                rows.growth.append({"figure": name, "scale": scale, "data": data, **q})
        bare.close()
        for name in calls:
            cells = [g for g in rows.growth if g["figure"] == name]
            grow = cells[-1]["p50"] / cells[0]["p50"]
            if grow > GROWTH_LIMIT:
                rows.findings.append(
                    f"{name}: p50 grows {grow:.1f}x from {cells[0]['data']} to {cells[-1]['data']} "
                    f"({cells[0]['p50']:.2f} ms to {cells[-1]['p50']:.2f} ms)")
        for finding in rows.findings:
            print(f"finding: {finding}")
        if not rows.findings:
            print(f"no figure grows more than {GROWTH_LIMIT:g}x from 1x to 100x")
        rows.write()
        rt.db.dispose()
    finally:
        shutil.rmtree(HOME, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
