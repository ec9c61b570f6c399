"""Reading a text sentence by sentence finds exactly what reading it whole finds.

`segments.py` lets the fact finder read a long text a sentence at a time (so a suggestion's
sentences that repeat the draft's are not read twice). That is only an optimisation
if nothing changes: every text of the grounding tables (suggestions, drafts, fields, each table's
texts also joined into one long email so every sentence end is a cut) and of the spam table must
give the same facts, at the same offsets, both ways.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lumina_tui.ai import facts, segments

DATA = Path(__file__).parent / "data"


def _strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [text for item in value.values() for text in _strings(item)]
    if isinstance(value, list):
        return [text for item in value for text in _strings(item)]
    return []


def _texts() -> list[str]:
    texts: list[str] = []
    for name in ("grounding_cases.json", "grounding_meaning_cases.json"):
        table = json.loads((DATA / name).read_text(encoding="utf-8"))
        outputs = [text for case in table["cases"] for text in _strings(case.get("output"))]
        texts += outputs + _strings(table["context"])
        texts += [text for case in table["cases"]
                  for text in _strings(case.get("context_overrides"))]
        texts.append(" ".join(outputs))  # one long email: every sentence end in one text
    spam = json.loads((DATA / "spam_labelled.json").read_text(encoding="utf-8"))
    texts += _strings(spam["emails"])
    return [text for text in texts if text]


TEXTS = _texts()


@pytest.fixture
def cut_short_texts(monkeypatch: pytest.MonkeyPatch) -> None:
    """Cut every text, not only long ones: most of the tables' texts are a few sentences."""
    monkeypatch.setattr(segments, "MIN_LENGTH", 0)


def test_the_tables_are_read_in_pieces(cut_short_texts: None) -> None:
    """The check below means something: many of the texts are cut into sentences."""
    cut = [len(segments.pieces(text)) for text in TEXTS if len(segments.pieces(text)) > 1]
    assert len(cut) >= 50 and max(cut) >= 100, cut


def test_sentence_by_sentence_reads_what_the_whole_text_says(cut_short_texts: None) -> None:
    differ = [text for text in TEXTS if facts.find_facts(text) != facts._find_facts(text)]
    assert not differ


#: Texts where a careless cut would change a fact: a time zone after "p.m." or "3pm.", a date
#: after "Dec.", abbreviations before capitals. (The tables above have none of these: a cut at
#: every ". " passes them; it fails here.)
HOSTILE = [
    "We meet Dec. 14 at 3 p.m. ET in Austin.", "The call is at 3pm. ET works best for us.",
    "Revenue grew approx. 40% in Q3. Then it fell.", "Prof. Ruiz joined in Jan. 2026 as CRO.",
    "Send it by Mon. Tuesday is too late.", "We cut costs by a third. Of the 12 teams, 4 grew.",
    "It doubled. Check the 2x figure.", "Ask Dr. Kim about the $2.5M round. It closed in March.",
    "Our NPS hit 72. Salesforce reported 1,200 reps. Next week we launch.",
    "The U.S. team books 30 calls a week. E.g. Acme books 40.",
    "It is 5 a.m. EST now. We start at 9 a.m. PST.", "Meet on the 14th. Thursday works too.",
]


def test_cuts_keep_facts_that_run_past_a_point(cut_short_texts: None) -> None:
    differ = [text for text in HOSTILE if facts.find_facts(text) != facts._find_facts(text)]
    assert not differ


@pytest.mark.parametrize(("text", "whole"), [
    ("We met Dr. Ruiz at 3 p.m. ET. Then we talked.", True),
    ("Prof. Ruiz and our Snr. Director Kim agreed with Exec. Director Lee.", True),
    ("The call is at 3pm. ET works for me.", True),
    ("Revenue grew 40% last quarter. Lumina helped. Would Friday work?", False),
])
def test_cuts_only_at_sentence_ends(text: str, whole: bool) -> None:
    long_text = text + " " + "filler words here " * 12
    cut_points = segments.cuts(long_text)
    assert all(long_text[at].isupper() for at in cut_points)
    if whole:
        assert all(at > len(text) for at in cut_points), [long_text[at:at + 10] for at in cut_points]
    else:
        assert cut_points


def test_look_around_prefixes_change_no_match() -> None:
    """The date and time patterns' leading look-arounds (a speed-up) find exactly what the
    patterns find without them, on every text of the tables and their lower-cased forms."""
    import re

    pairs = [(facts.DATE_PASSES[2][1].compiled(), re.compile(facts._DATE_OTHER)),
             (facts._TIME_HINT.compiled(),
              re.compile(r"\d ?[ap]\.?m\b|\d:\d\d|noon|midnight|o'clock"))]
    for text in TEXTS:
        for sample in (text, text.lower()):
            for fast, plain in pairs:
                assert ([m.group() for m in fast.finditer(sample)]
                        == [m.group() for m in plain.finditer(sample)]), sample


def test_capital_words_are_the_word_tokens_that_start_with_a_capital() -> None:
    """Grounding's entity scan visits only capitalised words (`_CAPITAL_WORD`, found by the regex
    engine) instead of every `_WORD` token: the same tokens at the same places, on every table
    text and on random strings of the characters that decide where a token starts and ends."""
    import random

    from lumina_tui.ai import grounding

    def expected(text: str) -> list[tuple[str, int]]:
        return [(m.group(), m.start()) for m in grounding._WORD.finditer(text)
                if m.group()[0].isupper()]

    def found(text: str) -> list[tuple[str, int]]:
        return [(m["w"], m.start("w")) for m in grounding._CAPITAL_WORD.finditer(text)]

    rng = random.Random(4)
    alphabet = ["A", "b", "Cd", "3", "&", "'", "’", ".", "-", " ", "\n", "é", "É", ",", "_"]
    samples = [*TEXTS, *HOSTILE,
               *("".join(rng.choice(alphabet) for _ in range(rng.randint(0, 20)))
                 for _ in range(3000))]
    assert [text for text in samples if found(text) != expected(text)] == []
