"""The score's dataclasses (ai/score_models.py) give the JSON the pydantic models gave, key for key
and type for type, so `lumina ai score --json`, the stored score at send and the API do not change.

The pydantic models below are the ones the score had before (copied from ai/models.py as it was):
each score of the labelled set, of hostile and edge-case texts and of random text is dumped both
ways and compared as JSON text (so 0 and 0.0 differ).
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Literal

from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ConfigDict, Field

from lumina_tui.ai import score, score_message
from lumina_tui.ai.models import CompanyInput, ProspectInput, SenderProfile
from lumina_tui.ai.score_models import Score

LABELLED = json.loads((Path(__file__).parent / "data" / "spam_labelled.json").read_text())


class _Model(BaseModel):
    model_config = ConfigDict(defer_build=True)


class Advice(_Model):
    """One sentence a rep can act on; `level` says whether it is already right ("good"), worth
    fixing ("fix") or context ("info"), so the score card can put what needs work first."""

    signal: str
    message: str
    level: Literal["good", "fix", "info"] = "fix"


class SpamRuleHit(_Model):
    """A SpamAssassin-style content rule that fired, with the points it added."""

    rule: str
    points: float
    description: str


class ScoreSignals(_Model):
    subject_length: int
    subject_words: int
    body_length: int
    link_count: int
    spam_keywords: list[str]
    reading_grade: float
    question_count: int
    you_vs_i_ratio: float
    you_count: int
    i_we_count: int
    personalization: int
    personalization_fields: list[str]
    exclamation_count: int
    uppercase_ratio: float
    all_caps_subject: bool
    missing_subject: bool
    url_shorteners: list[str]
    html_only: bool = False
    image_only: bool = False
    parts_mismatch: bool = False
    banned_phrases: list[str] = Field(default_factory=list)
    jargon: list[str] = Field(default_factory=list)


class PydanticScore(_Model):
    """Advisory pre-send lint: two numbers, the signals behind them and what to do about each."""

    spam_risk: float
    reply_probability: float
    signals: ScoreSignals
    advice: list[Advice]
    spam_rules: list[SpamRuleHit]
    #: True when `reply_probability` comes from the workspace's own calibration (services.learning),
    #: which the service layer applies; `rule_reply_probability` then keeps the built-in rule's value
    #: (the calibration's input, so a later refit never learns from its own output).
    calibrated: bool = False
    rule_reply_probability: float | None = None


def _same_json(result: Score) -> None:
    ours = result.as_json()
    theirs = PydanticScore.model_validate(ours).model_dump(mode="json")
    assert json.dumps(ours) == json.dumps(theirs)


def test_the_labelled_set_dumps_as_the_pydantic_models_did() -> None:
    for email in LABELLED["emails"]:
        if "raw" in email:
            _same_json(score_message(email["raw"]))
        else:
            _same_json(score({"subject": email["subject"], "body": email["body"]}))


EDGE_CASES = [
    ("", ""),
    ("Hi", "ok"),  # fewer than 40 letters: the uppercase ratio is the int 0 before it is held
    ("FREE MONEY!!!", "CLICK NOW http://bit.ly/x http://tinyurl.com/y WIN WIN WIN"),
    ("Quick question", "Hi Dana,\n\nYou and your team: would you like a call? I think we could help."),
    ("Re: synergy", "Let's circle back on a best-in-class paradigm shift. \u202eevil\u202c \x1b[2J"),
]


def test_edge_cases_with_every_input_dump_as_before() -> None:
    prospect = ProspectInput(first_name="Dana", last_name="Whitfield", company="Northwind",
                             title="VP Sales")
    company = CompanyInput(name="Northwind", industry="Logistics")
    sender = SenderProfile(banned_phrases=("circle back",))
    for subject, body in EDGE_CASES:
        _same_json(score({"subject": subject, "body": body}))
        _same_json(score({"subject": subject, "body": body}, prospect, company, sender,
                         html=f"<p>{body}</p><img src='x.png'>"))
        raw = f"Subject: {subject}\r\nContent-Type: text/html\r\n\r\n<p>{body}</p>"
        _same_json(score_message(raw.encode("utf-8", "replace")))


def test_a_calibrated_copy_dumps_as_before() -> None:
    result = score({"subject": "Quick question", "body": "Hi Dana, would a call help?"})
    calibrated = dataclasses.replace(result, reply_probability=1, rule_reply_probability=0,
                                     calibrated=True)
    assert isinstance(calibrated.reply_probability, float)
    _same_json(calibrated)


@settings(max_examples=60, deadline=None)
@given(subject=st.text(max_size=60), body=st.text(max_size=400))
def test_random_text_dumps_as_before(subject: str, body: str) -> None:
    _same_json(score({"subject": subject, "body": body}))
