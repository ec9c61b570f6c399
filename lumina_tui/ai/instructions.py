"""Understand the common rewrite instructions a rep types, for the offline engine.

A model can follow any instruction; the offline engine follows the ones reps use most (shorter,
longer, more formal, more casual, friendlier, add a question or a call to action, remove jargon)
and says plainly when it cannot follow one, instead of returning a suggestion that ignores it.
"""

from __future__ import annotations

import re
from typing import Literal

from .lazy_regex import LazyRegex, lazy_regex

Intent = Literal["plain", "shorter", "longer", "formal", "casual", "friendly", "question", "cta"]

#: Order in which intents are applied: cut before adding, tone last so it covers new sentences.
ORDER: tuple[Intent, ...] = (
    "plain", "shorter", "longer", "question", "cta", "formal", "casual", "friendly",
)

_PATTERNS: dict[Intent, LazyRegex] = {
    "casual": lazy_regex(
        r"\b(?:more casual|casual|relaxed|conversational|less formal|informal|laid[- ]back|"
        r"less stiff|chill(?:er)?)\b", re.IGNORECASE),
    "formal": lazy_regex(
        r"\b(?:more formal|formal|professional|polished|less casual|more respectful)\b",
        re.IGNORECASE),
    "shorter": lazy_regex(
        r"\b(?:shorter|shorten|concise|brief(?:er)?|cut|trim|tighten|condense|less wordy|"
        r"fewer words|succinct|to the point)\b", re.IGNORECASE),
    "longer": lazy_regex(
        r"\b(?:longer|lengthen|expand|elaborate|more detail(?:s|ed)?|flesh (?:it )?out|"
        r"add (?:more )?(?:context|detail))\b", re.IGNORECASE),
    "friendly": lazy_regex(
        r"\b(?:friendl(?:y|ier)|warm(?:er)?|nicer|kinder|personable|more human)\b",
        re.IGNORECASE),
    "question": lazy_regex(
        r"\b(?:add (?:a |one )?question|ask (?:a |them a )?question|end with a question|"
        r"more questions?)\b", re.IGNORECASE),
    "cta": lazy_regex(
        r"\b(?:call[- ]to[- ]action|cta|(?:add|clear|stronger|clearer) (?:an? )?(?:ask|next step|"
        r"close)|book a (?:call|meeting)|ask for (?:a )?(?:call|meeting))\b", re.IGNORECASE),
    "plain": lazy_regex(
        r"\b(?:jargon|plain (?:english|language|words)|simpler|simplify|buzzwords?|less salesy|"
        r"no buzzwords)\b", re.IGNORECASE),
}

SUPPORTED_HELP = (
    "shorter, longer, more formal, more casual, friendlier, add a question, add a call to "
    "action, remove jargon"
)


def parse_instruction(instruction: str) -> list[Intent]:
    """Intents found in the instruction, in application order; [] when none is understood."""
    found: set[Intent] = {intent for intent, pattern in _PATTERNS.items()
                          if pattern.search(instruction)}
    lowered = instruction.lower()
    # "less formal" and "informal" mention "formal"; "less casual" mentions "casual".
    if re.search(r"\bless formal\b|\binformal\b", lowered) and not re.search(
        r"\bmore formal\b", lowered
    ):
        found.discard("formal")
    if re.search(r"\bless casual\b", lowered):
        found.discard("casual")
        found.add("formal")
    if "formal" in found and "casual" in found:
        found.discard("casual" if "more formal" in lowered else "formal")
    if "shorter" in found and "longer" in found:
        found.discard("longer")
    return [intent for intent in ORDER if intent in found]


#: Words that ask for nothing by themselves ("make it a bit shorter, please"; "remove jargon").
_FILLER_TEXT = """a an and also the it its it's this that these those email mail draft message note text copy
    version make made be bit little lot more less much please pls slightly somewhat too very way so
    then but keep just can could you should would i me my to of with into up out do same plus about
    some sound feel read tone overall whole remove add use write rewrite reword rephrase give get put
    end start"""
_FILLER_WORDS = frozenset(_FILLER_TEXT.split())
_SEPARATORS = lazy_regex(
    r"\s*(?:[,;.!?|]|\band\b|\bthen\b|\bbut\b|\balso\b|\bplus\b)\s*", re.IGNORECASE
)


def unapplied_parts(instruction: str) -> list[str]:
    """The parts of an instruction that no intent covers, as the rep wrote them.

    "shorter and end with a question about Antwerp" -> ["about Antwerp"]: the engine shortens and
    adds a question, but cannot make it about Antwerp, and says so instead of pretending.
    Connecting words and framing verbs ("make it", "and", "please") are not parts of their own.
    """
    remainder = instruction
    for pattern in _PATTERNS.values():
        remainder = pattern.sub(" | ", remainder)
    parts: list[str] = []
    for fragment in _SEPARATORS.split(remainder):
        words = re.findall(r"[\w'’%$-]+", fragment)
        if any(word.lower() not in _FILLER_WORDS for word in words):
            parts.append(" ".join(fragment.split()))
    return parts
