"""The score: spam risk ranks the labelled set, every signal explains itself, MIME counts."""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any

import pytest

from lumina_tui.ai import score, score_message
from lumina_tui.ai.models import Score
from lumina_tui.ai.scoring import HEURISTIC_NOTE

LABELLED = json.loads((Path(__file__).parent / "data" / "spam_labelled.json").read_text())


def _score(email: dict[str, Any]) -> Score:
    if "raw" in email:
        return score_message(email["raw"])
    return score({"subject": email["subject"], "body": email["body"]})


def auc(positives: list[float], negatives: list[float]) -> float:
    """Probability that a random spammy email outscores a random good one (ties count half)."""
    wins = sum((p > n) + 0.5 * (p == n) for p in positives for n in negatives)
    return wins / (len(positives) * len(negatives))


def test_auc_helper() -> None:
    assert auc([0.9, 0.8], [0.1, 0.2]) == 1.0
    assert auc([0.1], [0.9]) == 0.0
    assert auc([0.5], [0.5]) == 0.5


def test_spam_risk_ranks_the_labelled_set() -> None:
    emails = LABELLED["emails"]
    assert len(emails) >= 40
    scored = [(_score(e).spam_risk, e["label"]) for e in emails]
    value = auc([s for s, label in scored if label == 1], [s for s, label in scored if label == 0])
    print(f"\nspam_risk AUC on {len(emails)} labelled emails: {value:.3f}")
    assert value >= 0.9


def test_extreme_spam_scores_higher_than_mild() -> None:
    by_severity: dict[str, list[float]] = {}
    for email in LABELLED["emails"]:
        if email["label"] == 1:
            by_severity.setdefault(email["severity"], []).append(_score(email).spam_risk)
    mean = {k: sum(v) / len(v) for k, v in by_severity.items()}
    assert mean["extreme"] > mean["mild"]


GOOD = {
    "subject": "Research time at Northwind",
    "body": (
        "Hi Dana,\n\nI noticed Northwind is hiring SDRs in Denver. Most teams we talk to spend "
        "about six hours a week per rep on prospect research, which adds up fast when you are "
        "ramping a new team.\n\nLumina cuts that time by 40% and plugs into the CRM you already "
        "use, so your reps get back to selling.\n\nWould a 20-minute call on Thursday make "
        "sense?\n\nBest,\nJordan"
    ),
}


def test_signals_of_a_good_email(prospect, company, sender) -> None:
    result = score(GOOD, prospect, company, sender)
    signals = result.signals
    assert signals.body_length == 68  # counted by hand, sign-off included
    assert signals.subject_length == len(GOOD["subject"])
    assert signals.link_count == 0
    assert signals.question_count == 1
    assert signals.spam_keywords == []
    assert 0 < signals.reading_grade < 12
    assert "first_name" in signals.personalization_fields
    assert signals.personalization >= 2
    assert result.spam_risk < 0.1
    assert 0 < result.reply_probability <= 0.6
    assert result.calibrated is False


def test_every_signal_comes_with_advice() -> None:
    result = score(GOOD)
    by_signal = {a.signal: a.message for a in result.advice}
    for signal in ("body_length", "subject_length", "reading_grade", "question_count",
                   "you_vs_i_ratio", "personalization", "link_count", "spam_keywords",
                   "spam_risk", "reply_probability"):
        assert by_signal.get(signal), signal
    assert by_signal["body_length"] == "68 words: in the 50-125 range that gets the most replies."
    assert by_signal["reply_probability"] == HEURISTIC_NOTE
    assert "calibrate" in HEURISTIC_NOTE and "heuristic" in HEURISTIC_NOTE


def test_reply_probability_prefers_short_personal_emails_with_one_question(prospect) -> None:
    long_generic = {
        "subject": "Information about our company and our services",
        "body": ("Our company provides comprehensive, enterprise-grade solutions for "
                 "organizations seeking operational optimization across multifaceted "
                 "departmental infrastructures. " * 12),
    }
    good = score(GOOD, prospect).reply_probability
    bad = score(long_generic, prospect).reply_probability
    assert good > 2 * bad


def test_spam_rules_fire_on_what_they_describe() -> None:
    result = score({
        "subject": "ACT NOW: SAVE BIG",
        "body": "Dear Friend,\n\nClick here: bit.ly/x1 and tinyurl.com/y2 for a limited time "
                "offer!!! 100% free, no obligation.",
    })
    rules = {hit.rule for hit in result.spam_rules}
    assert {"SUBJ_ALL_CAPS", "SPAM_PHRASES", "URL_SHORTENER", "EXCESS_EXCLAIM"} <= rules
    assert result.signals.url_shorteners == ["bit.ly", "tinyurl.com"]
    assert "generic salutation" in result.signals.spam_keywords
    assert result.spam_risk > 0.8
    assert any(a.signal == "url_shorteners" for a in result.advice)


def test_missing_subject_and_many_links() -> None:
    links = "\n".join(f"https://lumina.example/p{i}" for i in range(6))
    result = score({"subject": "", "body": f"Hi Dana,\n\n{links}"})
    assert result.signals.missing_subject
    assert result.signals.link_count == 6
    assert {"MISSING_SUBJECT", "MANY_LINKS"} <= {hit.rule for hit in result.spam_rules}


def test_jargon_and_banned_phrases_are_signals(sender) -> None:
    result = score({"subject": "Synergy", "body": "Let's circle back on a best-in-class "
                    "synergy next week?"}, sender=sender)
    assert result.signals.banned_phrases == ["circle back", "synergy"]
    assert "best-in-class" in result.signals.jargon
    assert any(a.signal == "jargon" for a in result.advice)


def _mime(email_id: str) -> str:
    return next(e["raw"] for e in LABELLED["emails"] if e["id"] == email_id)


def test_score_message_reads_mime_structure() -> None:
    plain = score_message(_mime("ok-plain-multipart"))
    assert not (plain.signals.html_only or plain.signals.image_only or plain.signals.parts_mismatch)
    assert plain.signals.question_count == 1
    assert plain.signals.subject_length == len("Research time at Northwind")

    html_only = score_message(_mime("spam-html-only"))
    assert html_only.signals.html_only
    assert html_only.signals.link_count == 1

    image_only = score_message(_mime("spam-image-only"))
    assert image_only.signals.image_only

    mismatch = score_message(_mime("spam-mismatched-parts"))
    assert mismatch.signals.parts_mismatch
    assert "MPART_ALT_DIFF" in {hit.rule for hit in mismatch.spam_rules}

    no_subject = score_message(_mime("spam-missing-subject-raw"))
    assert no_subject.signals.missing_subject
    assert plain.spam_risk < min(html_only.spam_risk, image_only.spam_risk, mismatch.spam_risk)


def test_score_message_accepts_bytes_and_crlf() -> None:
    raw = _mime("ok-plain-text-only-message").replace("\n", "\r\n").encode()
    result = score_message(raw)
    assert result.signals.subject_length == len("Onboarding tickets at Fernwood")
    assert result.signals.body_length > 20


def test_scoring_never_touches_the_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """textstat's English path would download NLTK data; Lumina's scorer must not even try."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("scoring opened a network connection")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    result = score({"subject": "A new subject", "body": "Brand-new words nobody scored before, "
                    "with polysyllabic vocabulary. Would that help?"})
    assert result.signals.reading_grade > 0


def test_links_and_money_are_exactly_those_find_facts_finds() -> None:
    """The score's shortcut (`find_links_and_money`) returns the very email, URL and money facts
    the full fact finder returns, on every output and context text of both grounding tables."""
    import json
    from pathlib import Path

    from lumina_tui.ai.facts import _find_facts, find_facts, find_links_and_money

    data = Path(__file__).parent / "data"
    texts: list[str] = []
    for name in ("grounding_cases.json", "grounding_meaning_cases.json"):
        table = json.loads((data / name).read_text(encoding="utf-8"))
        texts += [case["output"] for case in table["cases"]]
        texts += [table["context"]["draft"]["body"], *table["context"]["sender"]["proof_points"]]
    texts += ["Pay $2M to billing@evil.example via https://evil.example/pay?x=1 or 3 million "
              "dollars, 24/7 at www.lumina.example.", "€4.2 million and USD 300k by 3pm."]
    assert sum(1 for text in texts for f in find_links_and_money(text)) > 20
    for text in texts:
        _find_facts.cache_clear()  # each way computed afresh
        expected = tuple(f for f in find_facts(text) if f.kind in {"email", "url", "money"})
        assert find_links_and_money(text) == expected, text
