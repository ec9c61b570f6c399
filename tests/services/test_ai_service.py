"""services.ai: reads the draft and its context from a real SQLite store, returns the pure AI's
result untouched, writes only feedback, and maps AI failures onto the services' errors."""

from __future__ import annotations

import hashlib
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from db_snapshot import snapshot

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "ai"))
from fake_openai_server import FakeOpenAI

from lumina_tui import queue as lumina_queue
from lumina_tui import secrets
from lumina_tui.ai import hash_draft
from lumina_tui.ai.engines import openai_engine
from lumina_tui.ai.orchestrator import clear_cache
from lumina_tui.ai.ratelimit import reset_limiters
from lumina_tui.services import (
    ai,
    company_data,
    drafts,
    preferences,
    prospects,
)
from lumina_tui.services.actors import new_workspace
from lumina_tui.services.errors import (
    AIServiceError,
    NotFoundError,
    StaleRevisionError,
    ValidationError,
)
from lumina_tui.store import close_all
from lumina_tui.store.models import AIFeedback

BODY = (
    "Hi {{first_name}},\n\nI noticed {{company}} is hiring SDRs in Denver. Most teams we talk to "
    "spend 6 hours a week per rep on prospect research.\n\nLumina cuts that research time by 40% "
    "and plugs into Salesforce and HubSpot.\n\nWould a 20-minute call on Thursday make sense?\n\n"
    "Best,\nJordan"
)


@pytest.fixture(autouse=True)
def fresh_ai_state() -> Iterator[None]:
    clear_cache()
    reset_limiters()
    openai_engine.reset_shared_state()
    yield
    clear_cache()
    reset_limiters()
    openai_engine.reset_shared_state()


@pytest.fixture
def ai_server() -> Iterator[FakeOpenAI]:
    server = FakeOpenAI().start()
    yield server
    server.stop()


@pytest.fixture
def seeded(db, actor) -> dict[str, Any]:
    prospect = prospects.create(
        db, actor, email="dana@northwind.example", first_name="Dana", last_name="Whitfield",
        company="Northwind Logistics", job_title="VP of Sales",
        custom_fields={"recent_news": "opened a Denver office in March", "crm": "Salesforce"},
    )
    with db.write() as session:
        company_data.upsert(
            session, actor, "northwind.example",
            {"name": "Northwind Logistics", "industry": "Logistics", "size": "201-500",
             "location": "Austin, TX"},
            metadata={"founded": "2009"},
        )
    preferences.update(
        db, actor, sender_name="Jordan Lee", sender_title="Account Executive",
        company_name="Lumina", company_website="https://lumina.example",
        value_proposition="Lumina helps sales teams cut prospect research time.",
        proof_points=["Trusted by 300 revenue teams"], signature="Jordan Lee\nLumina",
        default_tone=0.0, banned_phrases=["circle back"],
    )
    draft = drafts.create(db, actor, prospect_id=prospect.id,
                          subject="Research time at {{company}}", body=BODY)
    return {"prospect": prospect, "draft": draft}


def test_personalize_reads_the_whole_context(db, actor, settings, seeded) -> None:
    draft = seeded["draft"]
    suggestion = ai.personalize(db, actor, draft.id, settings=settings)
    body = suggestion.suggestion.body or ""
    # The prospect, the company row (found by email domain) and the sender profile all arrived.
    assert body.startswith("Dear Dana,")  # the profile's default tone (0.0) was used
    assert "opened a Denver office in March" in body
    # After the news line names the company, the company row still shows through its industry.
    assert "relevant to logistics teams like yours" in body
    assert suggestion.source_signals.company_match > 0
    assert body.endswith("Kind regards,\nJordan")
    assert suggestion.tone == 0.0
    assert suggestion.input_hash == hash_draft(draft.subject, draft.body_text, draft.prospect_id)
    assert suggestion.engine == "offline"
    assert suggestion.unsupported_claims == []
    casual = ai.personalize(db, actor, draft.id, tone="casual", settings=settings)
    assert (casual.suggestion.body or "").startswith("Hey Dana,")
    assert casual.input_hash == suggestion.input_hash
    assert casual.suggestion_id != suggestion.suggestion_id


def test_rewrite_and_score(db, actor, settings, seeded) -> None:
    draft = seeded["draft"]
    shorter = ai.rewrite(db, actor, draft.id, "make it more formal", settings=settings)
    assert (shorter.suggestion.body or "").startswith("Dear {{first_name}},")
    assert shorter.instruction == "make it more formal"
    result = ai.score(db, actor, draft.id)
    assert 0 <= result.spam_risk < 0.2
    assert result.signals.question_count == 1
    assert not result.signals.parts_mismatch  # the stored HTML says what the text says
    assert any(advice.signal == "reply_probability" for advice in result.advice)


def test_revision_must_match(db, actor, settings, seeded) -> None:
    draft = seeded["draft"]
    assert ai.personalize(db, actor, draft.id, revision=draft.revision, settings=settings)
    drafts.save(db, actor, draft.id, draft.revision + 1, subject=draft.subject,
                body=BODY + "\n\nP.S. new line", prospect_id=draft.prospect_id)
    with pytest.raises(StaleRevisionError) as raised:
        ai.personalize(db, actor, draft.id, revision=draft.revision, settings=settings)
    assert raised.value.exit_code == 2
    assert raised.value.details["stored_revision"] == draft.revision + 1
    with pytest.raises(StaleRevisionError):
        ai.rewrite(db, actor, draft.id, "shorter", revision=draft.revision, settings=settings)


def test_bad_input_and_missing_rows(db, actor, settings, seeded) -> None:
    draft = seeded["draft"]
    cases = [
        (lambda: ai.personalize(db, actor, "not-a-uuid", settings=settings), ValidationError),
        (lambda: ai.personalize(db, actor, draft.id, tone="loud", settings=settings),
         ValidationError),
        (lambda: ai.rewrite(db, actor, draft.id, "  ", settings=settings), ValidationError),
        (lambda: ai.rewrite(db, actor, draft.id, "translate to Klingon", settings=settings),
         ValidationError),
        (lambda: ai.score(db, actor, "7b0c6a52-3f1e-4c55-9a51-2f3b8e0d9c11"), NotFoundError),
        (lambda: ai.score_message(b"   "), ValidationError),
    ]
    for call, error in cases:
        with pytest.raises(error) as raised:
            call()
        assert raised.value.exit_code == 2
    other = new_workspace(db, "Other", "other@localhost")
    with pytest.raises(NotFoundError):
        ai.personalize(db, other, draft.id, settings=settings)


def test_ai_failures_are_service_errors_with_exit_code_1(db, actor, seeded, ai_server,
                                                         refused_url) -> None:
    draft = seeded["draft"]
    ai_server.mode = "slow"
    ai_server.delay = 600.0  # held until teardown: only the 0.4 s budget can end the call
    slow = _settings(base_url=ai_server.base_url, ai_timeout_seconds=0.4)
    with pytest.raises(AIServiceError) as raised:
        ai.personalize(db, actor, draft.id, settings=slow)
    assert (raised.value.code, raised.value.exit_code) == ("ai_timeout", 1)
    assert raised.value.as_dict()["details"]["ai_code"] == "timeout"
    # An ample budget: a refused connection must be reported as such, never as a timeout,
    # however slowly a loaded machine gets to the retry.
    unreachable = _settings(base_url=refused_url, ai_timeout_seconds=30)
    with pytest.raises(AIServiceError) as raised:
        ai.rewrite(db, actor, draft.id, "shorter", settings=unreachable)
    assert raised.value.code == "ai_unreachable"
    with pytest.raises(AIServiceError) as raised:
        ai.personalize(db, actor, draft.id, settings=_settings(ai_engine="openai"))
    assert raised.value.code == "ai_auth"


def test_openai_engine_from_settings_and_keyring(db, actor, seeded, ai_server) -> None:
    draft = seeded["draft"]
    ai_server.reply = {"subject": None, "body": "Hi Dana,\n\nShort and sweet.\n\nBest,\nJordan"}
    secrets.set_secret(ai.KEYRING_REF, "sk-from-keyring")
    suggestion = ai.personalize(
        db, actor, draft.id,
        settings=_settings(base_url=ai_server.base_url, ai_model="served-model"),
    )
    assert (suggestion.engine, suggestion.model) == ("openai", "served-model")
    assert suggestion.suggestion.body == ai_server.reply["body"]
    assert ai_server.headers_seen[0]["authorization"] == "Bearer sk-from-keyring"
    sent = ai_server.requests[0]["messages"][1]["content"]
    assert "Northwind Logistics" in sent and "Trusted by 300 revenue teams" in sent
    # A key in the settings wins over the keyring.
    ai.personalize(db, actor, draft.id, tone=1.0, settings=_settings(
        base_url=ai_server.base_url, ai_api_key="sk-settings"))
    assert ai_server.headers_seen[-1]["authorization"] == "Bearer sk-settings"


def test_response_format_and_max_tokens_settings_reach_the_server(
        db, actor, seeded, ai_server, monkeypatch) -> None:
    """LUMINA_AI_RESPONSE_FORMAT pins the mode; LUMINA_AI_MAX_TOKENS bounds every reply."""
    ai_server.reply = {"subject": None, "body": "Hi Dana,\n\nShort and sweet.\n\nBest,\nJordan"}
    monkeypatch.setenv("LUMINA_AI_RESPONSE_FORMAT", "json_object")
    monkeypatch.setenv("LUMINA_AI_MAX_TOKENS", "700")
    ai.personalize(db, actor, seeded["draft"].id, settings=_settings(base_url=ai_server.base_url))
    sent = ai_server.requests[-1]
    assert sent["response_format"] == {"type": "json_object"}
    assert sent["max_tokens"] == 700
    monkeypatch.delenv("LUMINA_AI_MAX_TOKENS")
    monkeypatch.setenv("LUMINA_AI_RESPONSE_FORMAT", "text")
    ai.rewrite(db, actor, seeded["draft"].id, "shorter",
               settings=_settings(base_url=ai_server.base_url))
    sent = ai_server.requests[-1]
    assert "response_format" not in sent
    assert 256 <= sent["max_tokens"] <= 4096  # sized from the draft
    monkeypatch.setenv("LUMINA_AI_RESPONSE_FORMAT", "yaml")
    with pytest.raises(Exception, match="ai_response_format"):
        _settings(base_url=ai_server.base_url)


def test_feedback_is_the_only_write(db, actor, settings, seeded) -> None:
    suggestion = ai.personalize(db, actor, seeded["draft"].id, settings=settings)
    row = ai.feedback(db, actor, suggestion.suggestion_id, "accepted", note=" looked good ",
                      draft_id=seeded["draft"].id)
    as_json = ai.feedback_json(row)
    assert as_json["action"] == "accepted" and as_json["note"] == "looked good"
    assert as_json["created_at"].endswith("Z")
    with db.read() as session:
        stored = session.get(AIFeedback, row.id)
    assert stored is not None and stored.suggestion_id == suggestion.suggestion_id
    assert stored.workspace_id == actor.workspace_id and stored.user_id == actor.user_id
    for bad in [("nope", "accepted"), (suggestion.suggestion_id, "liked")]:
        with pytest.raises(ValidationError):
            ai.feedback(db, actor, *bad)


def _file_state(path: Path) -> dict[str, str]:
    """Hashes of the database file and of its WAL when the WAL holds anything (SQLite leaves an
    empty -wal behind while a pooled connection is open; empty means no write happened)."""
    state = {}
    for candidate in (path, path.with_name(path.name + "-wal")):
        if candidate.exists() and candidate.stat().st_size:
            state[candidate.name] = hashlib.sha256(candidate.read_bytes()).hexdigest()
    return state


def test_100_ai_calls_leave_store_and_queue_unchanged(db, actor, settings, seeded) -> None:
    lumina_queue.enqueue_sweep(settings)  # the queue file exists and holds a job
    assert lumina_queue.queued_count(settings) == 1
    lumina_queue.close_all()
    close_all()  # checkpoint the WAL so the files are at rest
    store_file, queue_file = settings.db_path, settings.queue_path
    before = (_file_state(store_file), _file_state(queue_file),
              snapshot(store_file), snapshot(queue_file, skip=()))
    draft_id = seeded["draft"].id
    raw = f"Subject: Research time\nContent-Type: text/plain\n\n{BODY}\n".encode()
    for index in range(100):
        kind = index % 4
        if kind == 0:
            ai.personalize(db, actor, draft_id, tone=(index % 10) / 10, settings=settings)
        elif kind == 1:
            ai.rewrite(db, actor, draft_id, ("shorter", "more casual", "longer")[index % 3],
                       settings=settings)
        elif kind == 2:
            ai.score(db, actor, draft_id)
        else:
            ai.score_message(raw)
    lumina_queue.close_all()
    close_all()
    after = (_file_state(store_file), _file_state(queue_file),
             snapshot(store_file), snapshot(queue_file, skip=()))
    assert after == before
    assert before[0] and before[1]  # both files existed and were compared


def _settings(**values: Any):
    from lumina_tui.config import load_settings

    if "base_url" in values:
        values["ai_base_url"] = values.pop("base_url")
    return load_settings(**values)
