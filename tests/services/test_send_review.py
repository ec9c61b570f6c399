"""build_review: what the rep sees before a send, from the real services on a real SQLite file."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from lumina_tui.services import accounts, drafts, outbox, prospects, sending, suppressions
from lumina_tui.services.actors import new_workspace
from lumina_tui.services.errors import NotFoundError
from lumina_tui.services.send_review import build_review, preview_of
from lumina_tui.store import utcnow

BODY = (
    "Hi Ana,\n\n"
    "Teams like Brightwave's operations group usually lose a day a week to manual reporting.\n"
    "We connect the tools you already use and keep the numbers in sync.\n\n"
    "Would a 15-minute call next Tuesday be useful?\n\nBest,\nSam"
)
LOW_SCORE = {"spam_risk": 0.08, "reply_probability": 0.41}


@pytest.fixture
def ana(db, actor):
    return prospects.create(
        db, actor, email="ana.okafor@brightwave.example", first_name="Ana", last_name="Okafor"
    )


@pytest.fixture
def outbox_account(db, actor):
    return accounts.add_account(db, actor, provider="maildir", email="rep@outbox.test", make_default=True)


def _draft(db, actor, prospect_id, subject="Quick question about Q3 onboarding", body=BODY, **kw):
    return drafts.create(db, actor, prospect_id=prospect_id, subject=subject, body=body, **kw)


def test_a_clean_draft_can_be_sent_and_says_where_it_goes(db, actor, settings, ana, outbox_account):
    draft = _draft(db, actor, ana.id)
    review = build_review(db, actor, settings, draft.id, score=LOW_SCORE)
    assert review.can_send and review.blockers == [] and review.warnings == []
    assert review.draft_id == draft.id and review.revision == draft.revision
    assert review.account_id == outbox_account.id
    assert review.from_label == "rep@outbox.test (local outbox, not delivered)"
    assert review.to_email == "ana.okafor@brightwave.example"
    assert review.to_label == "Ana Okafor <ana.okafor@brightwave.example>"
    assert review.subject == "Quick question about Q3 onboarding"
    assert review.preview.startswith("Hi Ana,\nTeams like Brightwave's")
    assert review.preview.count("\n") == 2  # the first three non-blank lines
    assert (review.spam_risk, review.reply_probability) == (0.08, 0.41)
    assert uuid.UUID(review.idempotency_key).version == 4


def test_each_review_makes_its_own_idempotency_key(db, actor, settings, ana, outbox_account):
    draft = _draft(db, actor, ana.id)
    first = build_review(db, actor, settings, draft.id, score=LOW_SCORE)
    second = build_review(db, actor, settings, draft.id, score=LOW_SCORE)
    assert first.idempotency_key != second.idempotency_key


def test_an_smtp_account_is_named_by_its_address_and_provider(db, actor, settings, ana):
    smtp = accounts.add_account(
        db,
        actor,
        provider="smtp",
        email="rep@acme.test",
        settings={"host": "127.0.0.1", "port": 2525, "security": "plain", "auth": "none"},
        make_default=True,
    )
    review = build_review(db, actor, settings, _draft(db, actor, ana.id).id, score=LOW_SCORE)
    assert review.from_label == "rep@acme.test (SMTP)"
    assert review.account_id == smtp.id


def test_warnings_inform_but_do_not_block(db, actor, settings, ana, outbox_account):
    draft = _draft(db, actor, ana.id, subject="", body="Hi Ana,\nThe deck is attached, have a look.")
    review = build_review(
        db,
        actor,
        settings,
        draft.id,
        extra_warnings=['Unsupported claim: "doubled revenue at Brightwave"'],
        score={"spam_risk": 0.62, "reply_probability": 0.1},
    )
    assert review.can_send
    assert "The subject is empty." in review.warnings
    assert 'Unsupported claim: "doubled revenue at Brightwave"' in review.warnings
    assert any('says "attached"' in w and "nothing is attached" in w for w in review.warnings)
    assert any(w.startswith("High spam risk (0.62)") for w in review.warnings)


def test_spam_risk_below_the_threshold_is_not_a_warning(db, actor, settings, ana, outbox_account):
    review = build_review(
        db, actor, settings, _draft(db, actor, ana.id).id, score={"spam_risk": 0.49, "reply_probability": 0.3}
    )
    assert not any("spam" in w.lower() for w in review.warnings)


def test_leftover_fields_block_and_say_which(db, actor, settings, ana, outbox_account):
    draft = _draft(db, actor, ana.id, subject="About {{company}}", body="Hi {{ first_name }},\nHello.")
    review = build_review(db, actor, settings, draft.id, score=LOW_SCORE)
    assert not review.can_send
    assert any("{{company}}" in b and "{{first_name}}" in b for b in review.blockers)


def test_no_from_account_blocks(db, actor, settings, ana):
    review = build_review(db, actor, settings, _draft(db, actor, ana.id).id, score=LOW_SCORE)
    assert not review.can_send
    assert review.account_id is None
    assert any(b.startswith("No From account: there is no sending account") for b in review.blockers)


def test_no_recipient_blocks(db, actor, settings, outbox_account):
    draft = drafts.create(db, actor, subject="Hello", body="Hi there")
    review = build_review(db, actor, settings, draft.id, score=LOW_SCORE)
    assert not review.can_send
    assert "No recipient: pick a prospect first." in review.blockers


def test_a_suppressed_recipient_blocks(db, actor, settings, ana, outbox_account):
    suppressions.add(db, actor, "brightwave.example", reason="asked us to stop")
    review = build_review(db, actor, settings, _draft(db, actor, ana.id).id, score=LOW_SCORE)
    assert any("do-not-contact" in b for b in review.blockers)


def test_recent_email_to_the_same_prospect_is_named(db, actor, settings, ana, outbox_account):
    now = utcnow()
    six_days_ago = now - timedelta(days=6, hours=1)
    earlier = _draft(db, actor, ana.id)
    sending.send(db, actor, draft_id=earlier.id, settings=settings, clock=lambda: six_days_ago)
    review = build_review(db, actor, settings, _draft(db, actor, ana.id).id, score=LOW_SCORE, now=now)
    assert "You emailed Ana 6 days ago." in review.warnings
    assert review.can_send  # a reminder, not a rule


def test_a_cancelled_email_does_not_count_as_emailed(db, actor, settings, ana, outbox_account):
    sent = sending.send(db, actor, draft_id=_draft(db, actor, ana.id).id, settings=settings)
    outbox.cancel(db, actor, sent.email.id)
    review = build_review(db, actor, settings, _draft(db, actor, ana.id).id, score=LOW_SCORE)
    assert not any(w.startswith("You emailed") for w in review.warnings)


def test_an_already_sent_draft_blocks(db, actor, settings, ana, outbox_account):
    draft = _draft(db, actor, ana.id)
    sending.send(db, actor, draft_id=draft.id, settings=settings)
    review = build_review(db, actor, settings, draft.id, score=LOW_SCORE)
    assert "This draft was already sent; start a new one." in review.blockers


def test_without_a_given_score_the_review_scores_or_says_why_not(db, actor, settings, ana, outbox_account):
    review = build_review(db, actor, settings, _draft(db, actor, ana.id).id)
    if review.spam_risk is None:
        assert review.score_note and review.score_note.startswith("Score unavailable")
    else:
        assert 0.0 <= review.spam_risk <= 1.0 and review.score_note is None
    assert review.can_send  # scoring never blocks a send


def test_another_workspaces_draft_is_not_found(db, actor, settings, ana, outbox_account):
    draft = _draft(db, actor, ana.id)
    other = new_workspace(db, "Other", "other@x.test")
    with pytest.raises(NotFoundError):
        build_review(db, other, settings, draft.id, score=LOW_SCORE)


def test_preview_keeps_the_first_lines_and_marks_the_cut():
    assert preview_of("Hi Ana,\n\n\nLine two\nLine three\nLine four") == "Hi Ana,\nLine two\nLine three …"
    long = preview_of("x" * 500)
    assert len(long) == 240 and long.endswith("…")
    assert preview_of("") == ""
