"""textstat without NLTK: the reading grade for the score, and textstat's word lists.

textstat imports NLTK at module level (for the CMU pronouncing dictionary of its "en" route),
which costs ~0.2-0.3 s of start-up for a scripting verb like `lumina ai score --file`. Lumina
uses the "en-US" route (Pyphen's bundled dictionary; "en" would also download cmudict), which
never touches NLTK. So textstat is imported with a stand-in `nltk` that loads the real NLTK on
first attribute use: nothing changes in what textstat computes, and a textstat that did reach
for NLTK would still get it. The stand-in is visible only while textstat is being imported.
"""

from __future__ import annotations

import importlib
import importlib.resources
import sys
import threading
import types
from importlib.resources.abc import Traversable
from typing import Any

_lock = threading.Lock()
_readability: Any = None


class _Deferred(types.ModuleType):
    """A module placeholder: the first attribute read imports the real module and delegates."""

    def __getattr__(self, name: str) -> Any:
        if sys.modules.get(self.__name__) is self:
            del sys.modules[self.__name__]
        return getattr(importlib.import_module(self.__name__), name)


def _import_textstat() -> types.ModuleType:
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


def resource(path: str) -> Traversable:
    """A file shipped inside textstat (e.g. "resources/en/easy_words.txt"), without NLTK."""
    _import_textstat()
    return importlib.resources.files("textstat").joinpath(path)
