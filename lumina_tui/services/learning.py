"""Learning from results: calibrate `reply_probability` on the workspace's own outcomes, and learn
each rep's default tone from the suggestions they accept.

Calibration: once the workspace has `MIN_KNOWN` sent emails with a known result (a reply, or no
reply after `REPLY_WINDOW`), a logistic regression (scikit-learn) is fitted over the score's signals
and the rule's own estimate, on the older 70 % of the sends; the newer 30 % are held out. It is
used only if it beats the rule on the held-out rows by more than twice the standard error of the
paired Brier difference: on outcomes that carry nothing beyond the rule, the rule stays. The result
(both Brier scores, a reliability table, the coefficients) is kept in `learned_settings`.

Default tone: from `ai_feedback` rows that carry a tone (accepted / edited / rejected), per user,
the tone band whose suggestions are accepted most (at least `MIN_TONE_FEEDBACK` rows).

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

from lumina_tui.services.consumers import BATCH_SIZE, LogEvent, _parse_time
from lumina_tui.store import utcnow

MIN_KNOWN = 50
REPLY_WINDOW = timedelta(days=7)
HOLDOUT_SHARE = 0.3
RELIABILITY_BINS = 5
MIN_TONE_FEEDBACK = 5
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
    """The model's inputs from a score snapshot (None when the email was sent without a score)."""
    try:
        signals = score["signals"]
        return [
            _logit(float(score["reply_probability"])),
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
        out.append(Known(_parse_time(sent_at), score or {}, replied_at is not None))
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
        if workspace_id not in self._dirty or not self._caught_up:
            self._caught_up = True
            return
        self._dirty.discard(workspace_id)
        result = calibrate(known_outcomes(session, workspace_id, self.clock()))
        if result is not None:
            _store(session, workspace_id, "calibration", result)
