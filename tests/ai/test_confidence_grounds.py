"""Confidence says what a suggestion could be checked against (issue 9.17).

A personalize with no prospect and no company facts had nothing to personalize from: a perfect tone
match alone read as "suggestion ready 0.98" with prospect 0.0 and company 0.0.
"""

from __future__ import annotations

from lumina_tui.ai import personalize, rewrite
from lumina_tui.ai.orchestrator import UNGROUNDED_CAP, UNGROUNDED_NOTE

BODY = (
    "Hi there,\n\nWe help operations teams cut the time they spend on weekly reporting. "
    "Would a short call next week be useful?\n\nBest,\nSam"
)


def test_a_personalize_with_nothing_to_personalize_from_is_capped_and_says_why() -> None:
    suggestion = personalize({"subject": "Reporting", "body": BODY}, use_cache=False)
    assert suggestion.source_signals.prospect_match == 0.0
    assert suggestion.source_signals.company_match == 0.0
    assert suggestion.confidence <= UNGROUNDED_CAP
    assert UNGROUNDED_NOTE in suggestion.notes


def test_a_prospect_lifts_the_cap(prospect, company) -> None:  # type: ignore[no-untyped-def]
    draft = {"subject": "Reporting", "body": BODY, "prospect_id": prospect.id}
    grounded = personalize(draft, prospect, company, use_cache=False)
    assert grounded.confidence > UNGROUNDED_CAP
    assert UNGROUNDED_NOTE not in grounded.notes


def test_a_rewrite_is_grounded_in_the_draft_itself() -> None:
    suggestion = rewrite({"subject": "Reporting", "body": BODY}, "more formal", use_cache=False)
    assert UNGROUNDED_NOTE not in suggestion.notes
