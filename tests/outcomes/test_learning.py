"""Learning: calibration beats the rule on held-out rows when replies follow another known rule
(plus Bernoulli noise), and keeps the rule when replies carry nothing beyond it. Seeded."""

from __future__ import annotations

import json
import math
import random
from datetime import datetime, timedelta

from outcome_support import insert_emails

from lumina_tui.ai.models import ScoreSignals
from lumina_tui.ai.scoring import _reply_probability
from lumina_tui.services import consumers, events, learning, stats
from lumina_tui.services.outcome_consumers import default_consumers

T0 = datetime(2026, 6, 1, 9, 0)


def synthetic_score(rng: random.Random) -> dict:
    signals = ScoreSignals(
        subject_length=30,
        subject_words=5,
        body_length=rng.randint(20, 300),
        link_count=rng.randint(0, 4),
        spam_keywords=[],
        reading_grade=rng.uniform(3, 14),
        question_count=rng.randint(0, 4),
        you_vs_i_ratio=1.0,
        you_count=3,
        i_we_count=2,
        personalization=rng.randint(0, 3),
        personalization_fields=[],
        exclamation_count=0,
        uppercase_ratio=0.0,
        all_caps_subject=False,
        missing_subject=False,
        url_shorteners=[],
    )
    return {"reply_probability": _reply_probability(signals, 0.0), "signals": signals.as_json()}


def known_rule(score: dict) -> float:
    """The market's real behaviour: personalization and questions matter far more than the rule says."""
    s = score["signals"]
    z = -3.2 + 0.9 * s["personalization"] + 0.5 * s["question_count"] - 0.4 * s["link_count"]
    return 1 / (1 + math.exp(-z))


def rows(n: int, truth, seed: int) -> list[learning.Known]:  # type: ignore[no-untyped-def]
    rng = random.Random(seed)
    out = []
    for i in range(n):
        score = synthetic_score(rng)
        out.append(learning.Known(T0 + timedelta(hours=i), score, rng.random() < truth(score)))
    return out


def test_calibration_beats_the_rule_when_replies_follow_another_rule() -> None:
    result = learning.calibrate(rows(800, known_rule, seed=1))
    assert result is not None and result["use_calibrated"] is True
    assert result["brier_calibrated"] < result["brier_rule"]
    assert result["n_holdout"] == 240
    assert sum(b["n"] for b in result["reliability"]) == 240
    # The same seed gives the same fit.
    assert learning.calibrate(rows(800, known_rule, seed=1)) == result


def test_pure_noise_around_the_rule_keeps_the_rule() -> None:
    for seed in (2, 3, 4):
        result = learning.calibrate(rows(800, lambda s: s["reply_probability"], seed=seed))
        assert result is not None and result["use_calibrated"] is False, result


def test_too_few_known_results_change_nothing() -> None:
    assert learning.calibrate(rows(learning.MIN_KNOWN - 1, known_rule, seed=5)) is None


def test_the_learning_consumer_calibrates_from_the_log(db, actor) -> None:
    rng = random.Random(9)
    scores = [synthetic_score(rng) for _ in range(400)]
    seeded = insert_emails(
        db, actor.workspace_id, actor.user_id, 400, seed=9, score=lambda i: json.dumps(scores[i])
    )
    with db.write() as s:
        for i, email_id in enumerate(seeded.email_ids):
            sent_at = T0 + timedelta(hours=i)
            events.append_event(
                s,
                workspace_id=actor.workspace_id,
                email_id=email_id,
                event_type="sent",
                provider_event_id=f"{email_id}:sent",
                occurred_at=sent_at,
            )
            if rng.random() < known_rule(scores[i]):
                events.append_event(
                    s,
                    workspace_id=actor.workspace_id,
                    email_id=email_id,
                    event_type="replied",
                    provider="imap",
                    provider_event_id=f"{email_id}:r",
                    occurred_at=sent_at + timedelta(hours=3),
                )
    consumers.run_until_caught_up(db, default_consumers())
    doc = stats.stats(db, actor)
    calibration = doc["learning"]["calibration"]
    assert calibration is not None and calibration["n_known"] == 400
    assert calibration["use_calibrated"] is True
    assert calibration["brier_calibrated"] < calibration["brier_rule"]
