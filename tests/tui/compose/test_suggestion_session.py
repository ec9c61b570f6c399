"""`SuggestionSession` without an app: request numbers, staleness, accept/reject, feedback, basis."""

from __future__ import annotations

from flow_fakes import Autosave, Claim, Host, Suggestion, snapshot

from lumina_tui.tui.compose.suggestions import SuggestionSession
from lumina_tui.tui.messages import ScoreArrived, SuggestionArrived, SuggestionFailed
from lumina_tui.tui.screens.dialogs import ConfirmDialog
from lumina_tui.tui.triggers import SuggestionBasis


def session(**host_fields: object) -> tuple[SuggestionSession, Host]:
    host = Host(autosave=Autosave(snapshot()), **host_fields)  # type: ignore[arg-type]
    return SuggestionSession(host), host


def test_an_answer_to_a_replaced_request_is_dropped() -> None:
    ai, host = session()
    first = ai.personalize()
    second = ai.personalize()
    assert (first, second) == (1, 2) and ai.glow_state == "thinking"
    assert [group for group, _job in host.jobs] == ["ai", "ai"]
    ai.arrived(SuggestionArrived(1, Suggestion("h-1", "old")))
    assert ai.suggestion is None and ai.glow_state == "thinking"
    ai.failed(SuggestionFailed(1, "timeout"))
    assert ai.glow_state == "thinking"
    ai.arrived(SuggestionArrived(2, Suggestion("h-1", "new")))
    assert ai.suggestion.suggestion_id == "new" and ai.glow_state == "suggestion_ready"
    assert ai.basis == SuggestionBasis("p-1", "Hello", "Hi Ana")  # what was asked about becomes the basis


def test_an_answer_for_other_text_arrives_stale_and_an_edit_makes_a_fresh_one_stale() -> None:
    ai, host = session()
    ai.personalize()
    host.hash = "h-typed-since"
    ai.arrived(SuggestionArrived(1, Suggestion("h-1")))
    assert ai.glow_state == "stale"
    ai.personalize()
    host.hash = "h-1"
    ai.arrived(SuggestionArrived(2, Suggestion("h-1")))
    assert ai.glow_state == "suggestion_ready"
    host.hash = "h-2"
    ai.check_stale()
    assert ai.glow_state == "stale"
    rediff = next(t for t in host.timers if t.name == "rediff")
    rediff.callback()
    assert host.jobs[-1][0] == "diff"


def test_a_failure_says_why_and_leaves_typing_alone() -> None:
    ai, host = session()
    ai.personalize()
    ai.failed(SuggestionFailed(1, "the AI is down"))
    assert ai.glow_state == "idle" and ai.suggestion is None
    assert host.said[-1].startswith("AI unavailable: the AI is down")


def test_accept_applies_one_edit_records_feedback_and_keeps_the_claims() -> None:
    ai, host = session(panel_subject="New subject")
    ai.personalize()
    ai.arrived(SuggestionArrived(1, Suggestion("h-1", "s-9", unsupported_claims=[Claim("cut costs by 40%")])))
    ai.accept()
    assert host.replaced == [("New subject", "Hi Ana, a better pitch.", "s-9")]
    assert ai.accepted_ids == ["s-9"] and ai.accepted_claims == ["cut costs by 40%"]
    assert ai.suggestion is None and ai.glow_state == "applied"
    assert host.autosave.saves_soon == 1
    assert host.jobs[-1][0] == "feedback"
    assert ai.basis == SuggestionBasis("p-1", "New subject", "Hi Ana, a better pitch.")
    next(t for t in host.timers if t.name == "glow-applied").callback()
    assert ai.glow_state == "idle"
    assert ai.claims_in("we cut costs by 40% fast") == ["cut costs by 40%"]
    ai.replacement_undone("s-9")  # ctrl+z took it out again
    assert ai.accepted_ids == [] and ai.accepted_claims == []


def test_a_stale_suggestion_is_applied_only_after_a_confirm() -> None:
    ai, host = session()
    ai.personalize()
    ai.arrived(SuggestionArrived(1, Suggestion("h-1")))
    host.hash = "h-typed-since"
    ai.accept()
    dialog, answered = host.asked[-1]
    assert isinstance(dialog, ConfirmDialog) and host.replaced == []
    answered(False)
    assert host.replaced == [] and ai.suggestion is not None
    ai.accept()
    host.asked[-1][1](True)
    assert len(host.replaced) == 1 and ai.accepted_ids == ["s-1"]


def test_reject_drops_it_and_records_feedback() -> None:
    ai, host = session()
    assert ai.reject() is False  # nothing to reject
    ai.personalize()
    ai.arrived(SuggestionArrived(1, Suggestion("h-1")))
    assert ai.reject() is True
    assert ai.suggestion is None and ai.glow_state == "idle" and host.jobs[-1][0] == "feedback"


def test_read_only_asks_nothing_and_automatic_requests_say_nothing() -> None:
    ai, host = session(read_only=True)
    assert ai.personalize() is None
    assert host.read_only_explained == 1
    assert ai.personalize(automatic=True) is None
    assert host.read_only_explained == 1 and host.jobs == []


def test_automatic_personalize_only_after_a_meaningful_change() -> None:
    body = "Hi Ana, would a short call next week be useful for the reporting team?"
    ai, host = session(body=body)
    ai.reset(SuggestionBasis("p-1", "Hello", body))
    ai.auto_due = True
    host.body = body + "!"  # a typo fix
    ai.maybe_auto_personalize()
    assert ai.request_number == 0 and not ai.auto_due
    host.prospect_id = "p-2"  # another prospect is a new context
    ai.maybe_auto_personalize()
    assert ai.request_number == 1


def test_only_the_latest_score_is_shown() -> None:
    ai, host = session()
    ai.request_score(automatic=False)
    ai.request_score(automatic=False)
    ai.score_arrived(ScoreArrived(1, "old", 1))
    assert host.score is None
    ai.score_arrived(ScoreArrived(2, "new", 2))
    assert (host.score, host.score_revision) == ("new", 2)
    host.body = "   "
    ai.request_score(automatic=True)  # an empty draft is not scored by itself
    assert ai.score_request == 2
