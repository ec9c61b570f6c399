"""Sales jargon and its plain-English replacement: one list for the score card and the rewrite.

The score flags these words; the offline engine's "remove jargon" rewrite swaps them, so a rep who
follows the advice and one who clicks the rewrite end up in the same place.
"""

from __future__ import annotations

import re
from functools import lru_cache

from .lazy_regex import lazy_regex

#: jargon (lowercase, regex-safe words) -> plain replacement
JARGON: dict[str, str] = {
    "synergy": "working together",
    "synergies": "shared benefits",
    "leverage": "use",
    "leveraging": "using",
    "utilize": "use",
    "utilise": "use",
    "utilizing": "using",
    "best-in-class": "strong",
    "best in class": "strong",
    "world-class": "strong",
    "cutting-edge": "modern",
    "state-of-the-art": "modern",
    "paradigm shift": "big change",
    "circle back": "follow up",
    "touch base": "check in",
    "low-hanging fruit": "quick wins",
    "move the needle": "make a real difference",
    "bandwidth": "time",
    "seamless": "smooth",
    "seamlessly": "smoothly",
    "holistic": "complete",
    "end-to-end": "complete",
    "game-changer": "big improvement",
    "game-changing": "significant",
    "disruptive": "new",
    "actionable insights": "useful findings",
    "value-add": "benefit",
    "deep dive": "close look",
    "empower": "help",
    "empowers": "helps",
    "facilitate": "help with",
    "robust": "reliable",
    "scalable": "able to grow with you",
    "streamline": "simplify",
    "streamlines": "simplifies",
    "next-generation": "new",
    "mission-critical": "essential",
    "thought leader": "expert",
    "ecosystem": "set of tools",
    "revolutionize": "change",
    "revolutionary": "new",
    "innovative solutions": "tools",
    "turnkey": "ready-made",
    "win-win": "good for both of us",
    "pain points": "problems",
}

_PATTERN = lazy_regex(
    r"\b(" + "|".join(re.escape(k) for k in sorted(JARGON, key=len, reverse=True)) + r")\b",
    re.IGNORECASE,
)


_TERM_WORDS = {term: tuple(re.split(r"[ -]", term)) for term in JARGON}


def find_jargon(text: str) -> list[str]:
    """Jargon terms in the order they appear (lowercase, repeats kept)."""
    words = set(re.findall(r"[a-z]+", text.lower()))
    candidates = tuple(t for t, parts in _TERM_WORDS.items() if all(p in words for p in parts))
    if not candidates:
        return []  # the common case, without running the big alternation
    return [match.group(1).lower() for match in _pattern_for(candidates).finditer(text)]


@lru_cache(maxsize=256)
def _pattern_for(terms: tuple[str, ...]) -> re.Pattern[str]:
    ordered = sorted(terms, key=len, reverse=True)
    return re.compile(r"\b(" + "|".join(re.escape(t) for t in ordered) + r")\b", re.IGNORECASE)


def replace_jargon(text: str) -> str:
    """Swap every jargon term for its plain replacement, keeping a leading capital."""

    def swap(match: re.Match[str]) -> str:
        plain = JARGON[match.group(1).lower()]
        return plain[0].upper() + plain[1:] if match.group(1)[0].isupper() else plain

    return _PATTERN.sub(swap, text)
