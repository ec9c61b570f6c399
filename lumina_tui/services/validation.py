"""Field checks shared by every service: each failure names the field in words a person reads."""

from __future__ import annotations

import functools
import inspect
import types
import typing
import uuid
from collections.abc import Callable
from typing import Any, TypeVar

from lumina_tui.providers.headers import header_value_problem
from lumina_tui.services.errors import ValidationError

MAX_BODY_BYTES = 1_000_000
MAX_SUBJECT_CHARS = 998  # RFC 5322's line limit; a subject is one header line


def email_address(value: str | None, field: str = "email") -> str:
    """A normalised deliverable-looking address; no DNS lookups (we are offline-first)."""
    from email_validator import EmailNotValidError, validate_email

    text = (value or "").strip()
    if not text:
        raise ValidationError(f"{field}: an email address is required", field=field)
    if "\r" in text or "\n" in text:
        raise ValidationError(f"{field}: an email address cannot contain a line break", field=field)
    try:
        checked = validate_email(text, check_deliverability=False, test_environment=True)
    except EmailNotValidError as exc:
        raise ValidationError(f"{field}: invalid email address {text!r} ({exc})", field=field) from exc
    return checked.normalized.lower() if checked.ascii_email else checked.normalized


def email_domain(address: str) -> str:
    return address.rsplit("@", 1)[-1].lower()


def header_text(value: str | None, field: str, *, max_chars: int = MAX_SUBJECT_CHARS) -> str:
    """A value that will become (part of) a header line: bounded, and nothing the message policy
    would refuse (line breaks, Unicode line separators) or pass on raw (NUL, ESC, other controls)."""
    text = value or ""
    problem = header_value_problem(text)
    if problem == "a line break":
        raise ValidationError(f"{field}: a line break is not allowed here", field=field)
    if problem is not None:
        raise ValidationError(f"{field}: {problem} is not allowed here", field=field)
    if len(text) > max_chars:
        raise ValidationError(
            f"{field}: {len(text)} characters is too long (at most {max_chars})", field=field
        )
    return text


def single_line(value: str | None, field: str, *, max_chars: int = MAX_SUBJECT_CHARS) -> str:
    """A draft's subject while it is written: one line, bounded (the send checks the rest)."""
    text = value or ""
    if "\r" in text or "\n" in text:
        raise ValidationError(f"{field}: a line break is not allowed here", field=field)
    if len(text) > max_chars:
        raise ValidationError(
            f"{field}: {len(text)} characters is too long (at most {max_chars})", field=field
        )
    return text


def body_text(value: str | None, field: str = "body") -> str:
    text = value or ""
    size = len(text.encode("utf-8", errors="surrogatepass"))
    if size > MAX_BODY_BYTES:
        raise ValidationError(
            f"{field}: the body is {size / 1_000_000:.1f} MB; the limit is 1 MB", field=field
        )
    if "\x00" in text:
        raise ValidationError(f"{field}: the text contains a NUL character", field=field)
    return text


def uuid_text(value: str | None, field: str) -> str:
    """A dashed UUID string, exactly as the CLI prints ids."""
    try:
        return str(uuid.UUID(str(value)))
    except (ValueError, TypeError, AttributeError) as exc:
        raise ValidationError(f"{field}: {value!r} is not a valid id (a UUID)", field=field) from exc


# SQLite stores integers up to 2**63 - 1; a bigger revision is a typo, refused rather than overflowing.
MAX_REVISION = 2**62


def revision_number(value: object, field: str = "revision") -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_REVISION:
        raise ValidationError(f"{field}: must be a whole number from 0 to {MAX_REVISION}", field=field)
    return value


TONE_NAMES = {"formal": 0.0, "neutral": 0.5, "casual": 1.0}


def tone(value: str | float | None, field: str = "tone") -> float | None:
    """formal = 0.0, neutral = 0.5, casual = 1.0, or any number between."""
    if value is None:
        return None
    if isinstance(value, str):
        named = TONE_NAMES.get(value.strip().lower())
        if named is not None:
            return named
        try:
            value = float(value)
        except ValueError as exc:
            raise ValidationError(
                f"{field}: use formal, neutral, casual or a number from 0 to 1", field=field
            ) from exc
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValidationError(f"{field}: use formal, neutral, casual or a number from 0 to 1", field=field)
    number = float(value)
    if not 0.0 <= number <= 1.0:
        raise ValidationError(f"{field}: {number} is outside 0 (formal) .. 1 (casual)", field=field)
    return number


# -- argument types at the service boundary --------------------------------------------------------

F = TypeVar("F", bound=Callable[..., Any])
_PLAIN: dict[object, tuple[type, ...]] = {str: (str,), int: (int,), float: (int, float), bool: (bool,)}


def _allowed(hint: object) -> tuple[type, ...] | None:
    """The runtime types a plain annotation admits (str, int, float, bool, list, X | None).

    None: not checked here (a model, a mapping, Any).
    """
    if hint in _PLAIN:
        return _PLAIN[hint]
    origin = typing.get_origin(hint)
    if origin in (list, tuple):
        return (list, tuple)
    if origin in (typing.Union, types.UnionType):
        allowed: tuple[type, ...] = ()
        for arm in typing.get_args(hint):
            if arm is type(None):
                allowed += (type(None),)
                continue
            found = _allowed(arm)
            if found is None:
                return None
            allowed += found
        return allowed
    return None


def checked_arguments(func: F) -> F:
    """Refuse an argument of the wrong type as a ValidationError naming it, before the verb runs.

    Scripts and the REST API hand the services JSON values: a number or a list where text belongs
    used to fail deep inside as AttributeError or TypeError (found by the fuzz suite, issue 14
    point 5). Only plain annotations are checked (str, int, float, bool, lists, and X | None).
    """
    signature = inspect.signature(func)
    checks: dict[str, tuple[type, ...]] | None = None

    @functools.wraps(func)
    def checked(*args: Any, **kwargs: Any) -> Any:
        nonlocal checks
        if checks is None:  # resolved on first use: the module's later names exist by then
            hints = typing.get_type_hints(func)
            checks = {name: found for name in signature.parameters
                      if (found := _allowed(hints.get(name))) is not None}
        for name, value in signature.bind_partial(*args, **kwargs).arguments.items():
            allowed = checks.get(name)
            if allowed is not None and (
                not isinstance(value, allowed) or (isinstance(value, bool) and bool not in allowed)
            ):
                kind = " or ".join(sorted({"none" if t is type(None) else t.__name__ for t in allowed}))
                raise ValidationError(f"{name}: must be {kind}, not {type(value).__name__}", field=name)
        return func(*args, **kwargs)

    return typing.cast(F, checked)
