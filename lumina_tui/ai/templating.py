"""Fill `{{first_name}}`-style fields from the prospect, company and sender, and repair the gaps.

The placeholder syntax (spellings, aliases, `| default`) is `placeholders.py`'s, shared with the
services' template filling and the send's leftover check.

A template written for a prospect with every field filled must still read like an email when a
field is empty: "Hi {{first_name}}," becomes "Hi there,", "at {{company}}" becomes "at your
company", and a field with no natural stand-in is removed together with the preposition that led
into it. Values that read like instructions to the writer are treated as missing.
"""

from __future__ import annotations

import functools
import re

from .injection import looks_like_instruction
from .models import EngineRequest
from .placeholders import ALIASES, CANONICAL, PLACEHOLDER, default_of, field_key, leftovers

_MISSING = "\x00{}\x00"
_MISSING_RE = re.compile(r"\x00(?P<key>[\w.-]+)\x00")
_ALIASES = ALIASES
_CANONICAL = CANONICAL

#: Stand-ins that keep a sentence whole when a field is empty.
_STAND_INS = {
    "company": "your company",
    "job_title": "your role",
    "industry": "your industry",
    "location": "your area",
}


def _norm_key(key: str) -> str:
    return field_key(key)


def field_values(request: EngineRequest) -> dict[str, str]:
    """Every fillable field, by canonical name and by custom-field/metadata key."""
    prospect, company, sender = request.prospect, request.company, request.sender
    values: dict[str, str] = {}
    for key, value in company.metadata.items():
        values[_norm_key(key)] = value
    for key, value in prospect.custom_fields.items():
        values[_norm_key(key)] = value
    full_name = " ".join(part for part in (prospect.first_name, prospect.last_name) if part)
    values.update({
        "first_name": prospect.first_name,
        "last_name": prospect.last_name,
        "full_name": full_name,
        "email": prospect.email,
        "company": prospect.company or company.name,
        "job_title": prospect.job_title,
        "industry": company.industry,
        "size": company.size,
        "location": company.location,
        "domain": company.domain,
        "sender_name": sender.sender_name,
        "sender_first_name": sender.sender_name.split(" ")[0] if sender.sender_name else "",
        "sender_title": sender.sender_title,
        "sender_company": sender.company_name,
        "sender_website": sender.company_website,
        "value_proposition": sender.value_proposition,
        "signature": sender.signature,
    })
    return {
        key: value for key, value in values.items()
        if value and not looks_like_instruction(value)
    }


def _lookup(key: str, values: dict[str, str]) -> tuple[str, str | None]:
    normalized = _norm_key(key)
    canonical = _CANONICAL.get(normalized, normalized)
    return canonical, values.get(canonical)


def fill(text: str, values: dict[str, str]) -> str:
    """Replace every placeholder; missing ones are repaired so no gap or `{{x}}` remains."""
    if "{" not in text:
        return text

    def substitute(match: re.Match[str]) -> str:
        canonical, value = _lookup(match["key"], values)
        if value:
            return value
        fallback = default_of(match["default"])
        if fallback:
            return fallback
        return _MISSING.format(canonical)

    filled = PLACEHOLDER.sub(substitute, text)
    return repair(filled) if "\x00" in filled else filled


def _start_with(capitalised: str, match: re.Match[str]) -> str:
    """The sentence start before a stand-in, then the stand-in capitalised."""
    return match.group(1) + capitalised


def repair(text: str) -> str:
    """Rewrite sentences around missing fields, then tidy punctuation and spacing."""
    # Greetings: "Hi {{first_name}}," -> "Hi there,"; "Dear {{first_name}}," -> "Hello,".
    text = re.sub(
        r"(?im)^(?P<g>\s*)dear\s+\x00(?:first_name|full_name|last_name)\x00",
        r"\g<g>Hello", text,
    )
    text = re.sub(
        r"(?im)^(?P<g>\s*(?:hi|hello|hey))\s+\x00(?:first_name|full_name|last_name)\x00",
        r"\g<g> there", text,
    )
    # "as {{job_title}}" / "as a {{job_title}}" -> "in your role"
    text = re.sub(r"(?i)\bas\s+(?:an?\s+)?\x00job_title\x00", "in your role", text)
    # Possessives and sentence starts of stand-ins.
    for key, stand_in in _STAND_INS.items():
        token = _MISSING.format(key)
        text = text.replace(token + "'s", stand_in + "'s").replace(token + "’s", stand_in + "’s")
        capitalised = stand_in[0].upper() + stand_in[1:]
        text = re.sub(
            r"(^|[.!?]\s+|\n)" + re.escape(token),
            functools.partial(_start_with, capitalised),
            text,
        )
        text = text.replace(token, stand_in)
    # A name used in passing ("Thanks, {{first_name}}.") is simply dropped with its comma.
    text = re.sub(r",\s*\x00(?:first_name|full_name|last_name)\x00", "", text)
    # Anything else: drop the field with the article or preposition leading into it.
    text = re.sub(
        r"(?i)(?:\b(?:at|in|for|with|from|of|on|by|to|the|a|an|your|our|my|their)\s+)?"
        r"\x00[\w.-]+\x00(?:'s|’s)?",
        "",
        text,
    )
    return tidy(text)


def tidy(text: str) -> str:
    """Spacing and punctuation left behind by removed words, without touching line structure."""
    lines = []
    for line in text.split("\n"):
        line = re.sub(r"[ \t]{2,}", " ", line)
        line = re.sub(r"\s+([,.;:!?])", r"\1", line)
        line = re.sub(r",\s*(?=[,.;:!?])", "", line)
        line = re.sub(r"\(\s*\)", "", line)
        line = re.sub(r"^\s*[,;:]\s*", "", line)
        line = re.sub(r"\b(a|an|the|at|in|for|with|of)\s*([.!?])", r"\2", line)
        # A sentence that lost its first word starts lowercase: capitalise it.
        line = re.sub(r"(^|[.!?]\s+)([a-z])", lambda m: m.group(1) + m.group(2).upper(), line)
        stripped = line.strip()
        if stripped and (stripped.rstrip(".").upper() in {"P.S", "PS"} or (
            not re.search(r"\w", stripped) and stripped != "--"
        )):
            continue  # a line whose only content was the missing field
        lines.append(line.rstrip())
    return "\n".join(lines)


def leftover_placeholders(text: str) -> list[str]:
    """Anything still reading as a placeholder (the shared check of `placeholders.leftovers`)."""
    return leftovers(text)
