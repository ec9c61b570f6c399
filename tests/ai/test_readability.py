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
