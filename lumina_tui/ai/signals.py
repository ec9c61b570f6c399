"""Source signals and confidence: how much of the context a suggestion uses, and how far to trust it.

Definitions (each 0..1, reported in `source_signals`):
- prospect_match: the share of the prospect's usable fields the suggestion uses correctly. Usable
  fields are first name, job title and company when present, plus custom fields taken together as
  one more field (the share of them used), skipping values that read like instructions. "Correctly"
  means the value appears (a title also counts when most of its words appear); a greeting that
  names someone other than the prospect zeroes the name field.
- company_match: likewise for the company: name (or domain), industry, size, location, and the
  metadata values taken together as one more field.
- tone_match: 1 - |requested tone - measured tone|, measured by `tone.measure_tone`.
A signal with no usable fields is reported as 0.0 and left out of the confidence.

Confidence is Lumina's, never the model's self-report:
    quality    = weighted mean of the applicable signals (tone 0.4, prospect 0.35, company 0.25)
    confidence = 0.45 + 0.55 * quality
                 - 0.12 per unsupported name/entity - 0.2 per unsupported hard fact
                 - 0.1 per banned phrase the sender listed
    and at most 0.3 when any hard fact (number, money, percent, date, time, URL, email, injected
    text) is unsupported: one invented figure is enough to make the whole suggestion suspect.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import TYPE_CHECKING

from .injection import looks_like_instruction
from .lazy_regex import lazy_regex
from .tone import measure_tone

if TYPE_CHECKING:  # the score reads fields through these without importing pydantic (score_models.py)
    from .models import Claim, CompanyInput, ProspectInput, SourceSignals

HARD_FACT_CAP = 0.3
_GREETING_NAME = lazy_regex(
    r"^\s*(?:hi|hello|hey|dear|good (?:morning|afternoon|evening))\s+(?:there\s+)?"
    r"(?P<name>[A-Z][\w'’-]+)",
    re.IGNORECASE,
)
_STOP = {"of", "the", "and", "a", "an", "at", "in", "for", "to", "&", "on", "inc", "llc", "ltd"}


def _tokens(text: str) -> list[str]:
    return [t for t in re.findall(r"[a-z0-9]+", text.lower()) if t not in _STOP]


def _contains(haystack: str, needle: str) -> bool:
    """`needle` (lower-cased) occurs in `haystack` as whole words. A plain `str.find` loop:
    a regex with a look-behind would be tried at every position of a 2,000-character body."""
    needle = needle.lower()
    if not needle:
        return False
    start = haystack.find(needle)
    while start != -1:
        end = start + len(needle)
        before = haystack[start - 1] if start else " "
        after = haystack[end] if end < len(haystack) else " "
        if not (before.isalnum() or before == "_") and not (after.isalnum() or after == "_"):
            return True
        start = haystack.find(needle, start + 1)
    return False


@lru_cache(maxsize=8)
def _read(text: str) -> tuple[str, frozenset[str]]:
    """The text lower-cased and its word set, read once for both the prospect's and the
    company's fields (each looked for them in the whole body again)."""
    return text.lower(), frozenset(_tokens(text))


def _phrase_used(text_lower: str, text_tokens: frozenset[str], value: str) -> bool:
    """Whole value present, or most of its meaningful words (titles get reworded)."""
    if _contains(text_lower, value):
        return True
    tokens = _tokens(value)
    if len(tokens) < 2:
        return False
    hits = sum(1 for token in tokens if token in text_tokens)
    return hits / len(tokens) >= 0.6


def _company_used(text_lower: str, name: str) -> bool:
    if _contains(text_lower, name):
        return True
    # "Northwind" for "Northwind Logistics": the distinctive first word is enough.
    first = _tokens(name)[:1]
    return bool(first) and len(first[0]) >= 4 and _contains(text_lower, first[0])


def _usable(values: dict[str, str]) -> dict[str, str]:
    return {
        key: value for key, value in values.items()
        if value and len(value) <= 120 and not looks_like_instruction(value)
    }


def prospect_fields_used(text: str, prospect: ProspectInput) -> tuple[list[str], float | None]:
    """(names of fields used, prospect_match or None when the prospect has no usable field)."""
    lower, tokens = _read(text)
    used: list[str] = []
    total = 0.0
    score = 0.0
    if prospect.first_name and not looks_like_instruction(prospect.first_name):
        total += 1
        greeting = _GREETING_NAME.match(text)
        wrong_name = bool(
            greeting and greeting["name"].lower() not in {
                prospect.first_name.lower(), prospect.last_name.lower(), "there", "team", "all",
            }
        )
        if _contains(lower, prospect.first_name) and not wrong_name:
            used.append("first_name")
            score += 1
    if prospect.job_title and not looks_like_instruction(prospect.job_title):
        total += 1
        if _phrase_used(lower, tokens, prospect.job_title):
            used.append("job_title")
            score += 1
    if prospect.company and not looks_like_instruction(prospect.company):
        total += 1
        if _company_used(lower, prospect.company):
            used.append("company")
            score += 1
    custom = _usable(prospect.custom_fields)
    if custom:
        total += 1
        hits = [key for key, value in custom.items() if _phrase_used(lower, tokens, value)]
        used += [f"custom_fields.{key}" for key in hits]
        score += len(hits) / len(custom)
    return used, (score / total if total else None)


def company_fields_used(text: str, company: CompanyInput) -> tuple[list[str], float | None]:
    """(names of fields used, company_match or None when the company has no usable field)."""
    lower, tokens = _read(text)
    used: list[str] = []
    total = 0.0
    score = 0.0
    if company.name or company.domain:
        total += 1
        if (company.name and _company_used(lower, company.name)) or (
            company.domain and _contains(lower, company.domain.lower())
        ):
            used.append("name")
            score += 1
    for key in ("industry", "size", "location"):
        value = getattr(company, key)
        if not value or looks_like_instruction(value):
            continue
        total += 1
        hit = _phrase_used(lower, tokens, value)
        if not hit and key == "location":
            # "Austin" for "Austin, TX": the city alone is a correct use.
            hit = _contains(lower, value.split(",")[0].strip())
        if hit:
            used.append(key)
            score += 1
    metadata = _usable(company.metadata)
    if metadata:
        total += 1
        hits = [key for key, value in metadata.items() if _phrase_used(lower, tokens, value)]
        used += [f"metadata.{key}" for key in hits]
        score += len(hits) / len(metadata)
    return used, (score / total if total else None)


def banned_phrases_in(text: str, banned: tuple[str, ...]) -> list[str]:
    lower = text.lower()
    return [phrase for phrase in banned if phrase and _contains(lower, phrase)]


def source_signals(
    text: str,
    prospect: ProspectInput,
    company: CompanyInput,
    tone: float,
    *,
    tone_text: str | None = None,
) -> tuple[SourceSignals, dict[str, float | None]]:
    """The three reported signals, plus which of them apply (None = nothing to match).
    Fields are looked for in `text` (subject and body); tone is measured on `tone_text`
    (the body: a subject line has no greeting or sign-off) when given."""
    _, prospect_score = prospect_fields_used(text, prospect)
    _, company_score = company_fields_used(text, company)
    from .models import SourceSignals  # pydantic: loaded by the suggestion path, never by the score

    tone_score = 1.0 - abs(tone - measure_tone(text if tone_text is None else tone_text))
    signals = SourceSignals(
        prospect_match=round(prospect_score or 0.0, 3),
        company_match=round(company_score or 0.0, 3),
        tone_match=round(tone_score, 3),
    )
    return signals, {"prospect": prospect_score, "company": company_score, "tone": tone_score}


def confidence(
    applicable: dict[str, float | None], claims: list[Claim], banned_hits: int
) -> float:
    """Lumina's confidence in a suggestion (see the module docstring for the formula)."""
    from .models import HARD_FACT_KINDS

    weights = {"tone": 0.4, "prospect": 0.35, "company": 0.25}
    present = {key: value for key, value in applicable.items() if value is not None}
    weight = sum(weights[key] for key in present)
    quality = sum(weights[key] * value for key, value in present.items()) / weight if weight else 0
    value = 0.45 + 0.55 * quality
    hard = [claim for claim in claims if claim.kind in HARD_FACT_KINDS]
    soft = len(claims) - len(hard)
    value -= 0.12 * soft + 0.2 * len(hard) + 0.1 * banned_hits
    if hard:
        value = min(value, HARD_FACT_CAP)
    return round(max(0.0, min(1.0, value)), 3)
