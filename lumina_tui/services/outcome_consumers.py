"""The consumers that turn the event log into what the stats screen reads.

- `DashboardConsumer`: per email (email_outcomes), per day of sending x template x account
  (outcome_daily) and per template (template_outcomes): sent, replied, bounced, failed, and the
  seconds from send to first reply. An email counts once for each outcome, whatever duplicates the
  log holds; a reply seen before its `sent` event is counted when the send arrives.
- `AlertsConsumer`: a reply, a hard bounce, a failed send become alerts; accounts that need sign-in
  are polled (that is account state, not an event).

Both fold a whole batch in memory and write it with a few executemany statements: the runner commits
results and cursor together (services/consumers.py).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlmodel import Session

from lumina_tui.services.consumers import Consumer, LogEvent
from lumina_tui.services.terminal_text import terminal_safe
from lumina_tui.store import new_id, utcnow
from lumina_tui.store.db import read_stamp

_IN_CHUNK = 900  # bound parameters per IN (...) list


@dataclass(slots=True)
class _State:
    user_id: str | None
    template_id: str | None
    account_id: str | None
    sent_at: datetime | None = None
    replied_at: datetime | None = None
    bounced_at: datetime | None = None
    failed_at: datetime | None = None


def day_of(moment: datetime) -> str:
    return moment.date().isoformat()


def reply_seconds(sent_at: datetime, replied_at: datetime) -> int:
    """Whole seconds from send to first reply (integers, so sums are exact in any order)."""
    return int((replied_at - sent_at).total_seconds())


class DashboardConsumer:
    name = "dashboard"

    def reset(self, session: Session, workspace_id: str) -> None:
        for table in ("email_outcomes", "outcome_daily", "template_outcomes"):
            session.execute(text(f"DELETE FROM {table} WHERE workspace_id = :w"), {"w": workspace_id})

    def poll(self, session: Session, workspace_id: str) -> None:
        return None

    def _load(self, session: Session, email_ids: list[str]) -> dict[str, _State]:
        states: dict[str, _State] = {}
        for i in range(0, len(email_ids), _IN_CHUNK):
            chunk = email_ids[i : i + _IN_CHUNK]
            marks = ",".join(f":e{n}" for n in range(len(chunk)))
            rows = session.execute(
                text(
                    "SELECT email_id, user_id, template_id, account_id, sent_at, replied_at, bounced_at,"
                    f" failed_at FROM email_outcomes WHERE email_id IN ({marks})"
                ),
                {f"e{n}": v for n, v in enumerate(chunk)},
            ).all()
            for r in rows:
                states[r[0]] = _State(
                    r[1], r[2], r[3], *(read_stamp(v) if v else None for v in (r[4], r[5], r[6], r[7]))
                )
        return states

    def apply(self, session: Session, workspace_id: str, events: Sequence[LogEvent]) -> None:
        wanted = [e for e in events if e.event_type in {"sent", "replied", "bounced", "failed"}]
        if not wanted:
            return
        states = self._load(session, sorted({e.email_id for e in wanted}))
        touched: set[str] = set()
        # (day, template, account) -> [sent, replied, bounced, failed, reply_seconds]
        daily: dict[tuple[str, str, str], list[int]] = defaultdict(lambda: [0, 0, 0, 0, 0])
        per_template: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])

        for event in wanted:
            state = states.get(event.email_id)
            if state is None:
                state = states[event.email_id] = _State(event.user_id, event.template_id, event.account_id)
            touched.add(event.email_id)
            at = event.occurred_at
            key_t, key_a = state.template_id or "", state.account_id or ""
            kind = event.event_type
            if kind == "sent":
                if state.sent_at is not None:
                    continue
                state.sent_at = at
                bucket = daily[(day_of(at), key_t, key_a)]
                bucket[0] += 1
                per_template[key_t][0] += 1
                if state.replied_at is not None:
                    bucket[1] += 1
                    bucket[4] += reply_seconds(at, state.replied_at)
                    per_template[key_t][1] += 1
                if state.bounced_at is not None:
                    bucket[2] += 1
                    per_template[key_t][2] += 1
            elif kind == "replied":
                old = state.replied_at
                if old is not None and at >= old:
                    continue
                state.replied_at = at
                if state.sent_at is not None:
                    bucket = daily[(day_of(state.sent_at), key_t, key_a)]
                    if old is None:
                        bucket[1] += 1
                        per_template[key_t][1] += 1
                        bucket[4] += reply_seconds(state.sent_at, at)
                    else:
                        bucket[4] += reply_seconds(state.sent_at, at) - reply_seconds(state.sent_at, old)
            elif kind == "bounced":
                if state.bounced_at is not None:
                    continue
                state.bounced_at = at
                if state.sent_at is not None:
                    daily[(day_of(state.sent_at), key_t, key_a)][2] += 1
                    per_template[key_t][2] += 1
            elif kind == "failed":
                if state.failed_at is not None:
                    continue
                state.failed_at = at
                daily[(day_of(at), key_t, key_a)][3] += 1

        session.execute(
            text(
                "INSERT INTO email_outcomes (email_id, workspace_id, user_id, template_id, account_id,"
                " sent_at, replied_at, bounced_at, failed_at) VALUES (:e, :w, :u, :t, :a, :s, :r, :b, :f)"
                " ON CONFLICT (email_id) DO UPDATE SET sent_at = excluded.sent_at,"
                " replied_at = excluded.replied_at, bounced_at = excluded.bounced_at,"
                " failed_at = excluded.failed_at"
            ),
            [
                {
                    "e": email_id,
                    "w": workspace_id,
                    "u": s.user_id,
                    "t": s.template_id,
                    "a": s.account_id,
                    "s": s.sent_at,
                    "r": s.replied_at,
                    "b": s.bounced_at,
                    "f": s.failed_at,
                }
                for email_id in sorted(touched)
                for s in (states[email_id],)
            ],
        )
        if daily:
            session.execute(
                text(
                    "INSERT INTO outcome_daily (workspace_id, day, template_id, account_id, sent, replied,"
                    " bounced, failed, reply_seconds_sum) VALUES (:w, :d, :t, :a, :s, :r, :b, :f, :rs)"
                    " ON CONFLICT (workspace_id, day, template_id, account_id) DO UPDATE SET"
                    # Qualified: PostgreSQL finds a bare `sent` ambiguous between the row and excluded.
                    " sent = outcome_daily.sent + excluded.sent,"
                    " replied = outcome_daily.replied + excluded.replied,"
                    " bounced = outcome_daily.bounced + excluded.bounced,"
                    " failed = outcome_daily.failed + excluded.failed,"
                    " reply_seconds_sum = outcome_daily.reply_seconds_sum + excluded.reply_seconds_sum"
                ),
                [
                    {
                        "w": workspace_id,
                        "d": d,
                        "t": t,
                        "a": a,
                        "s": v[0],
                        "r": v[1],
                        "b": v[2],
                        "f": v[3],
                        "rs": v[4],
                    }
                    for (d, t, a), v in daily.items()
                ],
            )
        if per_template:
            session.execute(
                text(
                    "INSERT INTO template_outcomes (workspace_id, template_id, sent, replied, bounced)"
                    " VALUES (:w, :t, :s, :r, :b) ON CONFLICT (workspace_id, template_id) DO UPDATE SET"
                    " sent = template_outcomes.sent + excluded.sent,"
                    " replied = template_outcomes.replied + excluded.replied,"
                    " bounced = template_outcomes.bounced + excluded.bounced"
                ),
                [
                    {"w": workspace_id, "t": t, "s": v[0], "r": v[1], "b": v[2]}
                    for t, v in per_template.items()
                ],
            )


def is_hard_bounce(data: dict[str, Any]) -> bool:
    """A permanent failure: an enhanced status 5.x.x (or a bounce that says nothing more)."""
    status = str(data.get("status") or "").strip()
    if data.get("hard") is True:
        return True
    return not status or status.startswith("5")


def _clip(value: Any, limit: int = 160) -> str:
    return " ".join(terminal_safe(str(value or "")).split())[:limit]


class AlertsConsumer:
    name = "alerts"

    def reset(self, session: Session, workspace_id: str) -> None:
        # Alerts already shown (and read) stay; a replay re-inserts nothing thanks to source_key.
        return None

    def apply(self, session: Session, workspace_id: str, events: Sequence[LogEvent]) -> None:
        rows: list[dict[str, Any]] = []
        for e in events:
            if e.event_type == "replied":
                who = e.data.get("from") or e.to_email
                title, detail = (
                    f"Reply from {_clip(who, 80)}",
                    _clip(e.data.get("subject") or e.data.get("snippet")),
                )
            elif e.event_type == "bounced" and is_hard_bounce(e.data):
                who = e.data.get("recipient") or e.to_email
                title = f"Hard bounce: {_clip(who, 80)}"
                detail = _clip(" ".join(str(e.data.get(k) or "") for k in ("status", "diagnostic")).strip())
            elif e.event_type == "failed":
                title = f"Send failed to {_clip(e.to_email, 80)}"
                detail = _clip(e.data.get("error") or e.data.get("result") or "")
            else:
                continue
            rows.append(
                {
                    "id": new_id(),
                    "w": workspace_id,
                    "u": e.user_id,
                    "k": e.event_type,
                    "e": e.email_id,
                    "a": e.account_id,
                    "key": f"event:{e.id}",
                    "title": title,
                    "detail": detail,
                    "at": e.occurred_at,
                }
            )
        if rows:
            session.execute(
                text(
                    "INSERT INTO alerts (id, workspace_id, user_id, kind, email_id, account_id, source_key,"
                    " title, detail, created_at) VALUES (:id, :w, :u, :k, :e, :a, :key, :title, :detail, :at)"
                    " ON CONFLICT (workspace_id, source_key) DO NOTHING"
                ),
                rows,
            )

    def poll(self, session: Session, workspace_id: str) -> None:
        """One alert per time an account falls into "needs sign-in" (keyed by when it did)."""
        accounts = session.execute(
            text(
                "SELECT id, user_id, name, email, status_reason, updated_at FROM accounts"
                " WHERE workspace_id = :w AND status = 'needs_sign_in'"
            ),
            {"w": workspace_id},
        ).all()
        for acc in accounts:
            session.execute(
                text(
                    "INSERT INTO alerts (id, workspace_id, user_id, kind, email_id, account_id, source_key,"
                    " title, detail, created_at) VALUES (:id, :w, :u, 'needs_sign_in', NULL, :a, :key,"
                    " :title, :detail, :at) ON CONFLICT (workspace_id, source_key) DO NOTHING"
                ),
                {
                    "id": new_id(),
                    "w": workspace_id,
                    "u": acc[1],
                    "a": acc[0],
                    "key": f"signin:{acc[0]}:{acc[5]}",
                    "title": f"Account {_clip(acc[2], 60)} needs sign-in",
                    "detail": _clip(acc[4] or acc[3]),
                    "at": utcnow(),
                },
            )


def default_consumers() -> list[Consumer]:
    """The consumers the worker runs, in order: learning reads the dashboard's per-email outcomes."""
    from lumina_tui.services.learning import LearningConsumer

    return [DashboardConsumer(), AlertsConsumer(), LearningConsumer()]
