"""The score's result types as plain dataclasses: scoring imports no pydantic.

`lumina ai score --file X --json` is a scripting verb that starts a process per message (issue 9
point 22: under 0.4 s as a whole process). The score needs none of what pydantic gives the AI's
other models (parsing untrusted model output, JSON schemas for the OpenAI request), yet importing
pydantic and building these four validators was a third of that process. So the score is built
from plain dataclasses; `models.py` re-exports them under the names every caller already uses.

What pydantic did here that still matters is kept: a float field given an int holds a float
(`round(0, 3)` is the int 0, and JSON must say 0.0 as before), and `as_json` is the
`model_dump(mode="json")` document, key for key (tests/ai/test_score_models.py compares the two).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Literal


def _floats(instance: object, *names: str) -> None:
    """Hold ints given to float fields as floats, as pydantic's validation did."""
    for name in names:
        value = getattr(instance, name)
        if type(value) is int:
            object.__setattr__(instance, name, float(value))


AdviceLevel = Literal["good", "fix", "info"]


@dataclass
class Advice:
    """One sentence a rep can act on; `level` says whether it is already right ("good"), worth
    fixing ("fix") or context ("info"), so the score card can put what needs work first."""

    signal: str
    message: str
    level: AdviceLevel = "fix"


@dataclass
class SpamRuleHit:
    """A SpamAssassin-style content rule that fired, with the points it added."""

    rule: str
    points: float
    description: str

    def __post_init__(self) -> None:
        _floats(self, "points")


@dataclass
class ScoreSignals:
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
    banned_phrases: list[str] = field(default_factory=list)
    jargon: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        _floats(self, "reading_grade", "you_vs_i_ratio", "uppercase_ratio")

    def as_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass
class Score:
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

    def __post_init__(self) -> None:
        _floats(self, "spam_risk", "reply_probability")
        if self.rule_reply_probability is not None:
            _floats(self, "rule_reply_probability")

    def as_json(self) -> dict[str, Any]:
        """The JSON document of `lumina ai score --json` and the stored score at send."""
        return dataclasses.asdict(self)
