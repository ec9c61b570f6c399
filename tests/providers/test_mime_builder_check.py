"""check_buildable refuses exactly what building and serialising the message refuses, with the same words.

The send check (services/sending.py) calls `check_buildable` instead of building the whole message
(issue 14 point 3); the worker builds it with `build_message`. If the two ever disagreed, a send
would be accepted that the worker cannot build (or refused though it could): hypothesis compares
them over hostile subjects, display names, addresses and bodies.
"""

from __future__ import annotations

import os
from datetime import datetime

import pytest

pytest.importorskip("hypothesis")  # a venv made before it joined the [test] extras: `make venv`
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from lumina_tui.providers.mime_builder import build_message, check_buildable

# Bounded for `make test` (a few seconds); `make fuzz` runs it with LUMINA_FUZZ_EXAMPLES (1000).
EXAMPLES = int(os.environ.get("LUMINA_FUZZ_EXAMPLES", "120"))

# Characters that have broken header handling somewhere: line breaks and Unicode line separators,
# controls, surrogates, quotes and specials of RFC 5322, encoded-word markers, non-ASCII and wide text.
_HOSTILE = st.sampled_from(
    [
        *"\r\n\t\x00\x1b\x0b\x0c\x1c\x85\u2028\u2029\ud800\udfff\"\\()<>[]:;@,.= ?_-'",
        *["=?utf-8?q?x?=", "ü", "é", "中", "😀", "\u200b", "\ufeff", "a" * 80, " " * 3],
    ]
)
_CLEAN = st.text(st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp")), max_size=12)
_MIXED = st.lists(st.one_of(_HOSTILE, st.text(max_size=6)), max_size=8).map("".join)
# Mostly values a rep could type (so that the headers themselves are reached and folded), often hostile.
_TEXT = st.one_of(_CLEAN, _CLEAN, _MIXED)
_GOOD_LOCAL = st.sampled_from(["ana", "ana.okafor", "a+b", "o'neil", "x_y-z", "jörg", "中"])
_LOCAL = st.one_of(
    _GOOD_LOCAL, _GOOD_LOCAL,
    st.sampled_from(["\"a b\"", "a@b", "", " ana ", "a\nb", "a..b", ".a", "a\u2028"]),
    _CLEAN,
)
_GOOD_DOMAIN = st.sampled_from(
    ["acme.test", "bücher.example", "brightwave.example", "中国.cn", "xn--bcher-kva.ex"]
)
_DOMAIN = st.one_of(
    _GOOD_DOMAIN, _GOOD_DOMAIN,
    st.sampled_from(["a..b", "", "-x.test", "x y.test", "x>y.test", "acme.test.", "\u00e9" * 70]),
    _CLEAN,
)
_ADDRESS = st.builds(lambda local, domain: f"{local}@{domain}", _LOCAL, _DOMAIN)


def _outcome(call: object) -> tuple[str, str] | None:
    """None when it worked, else (the family of error, its message)."""
    try:
        call()  # type: ignore[operator]
    except (ValueError, TypeError, UnicodeError, IndexError) as exc:
        family = "unicode" if isinstance(exc, UnicodeError) else "value"
        return family, str(exc) if family == "value" else ""
    return None


def _both(from_email: str, from_name: str, to_email: str, to_name: str, subject: str, body: str,
          smtputf8: bool) -> tuple[object, object]:
    html = f"<p>{body}</p>" if body else ""
    domain = from_email.rpartition("@")[2]
    message_id = f"<check@{domain}>"
    full = _outcome(
        lambda: build_message(
            from_email=from_email, from_name=from_name, to_email=to_email, to_name=to_name,
            subject=subject, body_text=body, body_html=html, message_id=message_id, email_id="check",
            date=datetime(2026, 12, 3, 19, 0), smtputf8=smtputf8,
        ).as_bytes()
    )
    cheap = _outcome(
        lambda: check_buildable(
            from_email=from_email, from_name=from_name, to_email=to_email, to_name=to_name,
            subject=subject, body_text=body, body_html=html, message_id=message_id, smtputf8=smtputf8,
        )
    )
    return full, cheap


@settings(max_examples=EXAMPLES, deadline=None, derandomize=EXAMPLES <= 120,
          suppress_health_check=[HealthCheck.too_slow])
@given(
    from_email=_ADDRESS, from_name=_TEXT, to_email=_ADDRESS, to_name=_TEXT, subject=_TEXT, body=_TEXT,
    smtputf8=st.booleans(),
)
@example("rep@acme.test", "Jörg Müller, Sales", "ana@brightwave.example", "Ana", "Grüße ✓", "Hi", False)
@example("rep@acme.test", "", "ana@brightwave.example", "", "a\ud800b", "Hi", False)
@example("rep@acme.test", "", "ana@brightwave.example", "", "Hi", "body \udfff", False)
@example("rep@acme.test", "", "jörg@brightwave.example", "", "Hi", "Hi", False)
@example("rep@acme.test", "", "jörg@brightwave.example", "", "Hi", "Hi", True)
@example("rep@bücher.example", "\"Q\" <x>", "ana@中国.cn", "=?utf-8?q?x?=", "Hi", "Hi", False)
@example("rep@x y.test", "", "ana@acme.test", "", "Hi", "Hi", False)
def test_the_cheap_check_refuses_exactly_what_the_full_build_refuses(
    from_email: str, from_name: str, to_email: str, to_name: str, subject: str, body: str, smtputf8: bool
) -> None:
    full, cheap = _both(from_email, from_name, to_email, to_name, subject, body, smtputf8)
    assert cheap == full


def test_the_check_does_refuse_what_cannot_be_built() -> None:
    """Not vacuous: each kind of refusal the worker would meet comes out of the check."""
    cases = [
        ("rep@acme.test", "", "ana@acme.test", "", "a\nb", "Hi", "subject"),
        ("rep@acme.test", "", "ana@acme.test", "A\u2028B", "Hi", "Hi", "to_name"),
        ("rep@acme.test", "", "jörg@acme.test", "", "Hi", "Hi", "to"),
        ("rep@acme.test", "", "ana@acme.test", "", "Hi", "a\x00b", "body"),
        ("rep@acme.test", "", "ana@acme.test", "", "a\ud800", "Hi", ""),
        ("rep@acme.test", "", "ana@acme.test", "", "Hi", "a\ud800", ""),
    ]
    for from_email, from_name, to_email, to_name, subject, body, field in cases:
        full, cheap = _both(from_email, from_name, to_email, to_name, subject, body, False)
        assert full is not None and cheap == full
        assert full[1].startswith(field)
