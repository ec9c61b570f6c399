"""`lumina ai personalize|rewrite|score|feedback`: the command-line contract of docs/cli.md."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from lumina_tui.ai.orchestrator import clear_cache
from lumina_tui.cli import main
from lumina_tui.services import company_data, drafts, preferences, prospects
from lumina_tui.store.models import AIFeedback

BODY = (
    "Hi {{first_name}},\n\nI noticed {{company}} is hiring SDRs. Most teams we talk to spend 6 "
    "hours a week per rep on research.\n\nWould a 20-minute call on Thursday make sense?\n\n"
    "Best,\nJordan"
)
SPAM = (
    "From: Deals <deals@promo.example>\nTo: dana@northwind.example\nSubject: ACT NOW!!!\n"
    "MIME-Version: 1.0\nContent-Type: text/html; charset=utf-8\n\n"
    "<p>Dear Friend, <b>100% FREE</b> money! <a href=\"http://bit.ly/x\">Click here</a></p>\n"
)


@pytest.fixture(autouse=True)
def empty_cache() -> Iterator[None]:
    clear_cache()
    yield
    clear_cache()


def run(*args: str, input: str | bytes | None = None, code: int = 0) -> Result:
    result = CliRunner().invoke(main, list(args), input=input)
    assert result.exit_code == code, (result.stdout, result.stderr, result.exception)
    return result


def ok_json(*args: str, input: str | bytes | None = None) -> Any:
    return json.loads(run(*args, "--json", input=input).stdout)


def error_json(code: int, *args: str, input: str | None = None) -> dict[str, Any]:
    result = run(*args, "--json", code=code, input=input)
    assert result.stdout == ""
    return json.loads(result.stderr.strip().splitlines()[-1])["error"]


@pytest.fixture
def draft_id(db, actor) -> str:
    prospect = prospects.create(db, actor, email="dana@northwind.example", first_name="Dana",
                                company="Northwind Logistics", job_title="VP of Sales")
    with db.write() as session:
        company_data.upsert(session, actor, "northwind.example",
                            {"name": "Northwind Logistics", "industry": "Logistics"})
    preferences.update(db, actor, sender_name="Jordan Lee", company_name="Lumina")
    return drafts.create(db, actor, prospect_id=prospect.id, subject="Research at {{company}}",
                         body=BODY).id


def test_personalize_prints_one_suggestion_document(draft_id: str) -> None:
    doc = ok_json("ai", "personalize", "--draft", draft_id, "--tone", "formal")
    assert set(doc) >= {"suggestion_id", "suggestion", "confidence", "source_signals",
                        "unsupported_claims", "timestamp", "input_hash", "engine", "model"}
    assert doc["suggestion"]["body"].startswith("Dear Dana,")
    assert doc["suggestion"]["subject"] == "Research at Northwind Logistics"
    assert doc["tone"] == 0.0 and doc["timestamp"].endswith("Z")
    again = ok_json("ai", "personalize", "--draft", draft_id, "--tone", "0")
    assert again["suggestion_id"] == doc["suggestion_id"]
    casual = ok_json("ai", "personalize", "--draft", draft_id, "--tone", "casual")
    assert casual["input_hash"] == doc["input_hash"]
    assert casual["suggestion_id"] != doc["suggestion_id"]


def test_personalize_plain_output(draft_id: str) -> None:
    out = run("ai", "personalize", "--draft", draft_id).stdout
    assert "confidence" in out and "Hi Dana," in out


def test_rewrite(draft_id: str) -> None:
    doc = ok_json("ai", "rewrite", "--draft", draft_id, "--instruction", "more casual")
    assert doc["suggestion"]["body"].startswith("Hey {{first_name}},")
    assert doc["instruction"] == "more casual"


def test_score_a_draft_a_file_and_stdin(draft_id: str, tmp_path: Path) -> None:
    draft_score = ok_json("ai", "score", "--draft", draft_id)
    assert set(draft_score) >= {"spam_risk", "reply_probability", "signals", "advice"}
    assert draft_score["signals"]["question_count"] == 1
    message = tmp_path / "offer.eml"
    message.write_text(SPAM)
    from_file = ok_json("ai", "score", "--file", str(message))
    assert from_file["signals"]["html_only"] is True
    assert from_file["signals"]["url_shorteners"] == ["bit.ly"]
    assert from_file["spam_risk"] > draft_score["spam_risk"]
    from_stdin = ok_json("ai", "score", "-", input=SPAM)
    assert from_stdin["spam_risk"] == from_file["spam_risk"]
    assert ok_json("ai", "score", "--file", "-", input=SPAM) == from_stdin
    plain = run("ai", "score", "--file", str(message)).stdout
    assert plain.startswith("spam risk") and "url_shorteners" in plain


def test_feedback_records_a_row(db, draft_id: str) -> None:
    doc = ok_json("ai", "personalize", "--draft", draft_id)
    recorded = ok_json("ai", "feedback", doc["suggestion_id"], "edited", "--note", "tweaked",
                       "--draft", draft_id)
    assert recorded["action"] == "edited" and recorded["note"] == "tweaked"
    with db.read() as session:
        row = session.get(AIFeedback, recorded["id"])
    assert row is not None and row.suggestion_id == doc["suggestion_id"]
    assert "recorded: accepted" in run("ai", "feedback", doc["suggestion_id"], "accepted").stdout
    toned = ok_json("ai", "feedback", doc["suggestion_id"], "accepted", "--tone", str(doc["tone"]),
                    "--kind", doc["operation"], "--draft", draft_id)
    assert toned["tone"] == doc["tone"] and toned["kind"] == "personalize"


def test_bad_input_exits_2(draft_id: str, tmp_path: Path) -> None:
    missing = "7b0c6a52-3f1e-4c55-9a51-2f3b8e0d9c11"
    assert error_json(2, "ai", "personalize", "--draft", missing)["code"] == "not_found"
    assert error_json(2, "ai", "personalize", "--draft", draft_id, "--tone", "loud")["field"] \
        == "tone"
    error = error_json(2, "ai", "rewrite", "--draft", draft_id, "--instruction", "in Klingon")
    assert error["field"] == "instruction" and "shorter" in error["message"]
    stale = error_json(2, "ai", "personalize", "--draft", draft_id, "--revision", "7")
    assert stale["code"] == "stale_revision"
    assert error_json(2, "ai", "score")["field"] == "draft"
    assert error_json(2, "ai", "score", "--draft", draft_id, "-")["field"] == "draft"
    assert error_json(2, "ai", "score", "--file", str(tmp_path / "nope.eml"))["field"] == "file"
    assert error_json(2, "ai", "feedback", "abc", "accepted")["field"] == "suggestion_id"
    good_id = "ab" * 32
    assert error_json(2, "ai", "feedback", good_id, "accepted", "--tone", "2")["field"] == "tone"
    assert error_json(2, "ai", "feedback", good_id, "accepted", "--kind", "summarize")["field"] == "kind"


def test_ai_failure_exits_1(draft_id: str, refused_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LUMINA_AI_BASE_URL", refused_url)
    # Ample: a refused connection is reported as unreachable, never as a timeout on a slow box.
    monkeypatch.setenv("LUMINA_AI_TIMEOUT_SECONDS", "30")
    error = error_json(1, "ai", "personalize", "--draft", draft_id)
    assert error["code"] == "ai_unreachable"
    assert "127.0.0.1" in error["message"]
    monkeypatch.setenv("LUMINA_AI_ENGINE", "offline")  # forcing offline bypasses the server
    from lumina_tui.services.runtime import reset_runtime

    reset_runtime()  # each `lumina` process reads settings once; this test is one process
    assert ok_json("ai", "personalize", "--draft", draft_id)["engine"] == "offline"
