"""build_wire: the bytes SMTP transmits, written directly for plain headers, must be the stdlib's.

The worker sends through `build_wire` (issue 14 point 3: the stdlib's header parsing and
serialising was about half of a worker's CPU per email). Whatever the input, it must transmit
exactly what `build_message` + the stdlib's serialiser would (same bytes, same envelope), refuse
exactly what `build_message` refuses with the same error, and take its own path for the common
message (else the speed-up is not there). Generated cases, bounded for `make test`
(LUMINA_FUZZ_EXAMPLES), plus the edges by name.
"""

from __future__ import annotations

import os
import random
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from lumina_tui.providers.mime_builder import build_message, build_wire, make_message_id, wire_from_message

pytest.importorskip("hypothesis")
from hypothesis import event, given, settings
from hypothesis import strategies as st

EMAIL_ID = "0b7c2a4e-8a51-4c61-9f0e-3f2b1d1c9a77"
EXAMPLES = int(os.environ.get("LUMINA_FUZZ_EXAMPLES", "15"))
CASES = settings(max_examples=EXAMPLES * 4, deadline=None, derandomize=EXAMPLES <= 50)


def fields(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "from_email": "sam@acme.test",
        "from_name": "Sam Lee",
        "to_email": "vic@brightwave.example",
        "to_name": "Vic",
        "subject": "Volume",
        "body_text": "Hi Vic,\n\nA quick question.\n",
        "body_html": "<p>Hi Vic,</p><p>A quick question.</p>",
        "message_id": make_message_id(EMAIL_ID, "acme.test"),
        "email_id": EMAIL_ID,
        "date": datetime(2026, 12, 3, 19, 0, 0),
    }
    base.update(overrides)
    return base


def both(kwargs: dict[str, Any]) -> tuple[Any, Any]:
    """(build_wire's answer, the stdlib's), each a WireMessage or the error it raised; the same
    seed for the boundary's random token, so a multipart message's boundary is the same too."""
    answers = []
    for build in (build_wire, lambda **k: wire_from_message(build_message(**k))):
        random.seed(1234)
        try:
            answers.append(build(**kwargs))
        except Exception as exc:  # compared below: the same error, or the same bytes
            answers.append(exc)
    return answers[0], answers[1]


def assert_same(kwargs: dict[str, Any]) -> Any:
    ours, stdlib = both(kwargs)
    if isinstance(stdlib, Exception):
        assert type(ours) is type(stdlib) and str(ours) == str(stdlib)
        return None
    assert not isinstance(ours, Exception), ours
    assert ours.data == stdlib.data
    assert (ours.envelope_from, ours.recipients, ours.message_id) == (
        stdlib.envelope_from,
        stdlib.recipients,
        stdlib.message_id,
    )
    return ours


def test_the_common_message_takes_the_direct_path_and_is_the_stdlibs_byte_for_byte() -> None:
    for overrides in ({}, {"body_html": ""}, {"subject": "", "from_name": "", "to_name": ""}):
        wire = assert_same(fields(**overrides))
        assert wire.message is None, "written directly, no EmailMessage built"
        assert wire.data.endswith(b"\r\n") and b"\n" not in wire.data.replace(b"\r\n", b"")


@pytest.mark.parametrize(
    "overrides",
    [
        {"subject": "x" * (78 - len("Subject: "))},  # the longest line that is not folded
        {"subject": "x" * (79 - len("Subject: "))},  # folded: the stdlib's path
        {"subject": "Two  spaces"},
        {"subject": " leading"},
        {"subject": "=?utf-8?q?encoded?="},
        {"subject": "Grüße"},
        {"subject": "tab\there"},
        {"to_name": "Ana \"the\" Okafor, Ph.D."},
        {"to_name": "J. Smith"},
        {"to_name": "O'Brien-Smith"},
        {"to_email": "ana@bücher.example"},
        {"to_email": "Ana.Okafor+q3@BrightWave.Example"},
        {"to_email": "\"odd local\"@brightwave.example"},
        {"cc": ["cc@acme.test"], "bcc": ["bcc@acme.test"]},
        {"body_text": ""},
        {"body_text": "Grüße aus Köln — ✓\n"},
        {"body_text": "a\r\nb\rc\nd"},
        {"body_text": "From here\n.\n..dots\n"},
        {"body_text": "x" * 1200},
        {"body_text": "line\x0bwith\x0cseparators\u2028and more\x85"},
        {"body_html": "<p>" + "é" * 300 + "</p>"},
        {"body_text": "trailing spaces   \n\n\n"},
        {"date": datetime(2026, 1, 2, 3, 4, 5, 678, tzinfo=timezone(timedelta(hours=5, minutes=30)))},
        {"date": datetime(1999, 12, 31, 23, 59, 59, tzinfo=UTC)},
        {"message_id": "<a.b-c@d.e>"},
        {"message_id": "<a\"b@c.d>"},
        {"email_id": "x" * 70},
        {"subject": "Hello\nBcc: victim@example.com"},
        {"to_email": "not-an-address"},
        {"body_text": "nul\x00"},
        {"body_text": "\ud800 unpaired"},
        {"to_email": "jörg@brightwave.example"},
        {"to_email": "jörg@brightwave.example", "smtputf8": True},
    ],
)
def test_each_edge_is_the_stdlibs_bytes_or_its_refusal(overrides: dict[str, Any]) -> None:
    assert_same(fields(**overrides))


ATEXT = "abcXYZ019!#$%&'*+/=?^_`{|}~-"
PRINTABLE = "".join(chr(c) for c in range(0x21, 0x7F))


def often(plausible: Any, wild: Any) -> Any:
    """Mostly inputs near the direct path's edges (so most cases test it), some anything."""
    return st.integers(0, 9).flatmap(lambda draw: wild if draw == 5 else plausible)


atoms = st.text(st.sampled_from(ATEXT), min_size=1, max_size=10)
phrases = often(
    st.lists(atoms, max_size=5).map(" ".join),
    st.one_of(st.text(st.sampled_from(ATEXT + ".,;:@<>()[]\"\\ \t=é"), max_size=12), st.text(max_size=20)),
)
locals_ = often(st.lists(atoms, min_size=1, max_size=3).map(".".join), st.text(min_size=1, max_size=12))
domains = often(
    st.lists(st.text(st.sampled_from("abcxyz019-ABC"), min_size=1, max_size=10), min_size=1, max_size=3)
    .map(".".join),
    st.sampled_from(["bücher.example", "xn--bcher-kva.example", "a..b", "-x.test", "x_y.test"]),
)
texts = often(
    st.lists(st.text(st.sampled_from(PRINTABLE), min_size=1, max_size=15), min_size=1, max_size=8)
    .map(" ".join),
    st.one_of(st.text(st.sampled_from(PRINTABLE + " \té"), max_size=90), st.text(max_size=90)),
)
email_ids = often(st.uuids().map(str), texts)
bodies = st.one_of(
    st.text(st.sampled_from("Hi Vic,.\n\r\t -=<>é✓\x0c\x85"), max_size=300),
    st.text(max_size=200),
    st.just(""),
)


@CASES
@given(
    from_name=phrases, to_name=phrases, local=locals_, domain=domains, subject=texts,
    body_text=bodies, body_html=st.one_of(st.just(""), bodies), email_id=email_ids,
    seconds=st.integers(0, 4_000_000_000),
)
def test_any_message_is_the_stdlibs_bytes_or_its_refusal(
    from_name: str, to_name: str, local: str, domain: str, subject: str, body_text: str,
    body_html: str, email_id: str, seconds: int,
) -> None:
    wire = assert_same(
        fields(
            from_name=from_name,
            to_name=to_name,
            to_email=f"{local}@{domain}",
            subject=subject,
            body_text=body_text,
            body_html=body_html,
            email_id=email_id,
            date=datetime(1970, 1, 1) + timedelta(seconds=seconds),
        )
    )
    event("refused" if wire is None else "direct" if wire.message is None else "stdlib")


@pytest.mark.parametrize(
    "text",
    [b"", b"--B", b"--B--", b"x\n--B\ny", b"x\n--B--\n", b"x--B\n", b"--Bx", b"--B---", b"--B\r\n",
     b"a\n--B-", b"--B--x\n--B", b"\n\n--B"],
)
def test_the_boundary_check_is_the_generators(text: bytes) -> None:
    """`_on_a_line` answers what the stdlib's regex answers (`^--boundary(--)?$`, MULTILINE)."""
    import re

    from lumina_tui.providers.mime_builder import _on_a_line

    assert _on_a_line(text, b"--B") == bool(re.search(rb"^--B(--)?$", text, re.MULTILINE))


def test_a_boundary_found_in_the_text_is_changed_as_the_generator_changes_it() -> None:
    from email.generator import BytesGenerator

    from lumina_tui.providers.mime_builder import _boundary

    random.seed(7)
    first = BytesGenerator._make_boundary()
    text = f"x\n--{first}\n--{first}.0--".encode()
    random.seed(7)
    ours = _boundary(text)
    random.seed(7)
    assert ours == BytesGenerator._make_boundary(text) == f"{first}.1"
