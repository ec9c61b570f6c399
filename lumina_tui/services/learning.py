"""Learning from results: calibrate `reply_probability` on the workspace's own outcomes, and learn
each rep's default tone from the suggestions they accept.

Calibration: once the workspace has `MIN_KNOWN` sent emails with a known result (a reply, or no
reply after `REPLY_WINDOW`), a logistic regression (scikit-learn) is fitted over the score's signals
and the rule's own estimate, on the older 70 % of the sends; the newer 30 % are held out. It is
used only if it beats the rule on the held-out rows by more than twice the standard error of the
paired Brier difference: on outcomes that carry nothing beyond the rule, the rule stays. The result
(both Brier scores, a reliability table, the coefficients) is kept in `learned_settings`.

Default tone and kinds: from `ai_feedback` rows that carry the suggestion's tone and kind (accepted /
edited / rejected), per user: how often each tone band (formal, neutral, casual) and each kind
(personalize, rewrite) is accepted, and how often the emails sent from those drafts got a reply.
With at least `MIN_TONE_FEEDBACK` rows, the band ranked first sets the rep's default tone (the mean
tone of the suggestions accepted in it): ranked by the lower bound of the reply rate's Wilson
interval once two bands each have `MIN_TONE_REPLIES` sends with a known result, else by the lower
bound of the acceptance rate. The learned tone is written to `user_preferences.default_tone` only
when it changes, so a tone the rep sets by hand stays until new evidence moves the learned one.

scikit-learn and numpy load only here, when a fit runs (never for `lumina --help`).
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlmodel import Session

from lumina_tui.services.consumers import BATCH_SIZE, LogEvent
from lumina_tui.services.stats import wilson_interval
from lumina_tui.store import utcnow
from lumina_tui.store.db import read_stamp

MIN_KNOWN = 50
REPLY_WINDOW = timedelta(days=7)
HOLDOUT_SHARE = 0.3
RELIABILITY_BINS = 5
MIN_TONE_FEEDBACK = 5
MIN_TONE_REPLIES = 20
#: Tone bands over the slider's 0.0 (formal) .. 1.0 (casual), upper bound exclusive (casual: all up).
TONE_BANDS = (("formal", 0.0, 0.35), ("neutral", 0.35, 0.65), ("casual", 0.65, 1.01))
ACCEPTING = ("accepted", "edited")
FEATURES = ("rule_logit", "body_length", "question_count", "personalization", "reading_grade", "link_count")


@dataclass(frozen=True, slots=True)
class Known:
    """One sent email with a known result, and the score it was sent with."""

    sent_at: datetime
    score: dict[str, Any]
    replied: bool


def _logit(p: float) -> float:
    p = min(0.999, max(0.001, p))
    return math.log(p / (1 - p))


def features(score: dict[str, Any]) -> list[float] | None:
    """The model's inputs from a score snapshot (None when the email was sent without a score).

    The rule's own estimate is an input: a snapshot taken while calibration was in use keeps it in
    `rule_reply_probability`, so a refit never learns from the calibration's own output."""
    try:
        signals = score["signals"]
        rule = score.get("rule_reply_probability")
        return [
            _logit(float(score["reply_probability"] if rule is None else rule)),
            float(signals["body_length"]) / 100.0,
            float(signals["question_count"]),
            float(signals["personalization"]),
            float(signals["reading_grade"]) / 10.0,
            float(signals["link_count"]),
        ]
    except (KeyError, TypeError, ValueError):
        return None


def _reliability(y: Any, p: Any) -> list[dict[str, Any]]:
    import numpy as np

    edges = np.linspace(0.0, 1.0, RELIABILITY_BINS + 1)
    which = np.clip(np.digitize(p, edges[1:-1]), 0, RELIABILITY_BINS - 1)
    table = []
    for b in range(RELIABILITY_BINS):
        mask = which == b
        n = int(mask.sum())
        if n:
            table.append(
                {
                    "bin": f"{edges[b]:.1f}-{edges[b + 1]:.1f}",
                    "predicted": round(float(p[mask].mean()), 3),
                    "observed": round(float(y[mask].mean()), 3),
                    "n": n,
                }
            )
    return table


def calibrate(rows: Sequence[Known]) -> dict[str, Any] | None:
    """Fit on the older rows, judge on the newer ones; None below `MIN_KNOWN` usable rows."""
    usable = sorted(
        ((r.sent_at, f, r.score, r.replied) for r in rows if (f := features(r.score)) is not None),
        key=lambda t: t[0],
    )
    if len(usable) < MIN_KNOWN:
        return None
    import numpy as np
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import brier_score_loss

    x = np.array([u[1] for u in usable])
    y = np.array([1 if u[3] else 0 for u in usable])
    rule = np.array([float(u[2]["reply_probability"]) for u in usable])
    cut = int(len(usable) * (1 - HOLDOUT_SHARE))
    x_train, y_train, x_hold, y_hold = x[:cut], y[:cut], x[cut:], y[cut:]
    base = {
        "n_known": len(usable),
        "n_train": int(cut),
        "n_holdout": int(len(usable) - cut),
        "features": list(FEATURES),
        "reply_rate": round(float(y.mean()), 4),
    }
    if len(set(y_train.tolist())) < 2:  # nothing to learn from: every train row had one result
        brier_rule = float(brier_score_loss(y_hold, rule[cut:]))
        return {
            **base,
            "use_calibrated": False,
            "brier_rule": round(brier_rule, 5),
            "brier_calibrated": round(brier_rule, 5),
            "reliability": _reliability(y_hold, rule[cut:]),
            "reason": "every training row had the same result",
        }
    model = LogisticRegression(C=1.0, max_iter=1000)
    model.fit(x_train, y_train)
    calibrated = model.predict_proba(x_hold)[:, 1]
    brier_rule = float(brier_score_loss(y_hold, rule[cut:]))
    brier_cal = float(brier_score_loss(y_hold, calibrated))
    diff = (calibrated - y_hold) ** 2 - (rule[cut:] - y_hold) ** 2
    se = float(diff.std(ddof=1) / math.sqrt(len(diff))) if len(diff) > 1 else float("inf")
    better = float(diff.mean()) + 2 * se < 0
    return {
        **base,
        "use_calibrated": bool(better),
        "brier_rule": round(brier_rule, 5),
        "brier_calibrated": round(brier_cal, 5),
        "brier_difference_se": round(se, 5),
        "reliability": _reliability(y_hold, calibrated if better else rule[cut:]),
        "reliability_rule": _reliability(y_hold, rule[cut:]),
        "coefficients": [round(float(c), 5) for c in model.coef_[0]],
        "intercept": round(float(model.intercept_[0]), 5),
    }


def calibrated_probability(calibration: dict[str, Any] | None, score: dict[str, Any]) -> float | None:
    """The calibrated reply probability for a score, or None when the rule stays."""
    if not calibration or not calibration.get("use_calibrated"):
        return None
    x = features(score)
    if x is None:
        return None
    z = calibration["intercept"] + sum(c * v for c, v in zip(calibration["coefficients"], x, strict=True))
    return 1 / (1 + math.exp(-z))


def stored_calibration(db: Any, workspace_id: str) -> dict[str, Any] | None:
    """The workspace's last calibration result (None before the first fit)."""
    with db.read() as session:
        return _stored(session, workspace_id, "calibration")


def known_outcomes(session: Session, workspace_id: str, now: datetime) -> list[Known]:
    rows = session.execute(
        text(
            "SELECT o.sent_at, o.replied_at, m.score_snapshot FROM email_outcomes o JOIN emails m"
            " ON m.id = o.email_id WHERE o.workspace_id = :w AND o.sent_at IS NOT NULL"
            " AND o.bounced_at IS NULL AND (o.replied_at IS NOT NULL OR o.sent_at <= :cutoff)"
        ),
        {"w": workspace_id, "cutoff": now - REPLY_WINDOW},
    ).all()
    out = []
    for sent_at, replied_at, score in rows:
        if isinstance(score, str):
            score = json.loads(score)
        out.append(Known(read_stamp(sent_at), score or {}, replied_at is not None))
    return out


def _store(session: Session, workspace_id: str, scope: str, data: dict[str, Any]) -> None:
    session.execute(
        text(
            "INSERT INTO learned_settings (workspace_id, scope, data, updated_at) VALUES (:w, :s, :d, :now)"
            " ON CONFLICT (workspace_id, scope) DO UPDATE SET data = excluded.data,"
            " updated_at = excluded.updated_at"
        ),
        {"w": workspace_id, "s": scope, "d": json.dumps(data), "now": utcnow()},
    )


@dataclass(frozen=True, slots=True)
class Feedback:
    """One accept / edit / reject, with what the suggestion was and what its draft's email got.

    `replied` is None while the draft has no sent email with a known result (a reply, a bounce
    excluded, or no reply within `REPLY_WINDOW`)."""

    user_id: str
    tone: float | None
    kind: str | None
    action: str
    replied: bool | None


def tone_band(tone: float) -> str:
    return next(name for name, low, high in TONE_BANDS if low <= tone < high)


def feedback_rows(session: Session, workspace_id: str, now: datetime) -> list[Feedback]:
    rows = session.execute(
        text(
            "SELECT f.user_id, f.tone, f.kind, f.action,"
            " (SELECT MAX(CASE WHEN o.replied_at IS NOT NULL THEN 1 WHEN o.sent_at <= :cutoff THEN 0 END)"
            "  FROM emails m JOIN email_outcomes o ON o.email_id = m.id"
            "  WHERE f.draft_id IS NOT NULL AND m.draft_id = f.draft_id AND o.sent_at IS NOT NULL"
            "  AND o.bounced_at IS NULL)"
            " FROM ai_feedback f WHERE f.workspace_id = :w AND (f.tone IS NOT NULL OR f.kind IS NOT NULL)"
            " ORDER BY f.created_at, f.id"
        ),
        {"w": workspace_id, "cutoff": now - REPLY_WINDOW},
    ).all()
    return [
        Feedback(
            r[0], None if r[1] is None else float(r[1]), r[2], r[3], None if r[4] is None else bool(r[4])
        )
        for r in rows
    ]


def _group_figures(name: str, rows: Sequence[Feedback]) -> dict[str, Any]:
    accepted = sum(1 for r in rows if r.action in ACCEPTING)
    known = [r.replied for r in rows if r.action in ACCEPTING and r.replied is not None]
    replied = sum(1 for k in known if k)
    accept_low, _ = wilson_interval(accepted, len(rows))
    reply_low, _ = wilson_interval(replied, len(known))
    return {
        "name": name,
        "shown": len(rows),
        "accepted": accepted,
        "edited": sum(1 for r in rows if r.action == "edited"),
        "rejected": sum(1 for r in rows if r.action == "rejected"),
        "acceptance_rate": round(accepted / len(rows), 4) if rows else None,
        "acceptance_low": round(accept_low, 4),
        "sent_known": len(known),
        "replied": replied,
        "reply_rate": round(replied / len(known), 4) if known else None,
        "reply_rate_low": round(reply_low, 4),
    }


def learn_preferences(rows: Sequence[Feedback]) -> dict[str, Any]:
    """One rep's figures per tone band and per kind, and the default tone they set (or None)."""
    toned = [r for r in rows if r.tone is not None]
    tones = []
    for name, _low, _high in TONE_BANDS:
        band = [r for r in toned if tone_band(r.tone or 0.0) == name]
        if band:
            figures = _group_figures(name, band)
            accepted_tones = [r.tone for r in band if r.action in ACCEPTING and r.tone is not None]
            figures["mean_accepted_tone"] = (
                round(sum(accepted_tones) / len(accepted_tones), 2) if accepted_tones else None
            )
            tones.append(figures)
    kinds = [
        _group_figures(kind, [r for r in rows if r.kind == kind])
        for kind in sorted({r.kind for r in rows if r.kind is not None})
    ]
    default_tone: float | None = None
    basis: str | None = None
    candidates = [t for t in tones if t["accepted"] > 0]
    if len(toned) >= MIN_TONE_FEEDBACK and candidates:
        by_replies = sum(1 for t in candidates if t["sent_known"] >= MIN_TONE_REPLIES) >= 2
        if by_replies:
            basis = "replies"
            ranked = [t for t in candidates if t["sent_known"] >= MIN_TONE_REPLIES]
            best = max(ranked, key=lambda t: (t["reply_rate_low"], t["acceptance_low"], t["shown"]))
        else:
            basis = "acceptance"
            best = max(candidates, key=lambda t: (t["acceptance_low"], t["shown"]))
        default_tone = round(float(best["mean_accepted_tone"]), 1)
    return {
        "default_tone": default_tone,
        "basis": basis,
        "n_feedback": len(rows),
        "tones": tones,
        "kinds": kinds,
    }


def _feedback_mark(session: Session, workspace_id: str) -> list[Any]:
    """What changes when feedback arrives (its count and newest time): learning reruns on a change."""
    row = session.execute(
        text("SELECT COUNT(*), MAX(created_at) FROM ai_feedback WHERE workspace_id = :w"), {"w": workspace_id}
    ).one()
    return [int(row[0]), None if row[1] is None else str(row[1])]


def _stored(session: Session, workspace_id: str, scope: str) -> dict[str, Any] | None:
    row = session.execute(
        text("SELECT data FROM learned_settings WHERE workspace_id = :w AND scope = :s"),
        {"w": workspace_id, "s": scope},
    ).first()
    if row is None:
        return None
    data = json.loads(row[0]) if isinstance(row[0], str) else row[0]
    return data if isinstance(data, dict) else None


def learn_tones(session: Session, workspace_id: str, now: datetime) -> None:
    """Refresh every rep's learned tone and kinds; move their default tone when the learned one moves."""
    by_user: dict[str, list[Feedback]] = {}
    for row in feedback_rows(session, workspace_id, now):
        by_user.setdefault(row.user_id, []).append(row)
    for user_id, rows in by_user.items():
        scope = f"user:{user_id}"
        before = _stored(session, workspace_id, scope) or {}
        learned = learn_preferences(rows)
        _store(session, workspace_id, scope, learned)
        tone = learned["default_tone"]
        if tone is not None and tone != before.get("default_tone"):
            session.execute(
                text(
                    "INSERT INTO user_preferences (user_id, workspace_id, sender_name, sender_title,"
                    " company_name, company_website, value_proposition, proof_points, signature,"
                    " default_tone, banned_phrases, updated_at)"
                    " VALUES (:u, :w, '', '', '', '', '', '[]', '', :t, '[]', :now)"
                    " ON CONFLICT (user_id) DO UPDATE SET default_tone = excluded.default_tone,"
                    " updated_at = excluded.updated_at"
                ),
                {"t": tone, "now": utcnow(), "u": user_id, "w": workspace_id},
            )


class LearningConsumer:
    """Refits when sends or replies arrived (it reads the dashboard's per-email outcomes, so it runs
    after the dashboard consumer in each pass)."""

    name = "learning"

    def __init__(self, clock: Any = utcnow) -> None:
        self.clock = clock
        self._dirty: set[str] = set()
        self._caught_up = True

    def reset(self, session: Session, workspace_id: str) -> None:
        session.execute(text("DELETE FROM learned_settings WHERE workspace_id = :w"), {"w": workspace_id})

    def apply(self, session: Session, workspace_id: str, events: Sequence[LogEvent]) -> None:
        if any(e.event_type in {"sent", "replied", "bounced"} for e in events):
            self._dirty.add(workspace_id)
        # A full batch means more are coming: fit once, after the last one (not once per batch).
        self._caught_up = len(events) < BATCH_SIZE

    def poll(self, session: Session, workspace_id: str) -> None:
        if not self._caught_up:
            self._caught_up = True
            return
        mark = _feedback_mark(session, workspace_id)
        # Feedback is not in the event log: a change of its count or newest row reruns tone learning.
        seen = (_stored(session, workspace_id, "feedback_mark") or {}).get("mark")
        if workspace_id in self._dirty or mark != seen:
            learn_tones(session, workspace_id, self.clock())
            _store(session, workspace_id, "feedback_mark", {"mark": mark})
        if workspace_id not in self._dirty:
            return
        self._dirty.discard(workspace_id)
        result = calibrate(known_outcomes(session, workspace_id, self.clock()))
        if result is not None:
            _store(session, workspace_id, "calibration", result)
