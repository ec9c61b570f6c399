"""input_hash ignores what a rep cannot see; request_key covers everything; the diff is exact."""

from __future__ import annotations

import itertools
import random
import unicodedata

from lumina_tui.ai.diff import apply_diff, word_diff
from lumina_tui.ai.hashing import hash_draft, normalize_text, request_key


def test_hash_draft_ignores_invisible_differences() -> None:
    body = "Hi Dana,\n\nCafé at Northwind?\n\nBest,\nJordan"
    variants = [
        body.replace("\n", "\r\n"),
        body.replace("\n", "   \n").replace("Dana,", "Dana,\t"),
        unicodedata.normalize("NFD", body),
    ]
    expected = hash_draft("Subject", body, "p-1")
    for variant in variants:
        assert variant != body
        assert hash_draft("Subject", variant, "p-1") == expected
    assert normalize_text("a  \r\nb\t\rc") == "a\nb\nc"


def test_hash_draft_changes_with_content_and_prospect() -> None:
    base = hash_draft("Subject", "Body", "p-1")
    assert hash_draft("Subject", "Body.", "p-1") != base
    assert hash_draft("Subject!", "Body", "p-1") != base
    assert hash_draft("Subject", "Body", "p-2") != base
    # Subject and body are hashed as separate fields, not concatenated.
    assert hash_draft("ab", "c", None) != hash_draft("a", "bc", None)


def test_request_key_covers_every_input() -> None:
    inputs = {"draft": {"subject": "S", "body": "B"}, "prospect": {"first_name": "Dana"}}
    base = dict(operation="personalize", tone=0.5, instruction=None, inputs=inputs,
                engine="offline", model="m", prompt_version="v1")
    key = request_key(**base)
    assert request_key(**base) == key
    changed = [
        {"tone": 0.0}, {"operation": "rewrite"}, {"instruction": "shorter"},
        {"engine": "openai"}, {"model": "m2"}, {"prompt_version": "v2"},
        {"inputs": {**inputs, "prospect": {"first_name": "Dan"}}},
        {"inputs": {**inputs, "company": {"name": "Northwind"}}},
    ]
    keys = {request_key(**{**base, **change}) for change in changed}
    assert key not in keys
    assert len(keys) == len(changed)


def test_diff_ops_are_word_level_with_exact_offsets() -> None:
    old = "Hi {{first_name}},\n\nWe help teams book meetings."
    new = "Hi Dana,\n\nWe help sales teams book more meetings."
    ops = word_diff(old, new)
    assert [(op.type, op.old, op.new) for op in ops] == [
        ("replace", "{{first_name}},", "Dana,"),
        ("insert", "", "sales "),
        ("insert", "", "more "),
    ]
    for op in ops:
        assert old[op.old_start:op.old_end] == op.old
        assert new[op.new_start:op.new_end] == op.new
    assert apply_diff(old, ops) == new
    assert word_diff(old, old) == []


def test_diff_reports_spacing_only_changes() -> None:
    ops = word_diff("One. Two.", "One.\n\nTwo.")
    assert [(op.type, op.old, op.new) for op in ops] == [("replace", " ", "\n\n")]


def test_apply_diff_rebuilds_any_text() -> None:
    rnd = random.Random(4)
    words = ["Hi", "Dana,", "we", "help", "teams", "book", "meetings.", "Best,", "Jordan", "?"]
    for _ in range(1500):
        old = "".join(rnd.choice(words) + rnd.choice([" ", "\n", "  ", "\n\n"])
                      for _ in range(rnd.randint(0, 14)))
        new = "".join(rnd.choice(words) + rnd.choice([" ", "\n", "  ", "\n\n"])
                      for _ in range(rnd.randint(0, 14)))
        ops = word_diff(old, new)
        assert apply_diff(old, ops) == new
        assert all(a.old_end <= b.old_start for a, b in itertools.pairwise(ops))


def test_long_repetitive_texts_stay_exact() -> None:
    """SequenceMatcher is quadratic on repetitive text; the diff trims shared head and tail and
    still rebuilds the new text exactly (a pasted 9,000-word body must not hang the composer)."""
    old = "We help teams. " * 3000
    new = "Hi Dana,\n\n" + old.replace("teams.", "sales teams.", 1) + "Would that help?"
    ops = word_diff(old, new)
    assert apply_diff(old, ops) == new
    assert len(ops) <= 4
    swapped = word_diff("x " * 3000, "y " * 3000)
    assert [op.type for op in swapped] == ["replace"]
    assert apply_diff("x " * 3000, swapped) == "y " * 3000


def test_compiled_matcher_gives_difflibs_opcodes() -> None:
    """The word diff uses cydifflib for speed; it must align words exactly as difflib does."""
    import difflib

    from lumina_tui.ai import diff

    assert diff.SequenceMatcher is not difflib.SequenceMatcher  # the compiled one is installed
    rnd = random.Random(22)
    words = ["Hi", "Dana,", "the", "and", "teams", "book", "meetings.", "{{company}}", "a"]
    for _ in range(800):
        old = [rnd.choice(words) for _ in range(rnd.randint(0, 90))]
        new = [rnd.choice(words) for _ in range(rnd.randint(0, 90))]
        assert (diff.SequenceMatcher(None, old, new, autojunk=False).get_opcodes()
                == difflib.SequenceMatcher(None, old, new, autojunk=False).get_opcodes())


def test_word_bounds_are_the_words_and_their_starts() -> None:
    """`_bounds` (one scan, lengths summed in C) gives exactly the \\S+ words and their starts,
    whatever the spacing: tabs, new lines, no-break and other Unicode spaces, control spaces."""
    import random
    import re

    from lumina_tui.ai.diff import _bounds

    pieces = ["a", "bc", " ", "  ", "\n", "\t", "\u00a0", "\u2003", "x\u200b", "é", "\x1c", "{{x}}"]
    rng = random.Random(15)
    for _ in range(3000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 25)))
        starts = [match.start() for match in re.finditer(r"\S+", text)]
        if starts:
            starts[0] = 0
        assert _bounds(text) == (re.findall(r"\S+", text), [*starts, len(text)]), repr(text)
