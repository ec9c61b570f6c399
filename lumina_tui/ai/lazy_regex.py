"""A regular expression compiled on first use, used like a compiled one.

`lumina ai score --file` is a process per message, and the pure package compiled some 150
module-level patterns at import (grounding's fact finder, the tone and spam-phrase tables) of
which a score uses a handful: compiling them cost more than scoring the message
(bench/bench_cli.py). `lazy_regex(...)` has the same methods as `re.compile(...)` and compiles on
the first call; `.pattern` is the source without compiling, so a pattern can be built into
another.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Iterator
from typing import Any


class LazyRegex:
    """`re.compile(pattern, flags)`, deferred to the first match (thread-safe: compiling twice
    in a race is harmless, both results are equal)."""

    __slots__ = ("_compiled", "flags", "pattern")

    def __init__(self, pattern: str, flags: int = 0) -> None:
        self.pattern = pattern
        self.flags = flags
        self._compiled: re.Pattern[str] | None = None

    def compiled(self) -> re.Pattern[str]:
        compiled = self._compiled
        if compiled is None:
            compiled = self._compiled = re.compile(self.pattern, self.flags)
        return compiled

    def search(self, string: str, pos: int = 0, endpos: int = sys.maxsize) -> re.Match[str] | None:
        return self.compiled().search(string, pos, endpos)

    def match(self, string: str, pos: int = 0, endpos: int = sys.maxsize) -> re.Match[str] | None:
        return self.compiled().match(string, pos, endpos)

    def fullmatch(self, string: str, pos: int = 0,
                  endpos: int = sys.maxsize) -> re.Match[str] | None:
        return self.compiled().fullmatch(string, pos, endpos)

    def finditer(self, string: str, pos: int = 0,
                 endpos: int = sys.maxsize) -> Iterator[re.Match[str]]:
        return self.compiled().finditer(string, pos, endpos)

    def findall(self, string: str, pos: int = 0, endpos: int = sys.maxsize) -> list[Any]:
        return self.compiled().findall(string, pos, endpos)

    def sub(self, repl: str | Callable[[re.Match[str]], str], string: str, count: int = 0) -> str:
        return self.compiled().sub(repl, string, count)

    def split(self, string: str, maxsplit: int = 0) -> list[str | Any]:
        return self.compiled().split(string, maxsplit)


def lazy_regex(pattern: str, flags: int = 0) -> LazyRegex:
    """Like `re.compile`, compiled on first use."""
    return LazyRegex(pattern, flags)
