"""The offline engine never hides a gap behind a broken sentence, and says what it did not do.

The issue's case: the demo's "Hook: recent initiative" template for a prospect with no location and
no ERP turned "{{location}}" into "your area" and dropped "{{erp}}" ("… without replacing."), at
confidence 0.98. A rewrite understood only in part ("shorter and end with a question about
Antwerp") returned a suggestion with no word about "Antwerp".
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from lumina_tui.ai import personalize, rewrite
from lumina_tui.ai.instructions import unapplied_parts
from lumina_tui.ai.models import DraftInput

TEMPLATES = Path(__file__).resolve().parents[2] / "assets" / "demo" / "templates.toml"
HOOK = next(
    t for t in tomllib.loads(TEMPLATES.read_text(encoding="utf-8"))["template"]
    if t["name"] == "Hook: recent initiative"
)
DRAFT = DraftInput(subject=HOOK["subject"], body=HOOK["body"].strip("\n"))
ANA = {
    "first_name": "Ana", "last_name": "Okafor", "company": "Brightwave Logistics",
    "job_title": "VP Operations",
    "custom_fields": {"recent_initiative": "opened a second cross-dock hub near Antwerp"},
}
BRIGHTWAVE = {"name": "Brightwave Logistics", "industry": "Logistics"}  # no location, no ERP
SENDER = {"sender_name": "Sam Rivera", "company_name": "Lumina"}


def test_a_missing_field_keeps_its_sentence_whole_or_its_placeholder_and_costs_confidence() -> None:
    suggestion = personalize(DRAFT, ANA, BRIGHTWAVE, SENDER)
    body = suggestion.suggestion.body or ""
    assert "without replacing {{erp}}." in body  # kept, never "without replacing."
    assert not re.search(r"\b(?:replacing|in|with|of|at)[.,]", body)
    assert "operations teams in your area and elsewhere" in body  # a whole sentence
    assert suggestion.unfilled_fields == ["location", "erp"]
    assert any("location" in note and "your area" in note for note in suggestion.notes)
    assert any("{{erp}}" in note for note in suggestion.notes)
    assert suggestion.confidence <= 0.35


def test_a_stand_in_alone_lowers_the_confidence_and_is_named() -> None:
    company = {**BRIGHTWAVE}
    prospect = {**ANA, "custom_fields": {**ANA["custom_fields"], "erp": "SAP"}}
    suggestion = personalize(DRAFT, prospect, company, SENDER)
    assert "without replacing SAP." in (suggestion.suggestion.body or "")
    assert suggestion.unfilled_fields == ["location"]
    assert suggestion.confidence <= 0.6
    complete = personalize(DRAFT, prospect, {**company, "location": "Rotterdam"}, SENDER)
    assert complete.notes == [] and complete.unfilled_fields == []
    assert complete.confidence > suggestion.confidence


def test_a_rewrite_understood_in_part_says_what_it_did_not_do() -> None:
    draft = DraftInput(
        subject="Reporting",
        body=(
            "Hi Ana,\n\nI hope you are well. I saw that Brightwave opened a second hub. Teams like "
            "yours usually add new numbers someone tracks by hand for a few months, which is a "
            "lot of work that could go elsewhere.\n\nWe keep that reporting automatic from day "
            "one, without replacing SAP.\n\nBest,\nSam"
        ),
    )
    suggestion = rewrite(draft, "shorter and end with a question about Antwerp", ANA, BRIGHTWAVE)
    assert suggestion.not_applied == ["about Antwerp"]
    assert len(suggestion.notes) == 1 and "about Antwerp" in suggestion.notes[0]
    assert suggestion.confidence <= 0.6
    whole = rewrite(draft, "make it shorter", ANA, BRIGHTWAVE)
    assert whole.not_applied == [] and whole.notes == []


def test_unapplied_parts_ignore_framing_words() -> None:
    assert unapplied_parts("Make it a bit shorter, please!") == []
    assert unapplied_parts("remove jargon, plain English") == []
    assert unapplied_parts("more formal and mention our 40% result") == ["mention our 40% result"]


def test_a_missing_name_is_left_out_only_where_the_sentence_stays_whole() -> None:
    draft = DraftInput(
        subject="{{first_name}}, a question",
        body="Hi {{first_name}},\n\nI told {{first_name}} about the hub.\n\nThanks, {{first_name}}.\n\nSam",
    )
    suggestion = personalize(draft, {"company": "Acme"}, {}, SENDER)
    body = suggestion.suggestion.body or ""
    assert suggestion.suggestion.subject == "A question"
    assert body.startswith("Hi there,")
    assert "I told {{first_name}} about the hub." in body  # never "I told about the hub."
    assert "Thanks." in body
    assert suggestion.unfilled_fields == ["first_name"]
    assert any("without it" in note for note in suggestion.notes)
    assert suggestion.confidence <= 0.35
