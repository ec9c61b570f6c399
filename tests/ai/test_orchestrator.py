"""The orchestrator's contract: suggestion shape, hashes, cache, purity, one error type."""

from __future__ import annotations

import re
import threading
from pathlib import Path

import pytest

from lumina_tui.ai import AIError, hash_draft, personalize, request_key, rewrite, score
from lumina_tui.ai.engines.offline_engine import OFFLINE_MODEL
from lumina_tui.ai.models import DraftInput, EngineOutput, EngineRequest
from lumina_tui.ai.orchestrator import suggestion_cache
from lumina_tui.ai.prompt import PROMPT_VERSION


def test_suggestion_shape(draft, prospect, company, sender) -> None:
    suggestion = personalize(draft, prospect, company, sender, tone=0.5)
    data = suggestion.model_dump(mode="json")
    assert set(data) >= {"suggestion_id", "suggestion", "confidence", "source_signals",
                         "unsupported_claims", "timestamp", "input_hash", "engine", "model"}
    assert set(data["suggestion"]) == {"subject", "body", "diff"}
    assert set(data["source_signals"]) == {"prospect_match", "company_match", "tone_match"}
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", data["timestamp"])
    assert data["engine"] == "offline" and data["model"] == OFFLINE_MODEL
    assert 0 <= data["confidence"] <= 1
    for op in data["suggestion"]["diff"]:
        assert set(op) == {"type", "old", "new", "old_start", "old_end", "new_start", "new_end"}
        assert op["type"] in {"insert", "delete", "replace"}
        assert draft.body[op["old_start"]:op["old_end"]] == op["old"]
        assert data["suggestion"]["body"][op["new_start"]:op["new_end"]] == op["new"]


def test_input_hash_and_suggestion_id(draft, prospect, company, sender) -> None:
    formal = personalize(draft, prospect, company, sender, tone=0.0)
    casual = personalize(draft, prospect, company, sender, tone=1.0)
    assert formal.input_hash == casual.input_hash == hash_draft(
        draft.subject, draft.body, draft.prospect_id)
    assert formal.suggestion_id != casual.suggestion_id
    assert formal.suggestion.body != casual.suggestion.body
    assert formal.suggestion_id == request_key(
        operation="personalize", tone=0.0, instruction=None,
        inputs={"draft": draft, "prospect": prospect, "company": company, "sender": sender},
        engine="offline", model=OFFLINE_MODEL, prompt_version=PROMPT_VERSION,
    )
    # An edit the rep can see makes the suggestion stale; one they cannot see does not.
    edited = draft.body + " P.S. one more thing."
    assert hash_draft(draft.subject, edited, draft.prospect_id) != formal.input_hash
    assert hash_draft(draft.subject, draft.body.replace("\n", "\r\n"),
                      draft.prospect_id) == formal.input_hash


def test_same_request_same_suggestion(draft, prospect, company, sender) -> None:
    first = personalize(draft, prospect, company, sender, tone=0.5)
    again = personalize(draft.model_dump(), prospect.model_dump(), company.model_dump(),
                        sender.model_dump(), tone=0.5)
    assert again is first  # served from the cache: same id, same timestamp
    assert suggestion_cache().hits == 1
    other_prospect = prospect.model_copy(update={"job_title": "CRO"})
    changed = personalize(draft, other_prospect, company, sender, tone=0.5)
    assert changed.suggestion_id != first.suggestion_id
    fresh = personalize(draft, prospect, company, sender, tone=0.5, use_cache=False)
    assert fresh.suggestion_id == first.suggestion_id
    assert fresh.suggestion == first.suggestion


def test_cache_is_bounded(draft) -> None:
    cache = suggestion_cache()
    for index in range(cache.maxsize + 20):
        personalize(DraftInput(subject=f"s{index}", body=draft.body), tone=0.5)
    assert len(cache) == cache.maxsize


def test_default_tone_comes_from_the_sender(draft, prospect, company, sender) -> None:
    formal_sender = sender.model_copy(update={"default_tone": 0.0})
    suggestion = personalize(draft, prospect, company, formal_sender)
    assert suggestion.tone == 0.0
    assert (suggestion.suggestion.body or "").startswith("Dear Dana,")


def test_rewrite_aims_at_the_tone_it_was_asked_for(draft, prospect, company, sender) -> None:
    body = personalize(draft, prospect, company, sender).suggestion.body or ""
    formal = rewrite({"subject": "s", "body": body}, "more formal", prospect, company, sender)
    assert formal.tone == 0.15
    assert formal.source_signals.tone_match > 0.8
    assert formal.instruction == "more formal"


def test_banned_phrases_lower_confidence(draft, prospect, company, sender) -> None:
    clean = personalize(draft, prospect, company, sender)
    banned_draft = draft.model_copy(update={"body": draft.body + "\n\nHappy to circle back."})
    with_banned = personalize(banned_draft, prospect, company, sender)
    assert with_banned.confidence <= clean.confidence - 0.09


@pytest.mark.parametrize(
    ("call", "code"),
    [
        (lambda: rewrite({"subject": "s", "body": "Hello"}, "   "), "invalid_input"),
        (lambda: rewrite({"subject": "s", "body": "  "}, "shorter"), "invalid_input"),
        (lambda: personalize({"subject": "s", "body": "b"}, tone=1.5), "invalid_input"),
        (lambda: personalize({"subject": "s", "body": "b"}, prospect=42), "invalid_input"),
    ],
)
def test_bad_input_is_an_ai_error(call, code: str) -> None:
    with pytest.raises(AIError) as raised:
        call()
    assert raised.value.code == code


class BrokenEngine:
    """An engine with a bug: the orchestrator must still answer with one clear AIError."""

    name = "broken"
    model = "broken-1"

    def __init__(self) -> None:
        self.calls = 0

    def generate(self, request: EngineRequest) -> EngineOutput:
        self.calls += 1
        raise KeyError("oops")


def test_an_engine_bug_becomes_one_clear_error_and_is_not_cached(draft) -> None:
    engine = BrokenEngine()
    for _ in range(2):
        with pytest.raises(AIError) as raised:
            personalize(draft, engine=engine)
        assert raised.value.code == "bad_response"
        assert "KeyError" in raised.value.message
    assert engine.calls == 2


def test_ai_calls_write_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, draft,
                                prospect, company, sender) -> None:
    """Purity at the package level: 100 calls leave the working directory untouched and start
    no lingering threads (the store-and-queue version of this test lives with the service)."""
    def tree() -> dict[str, tuple[int, int]]:
        return {str(path): (path.stat().st_size, path.stat().st_mtime_ns)
                for path in tmp_path.rglob("*")}

    monkeypatch.chdir(tmp_path)
    before = tree()
    before_threads = threading.active_count()
    for index in range(100):
        tone = (index % 5) / 4
        personalize(draft, prospect, company, sender, tone=tone)
        score(draft, prospect, company, sender)
        if index % 10 == 0:
            rewrite(draft, "shorter", prospect, company, sender)
    assert tree() == before
    assert threading.active_count() == before_threads
