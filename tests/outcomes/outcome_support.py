"""Deterministic workspaces of emails and events for the outcome consumers' tests and bench.

Emails are bulk-inserted (they are not what is under test); events go through
`services.events.append_event`, the one way the product appends to the log.
"""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import text

from lumina_tui.services import events
from lumina_tui.store import Database, new_id

BASE = datetime(2026, 11, 2, 9, 0, 0)


@dataclass
class Seeded:
    email_ids: list[str]
    template_ids: list[str]
    account_ids: list[str]


def insert_emails(
    db: Database,
    workspace_id: str,
    user_id: str,
    n: int,
    *,
    seed: int = 7,
    templates: int = 4,
    accounts: int = 2,
    score: Any = None,
    template_ids: list[str] | None = None,
    account_ids: list[str] | None = None,
) -> Seeded:
    rng = random.Random(seed)
    template_ids = template_ids or [new_id() for _ in range(templates)]
    account_ids = account_ids or [new_id() for _ in range(accounts)]
    rows = []
    ids = []
    for i in range(n):
        eid = new_id()
        ids.append(eid)
        rows.append(
            {
                "id": eid,
                "w": workspace_id,
                "u": user_id,
                "t": rng.choice([*template_ids, None]),
                "a": rng.choice(account_ids),
                "to": f"p{i}@example.com",
                "key": f"seed-{seed}-{i}",
                "score": "{}" if score is None else score(i),
                "at": BASE,
            }
        )
    with db.write() as s:
        s.execute(
            text(
                "INSERT INTO emails (id, workspace_id, user_id, provider, from_email, from_name, to_email,"
                " to_name, cc, bcc, subject, body_text, body_html, template_id, account_id,"
                " prospect_snapshot, score_snapshot, accepted_suggestion_ids, idempotency_key,"
                " request_fingerprint, message_id, send_after, created_at, status, attempts, updated_at)"
                " VALUES (:id, :w, :u, 'maildir', 'rep@example.com', '', :to, '', '[]', '[]', 's', 'b', '',"
                " :t, :a, '{}', :score, '[]', :key, '', '', :at, :at, 'SENT', 1, :at)"
            ),
            rows,
        )
    return Seeded(ids, template_ids, account_ids)


def append_random_events(
    db: Database, workspace_id: str, email_ids: list[str], n: int, *, seed: int = 11, chunk: int = 5000
) -> None:
    """`n` events over the emails: sends, replies (some duplicated, some before their send), bounces,
    failures, and noise types the dashboard ignores. Appended through the events service."""
    rng = random.Random(seed)
    kinds = (
        ["sent"] * 40
        + ["replied"] * 20
        + ["bounced"] * 6
        + ["failed"] * 4
        + ["queued"] * 20
        + ["deferred"] * 10
    )
    done = 0
    while done < n:
        with db.write() as s:
            for _ in range(min(chunk, n - done)):
                email_id = rng.choice(email_ids)
                kind = rng.choice(kinds)
                when = BASE + timedelta(days=rng.randrange(30), seconds=rng.randrange(86400))
                data: dict[str, Any] = {}
                if kind == "bounced":
                    data = {"status": rng.choice(["5.1.1", "4.2.2"]), "recipient": "x@example.com"}
                if kind == "replied":
                    data = {"from": "p@example.com", "subject": "Re: s"}
                events.append_event(
                    s,
                    workspace_id=workspace_id,
                    email_id=email_id,
                    event_type=kind,
                    provider="seed" if kind in {"replied", "bounced"} else events.LUMINA_PROVIDER,
                    provider_event_id=f"{seed}:{done}",
                    data=data,
                    occurred_at=when,
                )
                done += 1


def recompute_dashboard(db: Database, workspace_id: str) -> dict[str, Any]:
    """The dashboard's figures from scratch over the whole log, by a different route than the
    consumer: per email, the first send/bounce/failure in log order and the EARLIEST reply."""
    per_email: dict[str, dict[str, Any]] = {}
    with db.read() as s:
        rows = s.execute(
            text(
                "SELECT e.email_id, e.event_type, e.occurred_at, m.template_id, m.account_id"
                " FROM email_events e JOIN emails m ON m.id = e.email_id WHERE e.workspace_id = :w"
                " ORDER BY e.rowid"
            ),
            {"w": workspace_id},
        ).all()
    for email_id, kind, at, t, a in rows:
        at = at if isinstance(at, datetime) else datetime.fromisoformat(at)
        st = per_email.setdefault(
            email_id,
            {"t": t or "", "a": a or "", "sent": None, "replied": None, "bounced": None, "failed": None},
        )
        if kind in {"sent", "bounced", "failed"} and st[kind] is None:
            st[kind] = at
        elif kind == "replied":
            st[kind] = at if st[kind] is None else min(st[kind], at)
    daily: dict[tuple[str, str, str], list[int]] = defaultdict(lambda: [0, 0, 0, 0, 0])
    templates: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for st in per_email.values():
        if st["sent"] is not None:
            b = daily[(st["sent"].date().isoformat(), st["t"], st["a"])]
            b[0] += 1
            templates[st["t"]][0] += 1
            if st["replied"] is not None:
                b[1] += 1
                b[4] += int((st["replied"] - st["sent"]).total_seconds())
                templates[st["t"]][1] += 1
            if st["bounced"] is not None:
                b[2] += 1
                templates[st["t"]][2] += 1
        if st["failed"] is not None:
            daily[(st["failed"].date().isoformat(), st["t"], st["a"])][3] += 1
    return {
        "daily": {k: v for k, v in daily.items() if any(v)},
        "templates": {k: v for k, v in templates.items() if any(v)},
    }


def stored_dashboard(db: Database, workspace_id: str) -> dict[str, Any]:
    with db.read() as s:
        daily = {
            (r[0], r[1], r[2]): [r[3], r[4], r[5], r[6], int(r[7])]
            for r in s.execute(
                text(
                    "SELECT day, template_id, account_id, sent, replied, bounced, failed, reply_seconds_sum"
                    " FROM outcome_daily WHERE workspace_id = :w"
                ),
                {"w": workspace_id},
            ).all()
        }
        templates = {
            r[0]: [r[1], r[2], r[3]]
            for r in s.execute(
                text(
                    "SELECT template_id, sent, replied, bounced FROM template_outcomes"
                    " WHERE workspace_id = :w"
                ),
                {"w": workspace_id},
            ).all()
        }
    return {
        "daily": {k: v for k, v in daily.items() if any(v)},
        "templates": {k: v for k, v in templates.items() if any(v)},
    }


def bulk_append_events(
    db: Database, workspace_id: str, email_ids: list[str], n: int, *, seed: int = 11, chunk: int = 20000
) -> None:
    """The same mix as `append_random_events`, inserted with executemany (100,000+ events in
    seconds): every column the consumers and screens read, exactly as `append_event` writes them."""
    import json

    rng = random.Random(seed)
    kinds = (
        ["sent"] * 40
        + ["replied"] * 20
        + ["bounced"] * 6
        + ["failed"] * 4
        + ["queued"] * 20
        + ["deferred"] * 10
    )
    done = 0
    while done < n:
        rows = []
        for _ in range(min(chunk, n - done)):
            kind = rng.choice(kinds)
            when = BASE + timedelta(days=rng.randrange(30), seconds=rng.randrange(86400))
            data: dict[str, Any] = {}
            if kind == "bounced":
                data = {"status": rng.choice(["5.1.1", "4.2.2"]), "recipient": "x@example.com"}
            rows.append(
                {
                    "id": new_id(),
                    "w": workspace_id,
                    "e": rng.choice(email_ids),
                    "p": "seed",
                    "pe": f"bulk{seed}:{done}",
                    "t": kind,
                    "d": json.dumps(data),
                    "at": when,
                }
            )
            done += 1
        with db.write() as s:
            s.execute(
                text(
                    "INSERT INTO email_events (id, workspace_id, email_id, provider, provider_event_id,"
                    " event_type, event_data, occurred_at, recorded_at) VALUES (:id, :w, :e, :p, :pe, :t,"
                    " :d, :at, :at)"
                ),
                rows,
            )


def lumina_command(*args: str) -> list[str]:
    import sys
    from pathlib import Path

    script = Path(sys.executable).with_name("lumina")
    if script.exists():
        return [str(script), *args]
    return [sys.executable, "-c", "from lumina_tui.cli import main; main(prog_name='lumina')", *args]

