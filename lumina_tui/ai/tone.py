"""Measure how casual an email reads, on the composer's tone scale (formal 0.0 .. casual 1.0).

A small, explainable formality heuristic rather than a model, so `tone_match` means the same thing
on every machine and the offline engine can be tested against it. Evidence, each capped so one
feature cannot decide alone:
- contractions ("we're", "don't") push casual; their spelled-out forms ("we are") push formal;
- the greeting ("Hey" casual, "Hi" slightly casual, "Hello" slightly formal, "Dear" formal);
- the sign-off ("Cheers" casual, "Best" neutral, "Kind regards"/"Sincerely" formal);
- exclamation marks and emoticons push casual;
- casual words and hedges ("awesome", "just", "quick chat", "no worries") vs formal ones
  ("kindly", "regarding", "I would be grateful", "at your earliest convenience");
- long sentences read formal, short ones casual.
The sum goes through a logistic curve, so a plain email with none of these lands near 0.5.
"""

from __future__ import annotations

import math
import re

from .lazy_regex import lazy_regex

# The word lists below match lower-cased text (tone_features lowers it once): four
# case-insensitive scans of a 300-word body cost four times as much (bench/bench_ai.py).
CONTRACTION = lazy_regex(
    r"\b(?:i'm|i've|i'll|i'd|you're|you've|you'll|you'd|we're|we've|we'll|we'd|they're|they've|"
    r"they'll|it's|that's|there's|here's|what's|who's|how's|let's|he's|she's|"
    r"don't|doesn't|didn't|can't|won't|wouldn't|couldn't|shouldn't|isn't|aren't|wasn't|"
    r"weren't|haven't|hasn't|hadn't)\b",
)
EXPANDED = lazy_regex(
    r"\b(?:i am|i have|i will|i would|you are|you have|you will|you would|we are|we have|we will|"
    r"we would|they are|it is|that is|there is|here is|let us|do not|does not|did not|cannot|"
    r"can not|will not|would not|could not|should not|is not|are not|was not|were not|"
    r"have not|has not)\b",
)
CASUAL_WORDS = lazy_regex(
    r"\b(?:awesome|cool|super|totally|gonna|wanna|kinda|sorta|yeah|yep|nope|folks|guys|stuff|"
    r"a ton|figured|pretty much|quick chat|chat|ping|shoot me|grab|no worries|btw|fyi|lol|"
    r"just|maybe|love to|happy to|heads up|quick one|catch up|swing by|worth a|up for)\b",
)
FORMAL_WORDS = lazy_regex(
    r"\b(?:kindly|regarding|pursuant|furthermore|moreover|therefore|hence|thus|whereas|"
    r"accordingly|sincerely|respectfully|i would be grateful|please find|do not hesitate|"
    r"at your earliest convenience|i am writing|i would like to|assist|inquire|request|"
    r"appreciate|conversation|discuss|endeavou?r|commence|utili[sz]e|in your capacity|"
    r"perhaps|would you be available|would be pleased|thank you for your time)\b",
)
EMOTICON = lazy_regex(r"(?::\)|:-\)|;\)|:D|[\U0001F300-\U0001FAFF\u2600-\u27BF])")
GREETING = lazy_regex(
    r"^\s*(?P<word>hey there|hey|hiya|yo|hi there|hi|hello|dear|good (?:morning|afternoon|evening)"
    r"|greetings)\b",
    re.IGNORECASE,
)
GREETING_WEIGHT = {
    "hey": 1.2, "hey there": 1.2, "hiya": 1.2, "yo": 1.4, "hi": 0.3, "hi there": 0.4,
    "hello": -0.4, "dear": -1.3, "greetings": -0.8,
    "good morning": -0.7, "good afternoon": -0.7, "good evening": -0.7,
}
SIGN_OFF = lazy_regex(
    r"^\s*(?P<word>cheers|thanks!|thanks so much|talk soon|catch you later|take care|"
    r"all the best|best regards|kind regards|warm regards|regards|sincerely|respectfully|"
    r"yours (?:truly|sincerely|faithfully)|yours|thank you|thanks|best|warmly)\b",
    re.IGNORECASE | re.MULTILINE,
)
SIGN_OFF_WEIGHT = {
    "cheers": 0.9, "thanks!": 0.9, "thanks so much": 0.7, "talk soon": 0.8,
    "catch you later": 1.0, "take care": 0.5, "all the best": 0.0, "thanks": 0.3, "best": 0.0,
    "warmly": 0.2, "best regards": -0.8, "kind regards": -0.9, "warm regards": -0.6,
    "regards": -0.8, "sincerely": -1.2, "respectfully": -1.2, "yours truly": -1.1,
    "yours sincerely": -1.3, "yours faithfully": -1.3, "yours": -0.8, "thank you": -0.4,
}
_SENTENCE = lazy_regex(r"[^.!?\n]+[.!?]?")
_WORD = lazy_regex(r"[A-Za-z0-9']+")

def _clip(value: float, limit: float) -> float:
    return max(-limit, min(limit, value))


def tone_features(text: str) -> dict[str, float]:
    """Signed contribution of each kind of evidence (negative = formal, positive = casual)."""
    text = text.replace("\u2019", "'")
    lower = text.lower()
    lines = [line for line in text.splitlines() if line.strip()]
    features: dict[str, float] = {}
    features["contractions"] = _clip(
        0.35 * len(CONTRACTION.findall(lower)) - 0.35 * len(EXPANDED.findall(lower)), 2.5
    )
    greeting = GREETING.match(lines[0]) if lines else None
    features["greeting"] = GREETING_WEIGHT.get(greeting["word"].lower(), 0.0) if greeting else 0.0
    sign_off = 0.0
    for line in lines[-4:]:
        if len(line.split()) <= 4:
            match = SIGN_OFF.match(line)
            if match:
                word = match["word"].lower()
                if word == "thanks" and line.strip().endswith("!"):
                    word = "thanks!"
                sign_off = SIGN_OFF_WEIGHT.get(word, 0.0)
    features["sign_off"] = sign_off
    features["exclamations"] = min(1.6, 0.4 * text.count("!"))
    features["emoticons"] = min(1.2, 0.6 * len(EMOTICON.findall(text)))
    features["words"] = _clip(
        0.45 * len(CASUAL_WORDS.findall(lower)) - 0.5 * len(FORMAL_WORDS.findall(lower)), 2.0
    )
    # Greeting, sign-off and name lines are not sentences; only real ones say how the rep writes.
    lengths = [n for n in (len(_WORD.findall(s)) for s in _SENTENCE.findall(text)) if n >= 3]
    if lengths:
        average = sum(lengths) / len(lengths)
        features["sentence_length"] = _clip((14.0 - average) / 10.0, 0.8)
    else:
        features["sentence_length"] = 0.0
    return features


def measure_tone(text: str) -> float:
    """0.0 reads formal, 1.0 reads casual; an email with no evidence either way reads 0.5."""
    if not text.strip():
        return 0.5
    total = sum(tone_features(text).values())
    return round(1.0 / (1.0 + math.exp(-total / 1.3)), 3)


def tone_label(tone: float) -> str:
    """The word the composer shows next to the slider."""
    if tone < 0.34:
        return "formal"
    if tone > 0.66:
        return "casual"
    return "neutral"
