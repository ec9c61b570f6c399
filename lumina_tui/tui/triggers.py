"""When the composer asks the AI by itself, and what it offers to ask.

A personalize starts without a key press only after a *meaningful* context change: another
prospect, or a subject or body that changed substantially since the last suggestion — measured
after a pause in typing, never per keystroke. The measure is a cheap word-multiset similarity
(difflib's `quick_ratio`, linear in the text), good enough to tell "fixed a typo" from "rewrote
the pitch".
"""

from __future__ import annotations

from dataclasses import dataclass
from difflib import SequenceMatcher

#: Offered by ctrl+r (Rewrite); the rep can also type their own instruction.
COMMON_INSTRUCTIONS: tuple[str, ...] = (
    "shorter",
    "more formal",
    "more casual",
    "friendlier",
    "add a question",
    "remove jargon",
)

#: A body this much different (1 - similarity) from the last suggestion's is a new context.
CHANGE_RATIO = 0.2
#: …or this many words added or removed, whatever the length.
CHANGE_WORDS = 25
MIN_WORDS = 3


@dataclass(frozen=True, slots=True)
class SuggestionBasis:
    """What the last suggestion was made for (or what was open when the draft was loaded)."""

    prospect_id: str | None
    subject: str
    body: str


def word_change(old: str, new: str) -> tuple[float, int]:
    """(1 - similarity of the two word multisets, words that differ)."""
    old_words, new_words = old.split(), new.split()
    if not old_words and not new_words:
        return 0.0, 0
    matcher = SequenceMatcher(None, old_words, new_words, autojunk=False)
    ratio = matcher.quick_ratio()
    common = round(ratio * (len(old_words) + len(new_words)) / 2)
    differing = len(old_words) + len(new_words) - 2 * common
    return 1.0 - ratio, differing


def is_meaningful_change(before: SuggestionBasis, now: SuggestionBasis) -> bool:
    """Another prospect, or a subject/body changed substantially; empty drafts never qualify."""
    if len(now.body.split()) < MIN_WORDS or now.prospect_id is None:
        return False
    if now.prospect_id != before.prospect_id:
        return True
    ratio, differing = word_change(before.body, now.body)
    if ratio >= CHANGE_RATIO or differing >= CHANGE_WORDS:
        return True
    subject_ratio, _ = word_change(before.subject, now.subject)
    return subject_ratio >= 0.5 and bool(now.subject.strip())
