"""Read a long text sentence by sentence, so a sentence already read is not read again.

A suggestion keeps most of the rep's sentences (the prompt asks the model to: rule 3), so the
grounding check of a suggestion reads, sentence for sentence, what reading the draft's facts just
read; and a rep's next request on the same draft changes a sentence or two. The fact finder is a
pure function of its text, memoised per text: given a sentence at a time instead of the whole
body, its memo answers for every sentence read before, and only the new ones cost anything.

That is exact only where no pattern can match across the cut. The cut is made after a sentence's
end: `.`, `!` or `?` right after two lower-case letters, then white space, then a capital letter
("... already done. Lumina cuts ..."). No fact or title pattern joins words across ". " and a
capital (they join words with white space only, or need a digit after the point: "Dec. 14"),
and what the cut leaves out (a capital after "Dr." or "Mr.", "p.m. ET", "Prof. Ruiz") is not a
cut: the letters before the point must be lower case and the word not one of `_NOT_AN_END`
(titles and times; the title reader reads whole texts today, but the cut stays safe for it).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

#: A sentence end followed by a capital: the candidates, checked in `cuts` (a pattern that starts
#: with the punctuation lets the regex engine skip straight to it).
_END = re.compile(r"[.!?][ \t\r\n]+(?=[A-Z])")
#: Abbreviations ending in two lower-case letters that a title or a time continues after.
_NOT_AN_END = frozenset({"prof", "snr", "exec", "dra", "am", "pm"})
#: Shorter texts are read whole: cutting costs more than it can save.
MIN_LENGTH = 200


def cuts(text: str) -> list[int]:
    """Where `text` may be cut (each the start of a sentence), in order."""
    found: list[int] = []
    for match in _END.finditer(text):
        end = match.start()
        if end < 2 or not (text[end - 1].islower() and text[end - 2].islower()
                           and text[end - 1].isascii() and text[end - 2].isascii()):
            continue
        word_start = end
        while word_start > 0 and text[word_start - 1].isalpha():
            word_start -= 1
        if text[word_start:end].lower() in _NOT_AN_END:
            continue
        found.append(match.end())
    return found


def pieces(text: str) -> list[tuple[int, str]]:
    """`text` as (offset, sentence) pieces; the whole text when it is short or has no cut."""
    if len(text) < MIN_LENGTH:
        return [(0, text)]
    starts = [0, *cuts(text)]
    ends = [*starts[1:], len(text)]
    return [(start, text[start:end]) for start, end in zip(starts, ends, strict=True)]


def by_sentence(text: str, read: Callable[[str], tuple[T, ...]],
                moved: Callable[[T, int], T]) -> tuple[T, ...]:
    """`read(text)`, computed sentence by sentence: `read` of each piece (memoised by the caller),
    each result `moved` by its piece's offset. Results stay in order of position."""
    parts = pieces(text)
    if len(parts) == 1:
        return read(text)
    found: list[T] = []
    for offset, piece in parts:
        found += [moved(item, offset) for item in read(piece)] if offset else read(piece)
    return tuple(found)
