"""textstat without NLTK: the same reading grade, no stand-in left behind, NLTK still importable."""

from __future__ import annotations

import json
import subprocess
import sys

TEXT = ("Hi Dana. I noticed Northwind Logistics is hiring SDRs in Denver. Would a twenty-minute "
        "call on Thursday make sense for your revenue operations team?")

LUMINA_WAY = f"""
import json, sys
from lumina_tui.ai import readability
grade = readability.textstat().flesch_kincaid_grade({TEXT!r})
words = readability.resource("resources/en/easy_words.txt").read_text(encoding="utf-8")
nltk_after_textstat = "nltk" in sys.modules
import nltk  # the real one, on demand
print(json.dumps([grade, len(words.split()), nltk_after_textstat, hasattr(nltk, "corpus"),
                  type(nltk).__name__]))
"""

PLAIN_WAY = f"""
import json
from textstat.textstat import textstatistics
stats = textstatistics()
stats.set_lang("en-US")
print(json.dumps(stats.flesch_kincaid_grade({TEXT!r})))
"""


def _run(code: str) -> object:
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, check=True)
    return json.loads(done.stdout)


def test_reading_grade_is_textstats_own_without_loading_nltk() -> None:
    grade, word_count, nltk_loaded, real_nltk, module_type = _run(LUMINA_WAY)
    assert grade == _run(PLAIN_WAY)
    assert word_count > 2000  # the Dale-Chall list grounding uses
    assert nltk_loaded is False
    assert real_nltk is True and module_type == "module"


#: Texts whose grade must not move: sentences long and short (textstat ignores "sentences" of two
#: words or fewer), contractions, hyphens, digits, accents, a URL, repeated words (the syllable
#: memo), a wall without punctuation, only punctuation, a single word, and an empty text.
GRADE_TABLE = [
    TEXT,
    "",
    "Hi.",
    "Thanks!",
    "...?!",
    "Unbelievably",
    "Hi Dana. Best. Jordan.",
    "I'm sure you're busy, so I'll keep it short: we'd love to show you what's possible.",
    "Our state-of-the-art, end-to-end platform re-imagines follow-ups for mid-market teams.",
    "Lumina cuts research time by 40% and plugs into Salesforce; Ramp books 1,200 meetings a "
    "quarter with it. See https://lumina.example/case-studies/ramp for details.",
    "Revolutionary organizational infrastructure unquestionably accelerates interdepartmental "
    "communication, notwithstanding considerable implementation responsibilities.",
    "Go. Go now. We go. You go too, and they go with us to the big red barn by the old mill.",
    "Congrats on the Zürich office — the café opening looked wonderful. Señor García agreed.",
    "no punctuation at all just a long run of words that never seems to end and keeps going on "
    "and on without a single stop for the reader to take a breath or think about anything",
    "Research research research. Research time is research time, and research matters. " * 5,
    "Hi Dana,\n\nQuick one: would a 20-minute call on Thursday work?\n\nBest,\nJordan",
]


def test_remembered_syllables_give_textstats_exact_grade() -> None:
    """`readability.flesch_kincaid_grade` (textstat's counts, syllables remembered per word) is
    the number textstat itself computes, to the last bit, on every text of the table, on the
    first call and on a repeat (when every syllable count comes from the memo)."""
    from textstat.textstat import textstatistics

    from lumina_tui.ai import readability

    stats = textstatistics()
    stats.set_lang("en-US")
    for text in GRADE_TABLE:
        expected = stats.flesch_kincaid_grade(text)
        assert readability.flesch_kincaid_grade(text) == expected, text
        assert readability.flesch_kincaid_grade(text) == expected, text
