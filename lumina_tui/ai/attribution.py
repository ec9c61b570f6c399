"""Whose result is it: a proof point about a named customer supports that customer's result only.

"Brightline saw 2x more replies in 90 days" is evidence about Brightline. A suggestion that says
"Lumina doubles reply rates" states the same value about someone else (the product, "we", the
reader) and so generalises one customer's result into a promise: that is an invented fact, even
though the number matches. Grounding (grounding.py) compares values; this module adds who the
value is about, for the one source where it matters: the sender's proof points, which are the
only inputs that carry another party's results.

The rule, kept small on purpose:
- A proof point names a customer when it has a capitalised word that is a name (not the sender's
  company, not a generic acronym like "SDR", not an ordinary word opening the sentence).
- A value that only such proof points give is *attributed* to those customers.
- An attributed value in a suggestion is supported only where the suggestion says whose result it
  is: its sentence names the customer ("Brightline doubled its replies", "what Ramp's SDR team
  saw"), or speaks of one unnamed customer ("one customer saw 2x more replies"), or is a
  follow-on sentence opening with "They"/"Their"/"It" right after a sentence naming the customer.
- "Customers like Brightline doubled replies" is a claim about customers in general (the customer
  is only an example), so it is not supported: the mention after "like"/"such as"/"including"
  does not count as saying whose result it is.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

_NAME = re.compile(r"[A-Z][A-Za-z0-9&-]*(?:['’]s)?")
_SENTENCE_END = re.compile(r"[.!?\n]+\s*")
#: One unnamed customer is still one customer: "one of our customers saw 2x more replies".
_ONE_CUSTOMER = re.compile(
    r"\b(?:a|one|another)\s+(?:of\s+(?:our|my)\s+)?(?:[a-z-]+\s+)?(?:customers?|clients?)\b",
    re.IGNORECASE,
)
_EXAMPLE_BEFORE = re.compile(r"\b(?:like|such\s+as|including|as\s+with)\s+$", re.IGNORECASE)
_FOLLOW_ON = re.compile(r"^\s*(?:they|their|it|its|that\s+team|the\s+team)\b", re.IGNORECASE)


def customers_in(text: str, *, ignore: frozenset[str],
                 is_common: Callable[[str], bool]) -> frozenset[str]:
    """The names of other parties in one proof point, lower-case ("ramp", "brightline").

    `ignore`: words that are not a customer (the sender's company and generic acronyms);
    `is_common`: the grounding checker's ordinary-word test, for a capitalised sentence opener.
    """
    found: set[str] = set()
    for match in _NAME.finditer(text):
        word = re.sub(r"['’]s$", "", match.group()).lower()
        if word in ignore or len(word) < 2:
            continue
        opener = match.start() == 0 or text[: match.start()].rstrip()[-1:] in {".", "!", "?", ":"}
        if opener and is_common(word):
            continue
        found.add(word)
    return frozenset(found)


def _sentence_bounds(text: str, position: int) -> tuple[int, int, int]:
    """(start of the previous sentence, start, end) of the sentence holding `position`."""
    starts = [0] + [m.end() for m in _SENTENCE_END.finditer(text) if m.end() <= position]
    start = starts[-1]
    previous = starts[-2] if len(starts) > 1 else start
    match = _SENTENCE_END.search(text, position)
    end = match.start() if match else len(text)
    return previous, start, end


def _names(sentence: str, customers: Iterable[str]) -> bool:
    lowered = sentence.lower()
    for customer in customers:
        for match in re.finditer(rf"\b{re.escape(customer)}\b", lowered):
            if not _EXAMPLE_BEFORE.search(lowered[: match.start()]):
                return True
    return False


def attributed_in_context(text: str, position: int, customers: Iterable[str]) -> bool:
    """True when the sentence of `text` at `position` says the value is one customer's result."""
    customers = tuple(customers)
    previous, start, end = _sentence_bounds(text, position)
    sentence = text[start:end]
    if _names(sentence, customers) or _ONE_CUSTOMER.search(sentence):
        return True
    return previous < start and bool(_FOLLOW_ON.search(sentence)) and _names(
        text[previous:start], customers)
