"""The one placeholder parser: what `{{first_name}}` means when a template is filled, and when a send
checks that nothing unfilled is left.

Spellings reps write are all one field: `{{first_name}}`, `{{ first name }}`, `{{first-name}}`,
`{{First.Name}}`, `{{firstname}}` (an alias). A default follows a bar: `{{first_name | there}}` (or
Liquid's `{{first_name | default: "there"}}`) and is used when the field has no value.

Filling and checking share `PLACEHOLDER`, so the checker can never miss what the filler skipped.
The checker goes further (`leftovers`): anything a reader would take for an unfilled field —
`{{ anything }}`, a stray `{{` or `}}`, `{first_name}`, `[[first_name]]`, `[First Name]` for a known
field, `*|FNAME|*`, `%FIRST_NAME%` — blocks a send, so no placeholder reaches a recipient.

Pure and dependency-free (only `re`): services import it without loading the AI engines.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

#: `{{ key }}` or `{{ key | default }}`; a key is words, spaces, dots and hyphens.
PLACEHOLDER = re.compile(r"\{\{\s*(?P<key>\w[\w .-]*?)\s*(?:\|\s*(?P<default>[^{}\n]*?)\s*)?\}\}")
_LIQUID_DEFAULT = re.compile(r"""^default\s*:\s*(?:"(?P<dq>[^"]*)"|'(?P<sq>[^']*)'|(?P<bare>.*))$""")

ALIASES: dict[str, tuple[str, ...]] = {
    "first_name": ("first_name", "firstname", "first", "name", "contact_first_name", "fname"),
    "last_name": ("last_name", "lastname", "last", "surname", "lname"),
    "full_name": ("full_name", "fullname", "contact_name"),
    "email": ("email", "email_address"),
    "company": ("company", "company_name", "account", "account_name", "organization",
                "organisation"),
    "job_title": ("job_title", "title", "role", "position", "jobtitle"),
    "industry": ("industry", "vertical", "sector"),
    "size": ("size", "company_size", "employees", "headcount", "employee_count"),
    "location": ("location", "city", "region", "hq", "headquarters"),
    "domain": ("domain", "website", "company_website", "company_domain", "url"),
    "sender_name": ("sender_name", "my_name", "sender", "your_name", "rep_name", "from_name"),
    "sender_first_name": ("sender_first_name", "my_first_name"),
    "sender_title": ("sender_title", "my_title"),
    "sender_company": ("sender_company", "my_company", "our_company", "sender_company_name"),
    "sender_website": ("sender_website", "our_website", "my_website"),
    "value_proposition": ("value_proposition", "value_prop", "value"),
    "signature": ("signature",),
}
CANONICAL: dict[str, str] = {alias: key for key, aliases in ALIASES.items() for alias in aliases}

# What else reads as an unfilled field (checked, never filled).
_LOOKALIKES = re.compile(
    r"\{\{[^\n]{0,100}?\}\}"  # any double-brace pair, whatever is inside
    r"|\{\{|\}\}"  # a stray opening or closing pair
    r"|(?<!\{)\{\s*[A-Za-z_][\w .-]{0,40}?\s*\}(?!\})"  # {first_name}
    r"|\[\[[^\]\n]{1,60}\]\]"  # [[first_name]]
    r"|\*\|[A-Z0-9_]{2,40}\|\*"  # Mailchimp's *|FNAME|*
    r"|%[A-Z][A-Z0-9_]{2,40}%"  # %FIRST_NAME%
)
_BRACKETED = re.compile(r"\[\s*(?P<key>[A-Za-z][\w .-]{0,40}?)\s*\]")  # [First Name]: known fields only


def field_key(key: str) -> str:
    """A key as written -> its normal form: lower case, runs of spaces, dots and hyphens -> `_`."""
    return re.sub(r"[\s.-]+", "_", key.strip().lower()).strip("_")


def canonical(key: str) -> str:
    """The field a key names (`{{firstname}}`, `{{First Name}}` -> first_name)."""
    normal = field_key(key)
    return CANONICAL.get(normal, normal)


def default_of(raw: str | None) -> str | None:
    """The fallback text after the bar (`there`, `default: "there"`), or None when there is none."""
    if raw is None:
        return None
    text = raw.strip()
    liquid = _LIQUID_DEFAULT.match(text)
    if liquid:
        text = next((g for g in (liquid["dq"], liquid["sq"], liquid["bare"]) if g is not None), "")
        text = text.strip()
    return text or None


@dataclass(frozen=True, slots=True)
class Placeholder:
    text: str  # as written, braces included
    key: str  # normal form (`first_name` for `{{ First Name }}`)
    field: str  # the field it names, aliases resolved
    default: str | None


def find(text: str) -> list[Placeholder]:
    """Every fillable placeholder in `text`, in order."""
    if "{" not in text:
        return []
    return [
        Placeholder(m.group(0), field_key(m["key"]), canonical(m["key"]), default_of(m["default"]))
        for m in PLACEHOLDER.finditer(text)
    ]


def lookup(placeholder: Placeholder | str, values: Mapping[str, str]) -> str | None:
    """The value for a placeholder: by its exact key, then by the field it names; None if empty."""
    if isinstance(placeholder, str):
        key, field = field_key(placeholder), canonical(placeholder)
    else:
        key, field = placeholder.key, placeholder.field
    for name in (key, field):
        value = values.get(name)
        if value is not None and str(value).strip():
            return str(value)
    return None


def substitute(text: str, replace: Callable[[Placeholder], str]) -> str:
    """`text` with each placeholder replaced by `replace(placeholder)`."""
    if "{" not in text:
        return text

    def one(match: re.Match[str]) -> str:
        return replace(
            Placeholder(
                match.group(0), field_key(match["key"]), canonical(match["key"]), default_of(match["default"])
            )
        )

    return PLACEHOLDER.sub(one, text)


def normal_values(values: Mapping[str, object]) -> dict[str, str]:
    """Values keyed by normal form (`Recent Initiative` -> recent_initiative); empty ones dropped."""
    clean: dict[str, str] = {}
    for key, value in values.items():
        text = "" if value is None else str(value)
        if text.strip():
            clean.setdefault(field_key(str(key)), text)
    return clean


def fill(text: str, values: Mapping[str, str]) -> tuple[str, set[str]]:
    """Fill what has a value (or a default); keep the rest as written. Returns (text, missing keys)."""
    values = normal_values(values)
    missing: set[str] = set()

    def replace(placeholder: Placeholder) -> str:
        value = lookup(placeholder, values)
        if value is not None:
            return value
        if placeholder.default is not None:
            return placeholder.default
        missing.add(placeholder.key)
        return placeholder.text

    return substitute(text, replace), missing


def leftovers(text: str) -> list[str]:
    """Everything in `text` that reads as an unfilled placeholder, as written (in order, once each).

    Fillable ones are named in normal form (`{{first_name}}` for `{{ First Name }}`); the others as
    they stand (`{first_name}`, `[First Name]`, `}}`).
    """
    if not text or not any(mark in text for mark in "{}[*%"):
        return []
    found: dict[int, str] = {}
    for match in PLACEHOLDER.finditer(text):
        found[match.start()] = "{{" + field_key(match["key"]) + "}}"
    taken = [(m.start(), m.end()) for m in PLACEHOLDER.finditer(text)]
    for match in _LOOKALIKES.finditer(text):
        if not any(start <= match.start() < end for start, end in taken):
            found[match.start()] = match.group(0)
            taken.append((match.start(), match.end()))
    for match in _BRACKETED.finditer(text):
        if field_key(match["key"]) in CANONICAL and not any(s <= match.start() < e for s, e in taken):
            found[match.start()] = match.group(0)
    return list(dict.fromkeys(found[start] for start in sorted(found)))
