"""textstat without NLTK: the reading grade for the score, and textstat's word lists.

textstat imports NLTK at module level (for the CMU pronouncing dictionary of its "en" route),
which costs ~0.2-0.3 s of start-up for a scripting verb like `lumina ai score --file`. Lumina
uses the "en-US" route (Pyphen's bundled dictionary; "en" would also download cmudict), which
never touches NLTK. So textstat is imported with a stand-in `nltk` that loads the real NLTK on
first attribute use: nothing changes in what textstat computes, and a textstat that did reach
for NLTK would still get it. The stand-in is visible only while textstat is being imported.

Pyphen parses its 11,000 en-US hyphenation patterns on every start (~0.1 s, a third of
`lumina ai score --file`). `hyphenation_patterns` and `use_hyphenation_patterns` let the caller
keep the parsed table (the services layer caches it in a file; this package never writes).
"""

from __future__ import annotations

import importlib
import sys
import threading
import types
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from importlib.resources.abc import Traversable

    import pyphen

#: The Pyphen language textstat's en-US route uses.
HYPHENATION_LANGUAGE = "en-US"

_lock = threading.RLock()  # textstat() holds it while importing
_readability: Any = None


class _Deferred(types.ModuleType):
    """A module placeholder: the first attribute read imports the real module and delegates."""

    def __getattr__(self, name: str) -> Any:
        if sys.modules.get(self.__name__) is self:
            del sys.modules[self.__name__]
        return getattr(importlib.import_module(self.__name__), name)


def _import_textstat() -> types.ModuleType:
    with _lock:  # one placeholder at a time, even when the composer's threads race here
        if "textstat.textstat" in sys.modules or "nltk" in sys.modules:
            return importlib.import_module("textstat.textstat")
        placeholder = _Deferred("nltk")
        sys.modules["nltk"] = placeholder
        try:
            return importlib.import_module("textstat.textstat")
        finally:
            if sys.modules.get("nltk") is placeholder:
                del sys.modules["nltk"]


def textstat() -> Any:
    """One `textstatistics` set to en-US (Pyphen only: no NLTK, no network), made on first use."""
    global _readability
    if _readability is None:
        with _lock:
            if _readability is None:
                instance = _import_textstat().textstatistics()
                instance.set_lang("en-US")
                _readability = instance
    return _readability


#: Syllables per (lower-case) word, as textstat's en-US route counts them (Pyphen positions + 1).
#: A draft is scored on every pause in typing and repeats its words: Pyphen's own cache sits
#: behind two Python calls and a list per word, which was a third of `score` (bench_ai.py).
_SYLLABLES: dict[str, int] = {}
_SYLLABLES_MAX = 50_000


def flesch_kincaid_grade(text: str) -> float:
    """textstat's Flesch-Kincaid grade for `text` (en-US), computed with textstat's own word and
    sentence counts and its syllable rule, with the syllables of each word remembered.

    The same arithmetic, in the same order, as `textstatistics().flesch_kincaid_grade` with
    set_lang("en-US") (textstat.backend.metrics), so the figure is identical: tests/ai/
    test_readability.py compares the two on a table of texts.
    """
    textstat()  # imports textstat without NLTK, once
    from textstat.backend import counts, selections, utils  # type: ignore[import-untyped]  # textstat ships no type hints

    words = counts.count_words(text)
    sentences = counts.count_sentences(text)
    sentence_length = words / sentences if sentences else 0.0
    pyphen = None
    syllables = 0
    for word in selections.list_words(text, lowercase=True) if text else ():
        count = _SYLLABLES.get(word)
        if count is None:
            pyphen = pyphen or utils.get_pyphen(HYPHENATION_LANGUAGE)
            count = len(pyphen.positions(word)) + 1
            if len(_SYLLABLES) >= _SYLLABLES_MAX:
                _SYLLABLES.clear()
            _SYLLABLES[word] = count
        syllables += count
    per_word = syllables / words if words else 0.0
    if sentence_length == 0 or per_word == 0:
        return 0.0
    return (0.39 * sentence_length) + (11.8 * per_word) - 15.59


def resource(path: str) -> Traversable:
    """A file shipped inside textstat (e.g. "resources/en/easy_words.txt"), without NLTK."""
    import importlib.resources  # only grounding reads a word list; the score does not

    _import_textstat()
    return importlib.resources.files("textstat").joinpath(path)


def _hyphenation_path() -> Path:
    import pyphen

    return Path(pyphen.LANGUAGES[pyphen.language_fallback(HYPHENATION_LANGUAGE)])


def _parsed_dictionaries() -> dict[Path, pyphen.HyphDict]:
    """Pyphen's module-level cache of parsed dictionaries: where a table from an earlier run
    goes so Pyphen never parses the file again."""
    import pyphen

    cache: dict[Path, pyphen.HyphDict]
    cache = pyphen.hdcache  # type: ignore[attr-defined]  # Pyphen's internal parse cache, absent from its stubs
    return cache


def hyphenation_key() -> str:
    """Names the dictionary Pyphen would parse (file, size, mtime, Pyphen version): a cached
    table is used only under the same key."""
    import pyphen

    path = _hyphenation_path()
    stat = path.stat()
    # Pyphen's own __version__, not importlib.metadata (whose import alone cost a tenth of an
    # `ai score` process); the metadata only if a Pyphen ever lacks it.
    version = getattr(pyphen, "__version__", None)
    if not isinstance(version, str):
        import importlib.metadata

        version = importlib.metadata.version("pyphen")
    return f"pyphen-{version}-{path.name}-{stat.st_size}-{stat.st_mtime_ns}"


def hyphenation_patterns() -> dict[str, tuple[int, tuple[int, ...]]] | None:
    """The parsed patterns (parsing them now if no one has), or None if they are not plain
    (start, values) pairs of ints that a cache could store."""
    import pyphen

    path = _hyphenation_path()
    table = _parsed_dictionaries().get(path) or pyphen.Pyphen(lang=HYPHENATION_LANGUAGE).hd
    patterns = table.patterns
    plain = all(
        type(start) is int and type(values) is tuple and all(type(v) is int for v in values)
        for start, values in patterns.values()
    )
    return patterns if plain else None


def use_hyphenation_patterns(patterns: dict[str, tuple[int, tuple[int, ...]]]) -> bool:
    """Give Pyphen an already parsed table (from `hyphenation_patterns` of an earlier run with
    the same `hyphenation_key`). False, and nothing changed, if Pyphen already has one."""
    import pyphen

    path = _hyphenation_path()
    if path in _parsed_dictionaries() or not patterns:
        return False
    table = pyphen.HyphDict.__new__(pyphen.HyphDict)  # what HyphDict(path) builds, unparsed
    table.patterns = patterns
    table.cache = {}
    table.maxlen = max(len(key) for key in patterns)
    _parsed_dictionaries()[path] = table
    return True
