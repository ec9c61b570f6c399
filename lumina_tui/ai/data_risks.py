"""Prospect and company text that reached an email: links, payment instructions, instructions.

The AI path already treats prospect and company fields as data (`grounding.py`): a link or an
address from a free-text field is never "supported", and a field that talks to the writer is an
injection. A template copies those same fields into the email verbatim, so the send review asks
the same questions of every field value that appears in what goes out, with the same detectors
(`injection.looks_like_instruction`, `facts.find_facts` for links and addresses), plus one the AI
path did not need: payment instructions (IBAN, wire the deposit, pay at a URL, gift cards...).
"""

from __future__ import annotations

import re

from .facts import find_facts
from .injection import looks_like_instruction

# An IBAN: country code, check digits, then 11-30 letters/digits, maybe grouped by fours.
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30}\b")
_PAYMENT = re.compile(
    r"\b(?:iban|swift|bic code|routing number|sort code|account number|bank details)\b"
    r"|\bwire\b[^.\n]{0,40}\b(?:to|into|funds?|deposit|payment|money|transfer)\b"
    r"|\b(?:bank )?transfer\b[^.\n]{0,30}\b(?:to (?:our|my|the) account|funds|deposit|payment)\b"
    r"|\bpay(?:ment)?\b[^.\n]{0,30}\b(?:at|via|here|now|to (?:our|my|this))\b"
    r"|\b(?:send|make)\b[^.\n]{0,20}\b(?:payment|deposit|funds)\b"
    r"|\b(?:gift ?cards?|bitcoin|btc|usdt|crypto ?wallet)\b",
    re.IGNORECASE,
)


def data_risks(text: str) -> list[str]:
    """What a rep should look at before `text` (a field's value) goes out, in words; [] if nothing."""
    if not text or not text.strip():
        return []
    risks: list[str] = []
    links = [f.text for f in find_facts(text) if f.kind in ("url", "email")]
    if links:
        risks.append("a link or address (" + ", ".join(dict.fromkeys(links)) + ")")
    payment = _IBAN.search(text) or _PAYMENT.search(text)
    if payment:
        risks.append(f'payment instructions ("{payment.group(0).strip()}")')
    if looks_like_instruction(text):
        risks.append("text that reads like an instruction")
    return risks
