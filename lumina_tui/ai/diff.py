"""Word-level diff between the draft and a suggestion, with character offsets for the composer.

The composer highlights what changed, so the unit is a word (a run of non-space characters), not a
character: a character diff of two phrasings is unreadable. Offsets are exact: applying the ops from
last to first to the old text gives the new text (`apply_diff`), including changes of spacing.
"""

from __future__ import annotations

import re
from itertools import accumulate
from operator import sub

try:  # difflib's algorithm compiled: the same opcodes, several times faster (pyproject.toml)
    from cydifflib import SequenceMatcher
except ImportError:  # pragma: no cover - an install without it still diffs, slower
    from difflib import SequenceMatcher

from .models import DiffOp

_SPACED_WORD = re.compile(r"\s*\S+")
#: Beyond this many changed words on both sides, the changed middle is one replace op.
MAX_MATCH_WORDS = 2_000


def _bounds(text: str) -> tuple[list[str], list[int]]:
    """Words and region starts: region i runs from starts[i] to starts[i + 1] (word + spacing).

    One scan for (spacing + word) runs; the words and their starts follow from the runs' lengths
    in C (`map`, `accumulate`): a match object per word cost more than the diff itself."""
    runs: list[str] = _SPACED_WORD.findall(text)
    words = list(map(str.lstrip, runs))
    ends = list(accumulate(map(len, runs)))
    starts = list(map(sub, ends, map(len, words)))
    if starts:
        starts[0] = 0  # leading spacing belongs to the first region
    starts.append(len(text))
    return words, starts


def _at_boundary(text: str, pos: int) -> bool:
    return pos in (0, len(text)) or text[pos - 1].isspace() or text[pos].isspace()


def _trim(old: str, new: str) -> tuple[int, int]:
    """Common prefix and suffix lengths, cut at word boundaries so an op shows whole words."""
    limit = min(len(old), len(new))
    prefix = 0
    while prefix < limit and old[prefix] == new[prefix]:
        prefix += 1
    while prefix and not (_at_boundary(old, prefix) and _at_boundary(new, prefix)):
        prefix -= 1
    suffix = 0
    while suffix < limit - prefix and old[-1 - suffix] == new[-1 - suffix]:
        suffix += 1
    while suffix and not (
        _at_boundary(old, len(old) - suffix) and _at_boundary(new, len(new) - suffix)
    ):
        suffix -= 1
    return prefix, suffix


def _op(old_text: str, new_text: str, o0: int, o1: int, n0: int, n1: int) -> DiffOp | None:
    old, new = old_text[o0:o1], new_text[n0:n1]
    if old == new:
        return None
    prefix, suffix = _trim(old, new)
    o0, o1 = o0 + prefix, o1 - suffix
    n0, n1 = n0 + prefix, n1 - suffix
    old, new = old_text[o0:o1], new_text[n0:n1]
    kind = "insert" if not old else "delete" if not new else "replace"
    return DiffOp(
        type=kind, old=old, new=new, old_start=o0, old_end=o1, new_start=n0, new_end=n1
    )


def word_diff(old_text: str, new_text: str) -> list[DiffOp]:
    """Ops in order of position; an unchanged text gives an empty list."""
    if old_text == new_text:
        return []
    old_words, old_starts = _bounds(old_text)
    new_words, new_starts = _bounds(new_text)
    if not old_words or not new_words:
        op = _op(old_text, new_text, 0, len(old_text), 0, len(new_text))
        return [op] if op else []
    ops: list[DiffOp] = []
    for tag, i1, i2, j1, j2 in _opcodes(old_words, new_words):
        if tag == "equal":
            # Same words; spacing after them may still differ (a new paragraph break, say).
            # Most runs are identical, spacing included: one comparison instead of one per word.
            if (old_text[old_starts[i1]:old_starts[i2]]
                    == new_text[new_starts[j1]:new_starts[j2]]):
                continue
            for k in range(i2 - i1):
                op = _op(
                    old_text, new_text,
                    old_starts[i1 + k], old_starts[i1 + k + 1],
                    new_starts[j1 + k], new_starts[j1 + k + 1],
                )
                if op:
                    ops.append(op)
            continue
        op = _op(old_text, new_text, old_starts[i1], old_starts[i2], new_starts[j1], new_starts[j2])
        if op:
            ops.append(op)
    return _merge_touching(old_text, new_text, ops)


def _opcodes(old: list[str], new: list[str]) -> list[tuple[str, int, int, int, int]]:
    """SequenceMatcher opcodes, after trimming the common head and tail in linear time.

    SequenceMatcher without autojunk is quadratic on long, repetitive text; a suggestion usually
    changes a few places in an email, so most words are in the shared head and tail. A middle
    still larger than MAX_MATCH_WORDS squared is reported as one replacement.
    """
    n, m = len(old), len(new)
    head = 0
    while head < min(n, m) and old[head] == new[head]:
        head += 1
    tail = 0
    while tail < min(n, m) - head and old[n - 1 - tail] == new[m - 1 - tail]:
        tail += 1
    codes: list[tuple[str, int, int, int, int]] = []
    if head:
        codes.append(("equal", 0, head, 0, head))
    middle_old, middle_new = old[head : n - tail], new[head : m - tail]
    if middle_old or middle_new:
        if len(middle_old) * len(middle_new) > MAX_MATCH_WORDS**2:
            codes.append(("replace", head, n - tail, head, m - tail))
        else:
            matcher = SequenceMatcher(None, middle_old, middle_new, autojunk=False)
            codes += [
                (tag, i1 + head, i2 + head, j1 + head, j2 + head)
                for tag, i1, i2, j1, j2 in matcher.get_opcodes()
            ]
    if tail:
        codes.append(("equal", n - tail, n, m - tail, m))
    return codes


def _merge_touching(old_text: str, new_text: str, ops: list[DiffOp]) -> list[DiffOp]:
    """Ops that touch in both texts become one ("fox" + " jumps" is one insert, not two)."""
    merged: list[DiffOp] = []
    for op in ops:
        last = merged[-1] if merged else None
        if last and last.old_end == op.old_start and last.new_end == op.new_start:
            o0, o1, n0, n1 = last.old_start, op.old_end, last.new_start, op.new_end
            old, new = old_text[o0:o1], new_text[n0:n1]
            kind = "insert" if not old else "delete" if not new else "replace"
            merged[-1] = DiffOp(
                type=kind, old=old, new=new, old_start=o0, old_end=o1, new_start=n0, new_end=n1
            )
        else:
            merged.append(op)
    return merged


def apply_diff(old_text: str, ops: list[DiffOp]) -> str:
    """Rebuild the new text from the old one; the composer can apply a suggestion op by op."""
    text = old_text
    for op in reversed(ops):
        text = text[: op.old_start] + op.new + text[op.old_end :]
    return text
