"""Learning each rep's default tone and which kinds of suggestion work, from the feedback they give
(accepted / edited / rejected, with the suggestion's tone and kind) and the replies their emails get;
and the workspace's calibration applied to the score a rep sees. A real SQLite file, the real
service verbs and the real consumers."""

from __future__ import annotations

import json
import random
import uuid
from datetime import timedelta

import pytest
from outcome_support import insert_emails
from sqlalchemy import text
from test_learning import T0, known_rule, synthetic_score

from lumina_tui.services import ai, consumers, drafts, events, learning, preferences, stats
from lumina_tui.services.errors import ValidationError
from lumina_tui.services.outcome_consumers import default_consumers


def suggestion_id() -> str:
    return uuid.uuid4().hex + uuid.uuid4().hex


def feedback(tone: float, action: str, kind: str = "personalize", user: str = "u1",
             replied: bool | None = None) -> learning.Feedback:
    return learning.Feedback(user, tone, kind, action, replied)


def test_the_band_accepted_most_sets_the_default_tone() -> None:
    rows = [feedback(0.8, "accepted")] * 7 + [feedback(0.8, "rejected")] * 1
    rows += [feedback(0.7, "edited")] * 2 + [feedback(0.1, "accepted")] * 2 + [feedback(0.2, "rejected")] * 8
    learned = learning.learn_preferences(rows)
    assert learned["basis"] == "acceptance"
    # The mean tone of the suggestions accepted in the casual band: (7 * 0.8 + 2 * 0.7) / 9.
    assert learned["default_tone"] == 0.8
    bands = {t["name"]: t for t in learned["tones"]}
    assert bands["casual"]["shown"] == 10 and bands["casual"]["accepted"] == 9
    assert bands["casual"]["edited"] == 2 and bands["formal"]["rejected"] == 8
    assert "neutral" not in bands


def test_replies_outrank_acceptance_once_two_bands_have_enough_known_results() -> None:
    # Casual suggestions are accepted more, but the formal ones' emails get the replies.
    casual = [feedback(0.9, "accepted", replied=i < 2) for i in range(30)]
    formal = [feedback(0.1, "accepted", replied=i < 12) for i in range(25)] + [feedback(0.1, "rejected")] * 10
    learned = learning.learn_preferences(casual + formal)
    assert learned["basis"] == "replies"
    assert learned["default_tone"] == 0.1
    bands = {t["name"]: t for t in learned["tones"]}
    assert bands["formal"]["replied"] == 12 and bands["formal"]["sent_known"] == 25
    assert bands["casual"]["acceptance_rate"] == 1.0


def test_too_little_feedback_sets_no_tone() -> None:
    rows = [feedback(0.9, "accepted")] * (learning.MIN_TONE_FEEDBACK - 1)
    assert learning.learn_preferences(rows)["default_tone"] is None


def test_kinds_are_counted_apart() -> None:
    rows = [feedback(0.5, "accepted", "rewrite")] * 3 + [feedback(0.5, "rejected", "personalize")] * 4
    kinds = {k["name"]: k for k in learning.learn_preferences(rows)["kinds"]}
    assert kinds["rewrite"]["acceptance_rate"] == 1.0
    assert kinds["personalize"]["acceptance_rate"] == 0.0 and kinds["personalize"]["rejected"] == 4


def test_feedback_checks_tone_and_kind_and_stores_nothing_bad(db, actor) -> None:
    with pytest.raises(ValidationError) as bad_tone:
        ai.feedback(db, actor, suggestion_id(), "accepted", tone=1.5)
    assert bad_tone.value.field == "tone"
    with pytest.raises(ValidationError) as bad_kind:
        ai.feedback(db, actor, suggestion_id(), "accepted", kind="summarize")
    assert bad_kind.value.field == "kind"
    with db.read() as session:
        assert session.execute(text("SELECT COUNT(*) FROM ai_feedback")).scalar_one() == 0


def run_consumers(db) -> None:  # type: ignore[no-untyped-def]
    consumers.run_until_caught_up(db, default_consumers())


def test_the_consumer_learns_the_tone_and_moves_the_default_only_when_it_changes(db, actor) -> None:
    draft = drafts.create(db, actor, subject="Hi", body="Hello")
    for tone, action in [(0.8, "accepted")] * 6 + [(0.2, "rejected")] * 4:
        ai.feedback(db, actor, suggestion_id(), action, draft_id=draft.id, tone=tone, kind="rewrite")
    run_consumers(db)
    assert preferences.get(db, actor).default_tone == 0.8
    learned = stats.stats(db, actor)["learning"]
    assert learned["default_tone"] == 0.8
    assert {t["name"]: t["accepted"] for t in learned["tones"]} == {"formal": 0, "casual": 6}
    assert learned["kinds"][0]["name"] == "rewrite" and learned["kinds"][0]["shown"] == 10

    # The rep sets a tone by hand: more of the same evidence leaves it alone...
    preferences.update(db, actor, default_tone=0.3)
    ai.feedback(db, actor, suggestion_id(), "accepted", draft_id=draft.id, tone=0.8, kind="rewrite")
    run_consumers(db)
    assert preferences.get(db, actor).default_tone == 0.3
    # ...until new evidence moves the learned tone.
    for _ in range(20):
        ai.feedback(db, actor, suggestion_id(), "accepted", draft_id=draft.id, tone=0.5, kind="personalize")
    run_consumers(db)
    assert preferences.get(db, actor).default_tone == 0.5
    assert stats.stats(db, actor)["learning"]["default_tone"] == 0.5


def seed_sends(db, actor, truth, seed: int) -> None:  # type: ignore[no-untyped-def]
    rng = random.Random(seed)
    scores = [synthetic_score(rng) for _ in range(400)]
    seeded = insert_emails(
        db, actor.workspace_id, actor.user_id, 400, seed=seed, score=lambda i: json.dumps(scores[i])
    )
    with db.write() as s:
        for i, email_id in enumerate(seeded.email_ids):
            sent_at = T0 + timedelta(hours=i)
            events.append_event(s, workspace_id=actor.workspace_id, email_id=email_id, event_type="sent",
                                provider_event_id=f"{email_id}:sent", occurred_at=sent_at)
            if rng.random() < truth(scores[i]):
                events.append_event(s, workspace_id=actor.workspace_id, email_id=email_id,
                                    event_type="replied", provider="imap",
                                    provider_event_id=f"{email_id}:r",
                                    occurred_at=sent_at + timedelta(hours=3))
    run_consumers(db)


BODY = "Hi Ana,\n\nSaw the Lisbon launch. Would a 15-minute call on Tuesday help?\n\nBest,\nSam"


def test_the_score_a_rep_sees_uses_the_calibration_when_it_beats_the_rule(db, actor) -> None:
    draft = drafts.create(db, actor, subject="Lisbon launch", body=BODY)
    before = ai.score(db, actor, draft.id)
    assert before.calibrated is False and before.rule_reply_probability is None

    seed_sends(db, actor, known_rule, seed=9)
    calibration = learning.stored_calibration(db, actor.workspace_id)
    assert calibration is not None and calibration["use_calibrated"] is True
    after = ai.score(db, actor, draft.id)
    assert after.calibrated is True
    assert after.rule_reply_probability == before.reply_probability
    expected = learning.calibrated_probability(calibration, before.as_json())
    assert expected is not None and after.reply_probability == round(expected, 4)
    assert after.reply_probability != before.reply_probability
    note = next(a.message for a in after.advice if a.signal == "reply_probability")
    assert "calibrated on this workspace's 400 sends" in note
    # A refit reads the rule's value from a calibrated snapshot, not the calibration's own output.
    rule_input = learning.features(before.as_json())
    assert learning.features(after.as_json()) == rule_input


def test_the_rule_stays_when_replies_carry_nothing_beyond_it(db, actor) -> None:
    draft = drafts.create(db, actor, subject="Lisbon launch", body=BODY)
    seed_sends(db, actor, lambda s: s["reply_probability"], seed=3)
    calibration = learning.stored_calibration(db, actor.workspace_id)
    assert calibration is not None and calibration["use_calibrated"] is False
    result = ai.score(db, actor, draft.id)
    assert result.calibrated is False and result.rule_reply_probability is None
