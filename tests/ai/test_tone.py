"""The formality heuristic orders emails the way a reader would."""

from __future__ import annotations

from lumina_tui.ai.tone import measure_tone, tone_label

FORMAL = (
    "Dear Ms. Okafor,\n\nI am writing regarding your vendor reviews. I would be grateful for the "
    "opportunity to discuss whether our platform could assist your team.\n\nKind regards,\n"
    "Margaret Lin"
)
NEUTRAL = (
    "Hi Dana,\n\nI noticed Northwind is hiring SDRs in Denver. Most teams we talk to spend six "
    "hours a week per rep on research.\n\nWould a short call on Thursday make sense?\n\nBest,\n"
    "Jordan"
)
CASUAL = (
    "Hey Sam!\n\nSaw you're hiring, congrats! We'd love to help, no worries if it's not a fit "
    "though.\n\nUp for a quick chat?\n\nCheers,\nAli"
)


def test_formal_neutral_casual_are_ordered() -> None:
    formal, neutral, casual = measure_tone(FORMAL), measure_tone(NEUTRAL), measure_tone(CASUAL)
    assert formal < 0.25 < neutral < 0.75 < casual
    assert tone_label(formal) == "formal"
    assert tone_label(neutral) == "neutral"
    assert tone_label(casual) == "casual"


def test_empty_text_is_neutral() -> None:
    assert measure_tone("") == 0.5
