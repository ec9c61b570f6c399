"""A file cache of Pyphen's parsed hyphenation table for the reading grade.

Pyphen parses its 11,000 en-US patterns on every start (~0.1 s on a quiet machine, a third of
a `lumina ai score --file` process). The parsed table is kept as a marshal file in the cache
folder (`$LUMINA_HOME/cache`, else the platform's user cache folder) under a key naming the
dictionary file and Pyphen's version. Whatever goes wrong with the file (missing, stale,
corrupt, unwritable) only means parsing as before: the score never depends on it.
"""

from __future__ import annotations

import logging
import marshal
import os
import threading

from lumina_tui.ai import readability
from lumina_tui.paths import cache_dir

log = logging.getLogger(__name__)
_lock = threading.Lock()
_warmed = False


def _valid(table: object) -> bool:
    return isinstance(table, dict) and bool(table) and all(
        isinstance(key, str) and isinstance(value, tuple) and len(value) == 2
        and isinstance(value[0], int) and isinstance(value[1], tuple)
        for key, value in table.items()
    )


def warm() -> None:
    """Give Pyphen the cached table, or parse it and cache it for the next process. Once."""
    global _warmed
    with _lock:
        if _warmed:
            return
        _warmed = True
        try:
            path = cache_dir() / f"{readability.hyphenation_key()}.marshal"
        except (ImportError, OSError, KeyError) as exc:  # no Pyphen dictionary: textstat decides
            log.info("hyphenation cache unused: %s", exc)
            return
        try:
            table = marshal.loads(path.read_bytes())
            if _valid(table):
                readability.use_hyphenation_patterns(table)
                return
            log.info("hyphenation cache %s is not a pattern table; rebuilding it", path)
        except FileNotFoundError:
            pass
        except (OSError, ValueError, EOFError, TypeError) as exc:
            log.info("hyphenation cache %s unreadable (%s); rebuilding it", path, exc)
        patterns = readability.hyphenation_patterns()
        if patterns is None:
            return
        try:
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            partial = path.with_name(f"{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
            partial.write_bytes(marshal.dumps(patterns))
            os.replace(partial, path)  # atomic: a concurrent reader sees the old or the new file
        except OSError as exc:
            log.info("hyphenation cache not written to %s: %s", path, exc)


def reset() -> None:
    """Forget that this process warmed the cache (tests)."""
    global _warmed
    with _lock:
        _warmed = False
