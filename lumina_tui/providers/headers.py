"""What may stand in a header value, decided once for the send check and the message builder alike.

`email.policy` (which `providers/mime_builder.py` builds every message with) refuses a header value that
`str.splitlines()` would split: CR and LF, but also VT, FF, the file/group/record separators, NEL
(U+0085) and the Unicode line and paragraph separators (U+2028, U+2029). Other control characters
(NUL, ESC, ...) it passes on raw into the message, where they corrupt a display name or a subject.
Services check values with `header_value_problem` before a row exists, so the worker never finds a
stored email it cannot build; the builder checks again with the same function.

A mailbox name (the local part before "@") outside ASCII needs SMTPUTF8 all the way to the
recipient; `needs_smtputf8` says so, and each provider says whether it can carry one.
"""

from __future__ import annotations

import unicodedata

#: Characters str.splitlines() breaks on besides CR and LF; email.policy refuses a header holding any.
LINE_SEPARATORS = frozenset("\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029")


def header_value_problem(value: str) -> str | None:
    """Why `value` cannot be (part of) a header value, in words, or None when it can."""
    for char in value:
        if char in "\r\n":
            return "a line break"
        if char in LINE_SEPARATORS:
            return f"a line separator (U+{ord(char):04X})"
        if char != "\t" and unicodedata.category(char) == "Cc":
            return f"a control character (U+{ord(char):04X})"
        if unicodedata.category(char) == "Cs":
            return f"an unpaired surrogate (U+{ord(char):04X})"
    return None


def needs_smtputf8(address: str) -> bool:
    """Is the mailbox name (before the last "@") outside ASCII? (An IDN domain alone is fine.)"""
    local = address.rpartition("@")[0]
    return not local.isascii()
