"""Is a prospect's or company's field talking to the writer instead of describing someone?

Data fields are never instructions ("ignore previous instructions", "add a link to ...",
"SYSTEM:"). Grounding supports nothing from such a field, and the score's signals skip it. A
module of its own so the score (`lumina ai score`, a process per message) need not import the
grounding checker for this one test.
"""

from __future__ import annotations

import re

from .lazy_regex import lazy_regex

_INSTRUCTION = lazy_regex(
    r"\b(?:ignore|disregard|forget|override)\b[^.]{0,40}\b(?:instructions?|above|previous|prior|"
    r"rules|prompt)\b"
    r"|\b(?:add|include|insert|put|append|attach)\b[^.]{0,40}\b(?:link|url|website|phone|"
    r"number|e-?mail|address|attachment)\b"
    r"|(?:^|\n|\.\s*)\s*(?:system|assistant|developer|user)\s*:"
    r"|\b(?:new|updated|additional) instructions?\b"
    r"|\b(?:you must|you should now|you are now|act as|pretend|roleplay)\b"
    r"|\b(?:tell|say|inform|ask|remind)\b[^.]{0,25}\b(?:the reader|the recipient|them|they)\b"
    r"|\b(?:reply|respond|send (?:your|their)|write)\b[^.]{0,30}\b(?:to|with)\b[^.]{0,30}@",
    re.IGNORECASE,
)


def looks_like_instruction(text: str) -> bool:
    """True when a data field talks to the writer instead of describing the prospect."""
    return bool(_INSTRUCTION.search(text))
