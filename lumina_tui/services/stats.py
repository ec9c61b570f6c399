"""What the stats screen and `lumina stats` show, read from the consumers' tables only.

Nothing here reads `email_events` beyond two index lookups per consumer (its lag): the figures are
pre-computed by the consumers (services/outcome_consumers.py), so opening the screen costs the same
with a thousand events or a million. Every figure says "as of" the consumers' progress.

Template performance ranks by the lower bound of the Wilson score interval of the reply rate, so a
template with 2 replies out of 3 sends does not outrank one with 60 out of 300.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import text

from lumina_tui.services import consumers, validation
from lumina_tui.services.actors import Actor
from lumina_tui.services.errors import NotFoundError, ValidationError
from lumina_tui.services.jsonable import iso
from lumina_tui.store import Database, utcnow
from lumina_tui.store.db import read_stamp, rows_changed

CONSUMER_NAMES = ("dashboard", "alerts", "learning")
Z_95 = 1.959963984540054  # the two-sided 95 % normal quantile
# Templates are ranked (and shown) with the 99 % interval: at 95 % the lower bound of 2 replies in 3
# sends (0.208) still beats 60 in 300 (0.159); at 99 % it does not (0.144 < 0.147). A rep with a
# handful of sends should not see a lucky template crowned.
Z_RANKING = 2.5758293035489004
RANKING_CONFIDENCE = 0.99
UNREAD_CAP = 1000  # the screen says "1000+" beyond this; counting further would grow with the log


def wilson_interval(successes: int, trials: int, z: float = Z_95) -> tuple[float, float]:
    """Wilson score interval of a proportion (Wilson 1927): honest at small counts, unlike p +- z*se,
    and never outside [0, 1]. (0, 0) trials give (0, 1): nothing is known."""
    if trials <= 0:
        return (0.0, 1.0)
    p = successes / trials
    z2 = z * z
    centre = (p + z2 / (2 * trials)) / (1 + z2 / trials)
    half = (z / (1 + z2 / trials)) * math.sqrt(p * (1 - p) / trials + z2 / (4 * trials * trials))
    return (max(0.0, centre - half), min(1.0, centre + half))


@dataclass(frozen=True, slots=True)
class TemplateRank:
    template_id: str
    name: str
    sent: int
    replied: int
    bounced: int
    reply_rate: float
    low: float
    high: float


def rank_templates(rows: list[tuple[str, str, int, int, int]], z: float = Z_RANKING) -> list[TemplateRank]:
    """(id, name, sent, replied, bounced) ranked by the Wilson lower bound, best first."""
    ranked = []
    for template_id, name, sent, replied, bounced in rows:
        low, high = wilson_interval(replied, sent, z)
        rate = replied / sent if sent else 0.0
        ranked.append(TemplateRank(template_id, name, sent, replied, bounced, rate, low, high))
    ranked.sort(key=lambda r: (-r.low, -r.sent, r.name))
    return ranked


def _rate(part: int, whole: int) -> float:
    return round(part / whole, 4) if whole else 0.0


def _totals(sent: int, replied: int, bounced: int, failed: int, reply_seconds: float) -> dict[str, Any]:
    return {
        "sent": sent,
        "replied": replied,
        "bounced": bounced,
        "failed": failed,
        "reply_rate": _rate(replied, sent),
        "bounce_rate": _rate(bounced, sent),
        "avg_seconds_to_first_reply": round(reply_seconds / replied, 1) if replied else None,
    }


def stats(db: Database, actor: Actor, *, days: int = 14, today: date | None = None) -> dict[str, Any]:
    """Every figure of the stats screen, as one JSON-able document (also `lumina stats --json`)."""
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= 366:
        raise ValidationError("days must be a whole number from 1 to 366", field="days")
    today = today or utcnow().date()
    first = today - timedelta(days=days - 1)
    w = {"w": actor.workspace_id}
    with db.read() as s:
        total = s.execute(
            text(
                "SELECT coalesce(sum(sent),0), coalesce(sum(replied),0), coalesce(sum(bounced),0),"
                " coalesce(sum(failed),0), coalesce(sum(reply_seconds_sum),0) FROM outcome_daily"
                " WHERE workspace_id = :w"
            ),
            w,
        ).one()
        by_day = {
            r[0]: r[1:]
            for r in s.execute(
                text(
                    "SELECT day, sum(sent), sum(replied), sum(bounced), sum(failed) FROM outcome_daily"
                    " WHERE workspace_id = :w AND day >= :first AND day <= :last GROUP BY day"
                ),
                {**w, "first": first.isoformat(), "last": today.isoformat()},
            ).all()
        }
        template_rows = s.execute(
            text(
                "SELECT o.template_id, coalesce(t.name, ''), o.sent, o.replied, o.bounced"
                " FROM template_outcomes o LEFT JOIN templates t ON t.id = o.template_id"
                " WHERE o.workspace_id = :w AND o.sent > 0"
            ),
            w,
        ).all()
        account_rows = s.execute(
            text(
                "SELECT d.account_id, coalesce(a.name, ''), sum(d.sent), sum(d.replied), sum(d.bounced),"
                " sum(d.failed), sum(d.reply_seconds_sum) FROM outcome_daily d"
                " LEFT JOIN accounts a ON a.id = d.account_id WHERE d.workspace_id = :w"
                " GROUP BY d.account_id, a.name ORDER BY sum(d.sent) DESC"
            ),
            w,
        ).all()
        # Alerts grow with the log: a capped count and two index-ordered reads, never a sort of all.
        unread = s.execute(
            text(
                "SELECT count(*) FROM (SELECT 1 FROM alerts WHERE workspace_id = :w AND read_at IS NULL"
                " LIMIT :cap) AS unread"
            ),
            {**w, "cap": UNREAD_CAP},
        ).scalar()
        alert_rows = list(s.execute(
            text(
                "SELECT id, kind, title, detail, created_at, read_at, email_id FROM alerts"
                " WHERE workspace_id = :w AND read_at IS NULL ORDER BY created_at DESC LIMIT 20"
            ),
            w,
        ).all())
        if len(alert_rows) < 20:
            alert_rows += s.execute(
                text(
                    "SELECT id, kind, title, detail, created_at, read_at, email_id FROM alerts"
                    " WHERE workspace_id = :w AND read_at IS NOT NULL ORDER BY rowid DESC LIMIT :n"
                ),
                {**w, "n": 20 - len(alert_rows)},
            ).all()
        learned = {
            r[0]: r[1]
            for r in s.execute(
                text("SELECT scope, data FROM learned_settings WHERE workspace_id = :w"), w
            ).all()
        }
        lags = consumers.lag(s, actor.workspace_id, CONSUMER_NAMES)

    def _data(value: Any) -> Any:
        return json.loads(value) if isinstance(value, str) else value

    daily = []
    for offset in range(days):
        day = (first + timedelta(days=offset)).isoformat()
        sent, replied, bounced, failed = (int(v or 0) for v in by_day.get(day, (0, 0, 0, 0)))
        daily.append({"day": day, "sent": sent, "replied": replied, "bounced": bounced, "failed": failed})
    templates = [
        {
            "template_id": r.template_id or None,
            "name": r.name or ("(no template)" if not r.template_id else r.template_id[:8]),
            "sent": r.sent,
            "replied": r.replied,
            "bounced": r.bounced,
            "reply_rate": round(r.reply_rate, 4),
            "reply_rate_low": round(r.low, 4),
            "reply_rate_high": round(r.high, 4),
        }
        for r in rank_templates([(t or "", n, int(a), int(b), int(c)) for t, n, a, b, c in template_rows])
    ]
    accounts = [
        {
            "account_id": r[0] or None,
            "name": r[1] or ("(none)" if not r[0] else r[0][:8]),
            **_totals(int(r[2]), int(r[3]), int(r[4]), int(r[5]), float(r[6])),
        }
        for r in account_rows
    ]
    user_learned = _data(learned.get(f"user:{actor.user_id}")) or {}
    calibration = _data(learned.get("calibration")) or {}
    as_of = _lag_json(lags)
    return {
        "as_of": as_of,
        "up_to_date": all(entry["behind"] == 0 for entry in as_of),
        "totals": _totals(int(total[0]), int(total[1]), int(total[2]), int(total[3]), float(total[4])),
        "days": days,
        "daily": daily,
        "templates": templates,
        "template_interval_confidence": RANKING_CONFIDENCE,
        "accounts": accounts,
        "alerts": {
            "unread": int(unread or 0),
            "unread_capped": int(unread or 0) >= UNREAD_CAP,
            "items": [
                {
                    "id": r[0],
                    "kind": r[1],
                    "title": r[2],
                    "detail": r[3],
                    "created_at": iso(_as_dt(r[4])),
                    "read": r[5] is not None,
                    "email_id": r[6],
                }
                for r in alert_rows
            ],
        },
        "learning": {
            "default_tone": user_learned.get("default_tone"),
            "tones": user_learned.get("tones", []),
            "kinds": user_learned.get("kinds", []),
            "calibration": calibration or None,
        },
    }


def _lag_json(lags: list[consumers.ConsumerLag]) -> list[dict[str, Any]]:
    return [
        {
            "consumer": lag.name,
            "behind": lag.behind,
            "behind_capped": lag.behind >= consumers.LAG_CAP,
            "as_of": iso(lag.as_of),
            "failures": lag.failures,
            "last_error": lag.last_error,
            "next_try_at": iso(lag.next_try_at),
        }
        for lag in lags
    ]


def consumer_lag(db: Database, actor: Actor) -> list[dict[str, Any]]:
    """Each consumer's progress (`lumina doctor`): events behind, as of when, failing or not."""
    with db.read() as s:
        return _lag_json(consumers.lag(s, actor.workspace_id, CONSUMER_NAMES))


def _as_dt(value: Any) -> datetime | None:
    return None if value is None else read_stamp(value)


def unread_alerts(db: Database, actor: Actor, *, after_seq: int | None = None) -> dict[str, Any]:
    """The unread count, and the unread alerts stored after `after_seq` (the composer's watermark:
    alert row order, not time, so a reply that happened hours ago but was synced now still counts
    as new). `seq` is where the next call should start."""
    with db.read() as s:
        count = s.execute(
            text("SELECT count(*) FROM alerts WHERE workspace_id = :w AND read_at IS NULL"),
            {"w": actor.workspace_id},
        ).scalar()
        top = int(s.execute(text("SELECT coalesce(max(rowid), 0) FROM alerts")).scalar() or 0)
        rows: list[Any] = []
        if after_seq is not None:
            rows = list(s.execute(
                text(
                    "SELECT id, kind, title, detail, created_at FROM alerts WHERE workspace_id = :w"
                    " AND read_at IS NULL AND rowid > :after AND rowid <= :top ORDER BY rowid LIMIT 20"
                ),
                {"w": actor.workspace_id, "after": after_seq, "top": top},
            ).all())
    return {
        "unread": int(count or 0),
        "seq": top,
        "new": [{"id": r[0], "kind": r[1], "title": r[2], "detail": r[3]} for r in rows],
    }


@validation.checked_arguments
def mark_alerts_read(db: Database, actor: Actor, alert_ids: list[str] | None = None) -> int:
    """Mark alerts read (all unread ones when `alert_ids` is None); returns how many changed."""
    ids = [validation.uuid_text(a, "alert_id") for a in alert_ids] if alert_ids is not None else None
    with db.write() as s:
        if ids is None:
            result = s.execute(
                text("UPDATE alerts SET read_at = :now WHERE workspace_id = :w AND read_at IS NULL"),
                {"now": utcnow(), "w": actor.workspace_id},
            )
            return int(rows_changed(result) or 0)
        changed = 0
        for alert_id in ids:
            found = s.execute(
                text("SELECT read_at FROM alerts WHERE id = :id AND workspace_id = :w"),
                {"id": alert_id, "w": actor.workspace_id},
            ).first()
            if found is None:
                raise NotFoundError(f"alert {alert_id} not found", field="alert_id")
            result = s.execute(
                text("UPDATE alerts SET read_at = :now WHERE id = :id AND read_at IS NULL"),
                {"now": utcnow(), "id": alert_id},
            )
            changed += int(rows_changed(result) or 0)
        return changed
