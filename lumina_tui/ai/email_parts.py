"""Split an email body into greeting, content and closing, so edits touch only the right part.

Changing the tone rewrites the greeting and the sign-off; personalizing inserts a line after the
greeting; shortening drops content sentences. None of those may disturb the rep's own line breaks,
so the parts keep the exact whitespace between them and `join` gives the original text back.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

GREETING_WORD = re.compile(
    r"^(?:hi|hello|hey|hiya|dear|greetings|good (?:morning|afternoon|evening))\b", re.IGNORECASE
)
SIGN_OFF_LINE = re.compile(
    r"^(?P<sign_off>(?:best regards|kind regards|warm regards|warmest regards|regards|best wishes|"
    r"all the best|best|sincerely|yours sincerely|yours truly|respectfully|cheers|many thanks|"
    r"thanks so much|thanks again|thanks|thank you|talk soon|speak soon|take care|warmly|"
    r"with thanks)[,!.]?)(?P<rest>[ \t]+[A-Z][\w.'’-]*(?:[ \t]+[A-Z][\w.'’-]*){0,2})?[ \t]*$",
    re.IGNORECASE,
)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[\"“(]?[A-Z0-9{])")


@dataclass(frozen=True)
class EmailParts:
    greeting: str = ""
    after_greeting: str = ""
    middle: str = ""
    before_closing: str = ""
    sign_off: str = ""
    signature: str = ""  # everything after the sign-off word: name, title, P.S.

    def join(self) -> str:
        return (
            self.greeting + self.after_greeting + self.middle + self.before_closing
            + self.sign_off + self.signature
        )

    def with_(self, **changes: str) -> EmailParts:
        return replace(self, **changes)


def _prefix(pattern: str, text: str) -> str:
    """The start of `text` that `pattern` matches ("" when it does not)."""
    match = re.match(pattern, text)
    return match.group() if match else ""


def split_email(body: str) -> EmailParts:
    """Find the greeting (first line) and the sign-off (a short closing line near the end)."""
    greeting = after = ""
    rest = body
    leading = _prefix(r"\s*", body)
    first_line = body[len(leading):].split("\n", 1)[0]
    found = _greeting(first_line)
    if found:
        greeting = leading + found
        rest = body[len(greeting):]
        after = _prefix(r"[ \t]*\n?\s*", rest)
        rest = rest[len(after):]
    lines = rest.split("\n")
    closing_index = None
    # Only the last eight lines can close the email, and a closing line has few words.
    for index in range(len(lines) - 1, max(-1, len(lines) - 9), -1):
        candidate = lines[index].strip()
        if SIGN_OFF_LINE.match(candidate) and len(candidate.split()) <= 5:
            closing_index = index
            break
    if closing_index is None:
        middle = rest.rstrip()
        return EmailParts(greeting, after, middle, rest[len(middle):], "", "")
    before_lines = lines[:closing_index]
    middle_raw = "\n".join(before_lines)
    middle = middle_raw.rstrip()
    between = middle_raw[len(middle):] + ("\n" if closing_index > 0 else "")
    closing_line = lines[closing_index]
    indent = closing_line[: len(closing_line) - len(closing_line.lstrip())]
    sign_match = SIGN_OFF_LINE.match(closing_line.strip())
    assert sign_match is not None
    sign_off = sign_match["sign_off"]
    signature = (sign_match["rest"] or "") + (
        "\n" + "\n".join(lines[closing_index + 1 :]) if closing_index + 1 < len(lines) else ""
    )
    return EmailParts(greeting, after, middle, between + indent, sign_off, signature)


def _greeting(line: str) -> str | None:
    """'Hi Dana,' from 'Hi Dana, quick one.'; a whole short line without punctuation also counts."""
    if not GREETING_WORD.match(line):
        return None
    stop = re.search(r"[,!:]", line)
    if stop and stop.start() <= 40 and len(line[: stop.start()].split()) <= 5:
        return line[: stop.end()]
    if len(line.split()) <= 4 and not re.search(r"[.?]", line):
        return line.rstrip()
    return None


def paragraphs(text: str) -> list[str]:
    return [p for p in re.split(r"\n\s*\n", text) if p.strip()]


def sentences(paragraph: str) -> list[str]:
    """Sentences of one paragraph (line breaks inside a paragraph count as boundaries)."""
    found: list[str] = []
    for line in paragraph.split("\n"):
        found += [s.strip() for s in _SENTENCE_END.split(line) if s.strip()]
    return found
