"""build_message: the RFC 5322 message every provider sends, and its refusal of header injection."""

from __future__ import annotations

import email
import email.message
import email.policy
from datetime import UTC, datetime

import pytest

from lumina_tui.providers.mime_builder import EMAIL_ID_HEADER, build_message, make_message_id

EMAIL_ID = "0b7c2a4e-8a51-4c61-9f0e-3f2b1d1c9a77"


def make(**overrides: object):
    fields: dict[str, object] = {
        "from_email": "rep@acme.test",
        "from_name": "Jörg Müller, Sales",
        "to_email": "ana.okafor@brightwave.example",
        "to_name": "Ana Okafor",
        "subject": "Grüße aus Köln — ✓",
        "body_text": "Hi Ana,\n\nGrüße aus Köln.\n",
        "body_html": "<p>Hi Ana,</p><p>Grüße aus Köln.</p>",
        "message_id": make_message_id(EMAIL_ID, "acme.test"),
        "email_id": EMAIL_ID,
        "date": datetime(2026, 5, 6, 7, 8, 9),
    }
    fields.update(overrides)
    return build_message(**fields)  # type: ignore[arg-type]


def test_message_id_is_stable_and_derived_from_the_email_id() -> None:
    assert make_message_id(EMAIL_ID, "Acme.TEST") == f"<{EMAIL_ID}@acme.test>"
    assert make_message_id(EMAIL_ID, "acme.test") == make_message_id(EMAIL_ID, "acme.test")
    assert make_message_id(EMAIL_ID, "bücher.example") == f"<{EMAIL_ID}@xn--bcher-kva.example>"
    with pytest.raises(ValueError, match="email_id"):
        make_message_id("a b", "acme.test")


def test_round_trip_through_the_wire_format() -> None:
    raw = make().as_bytes(policy=email.policy.SMTP)
    assert all(ord(ch) < 128 for ch in raw.decode("ascii")), "headers and bodies must be 7-bit on the wire"
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert parsed["Subject"] == "Grüße aus Köln — ✓"
    assert parsed["Message-ID"] == f"<{EMAIL_ID}@acme.test>"
    assert parsed[EMAIL_ID_HEADER] == EMAIL_ID
    assert parsed["Date"].datetime == datetime(2026, 5, 6, 7, 8, 9, tzinfo=UTC)
    sender = parsed["From"].addresses[0]
    assert (sender.display_name, sender.addr_spec) == ("Jörg Müller, Sales", "rep@acme.test")
    recipient = parsed["To"].addresses[0]
    assert (recipient.display_name, recipient.addr_spec) == ("Ana Okafor", "ana.okafor@brightwave.example")
    assert parsed.get_content_type() == "multipart/alternative"
    parts = [part.get_content_type() for part in parsed.iter_parts()]
    assert parts == ["text/plain", "text/html"]
    # Parsed from wire bytes (CRLF line ends), the decoded text keeps CRLF.
    assert parsed.get_body(("plain",)).get_content().replace("\r\n", "\n") == "Hi Ana,\n\nGrüße aus Köln.\n"
    assert "<p>Grüße aus Köln.</p>" in parsed.get_body(("html",)).get_content()


def test_text_only_when_there_is_no_html() -> None:
    parsed = email.message_from_bytes(make(body_html="").as_bytes(), policy=email.policy.default)
    assert parsed.get_content_type() == "text/plain"


def test_cc_and_extra_headers() -> None:
    message = make(cc=["cc@acme.test"], extra_headers={"List-Unsubscribe": "<mailto:u@acme.test>"})
    assert message["Cc"] == "cc@acme.test"
    assert message["List-Unsubscribe"] == "<mailto:u@acme.test>"
    with pytest.raises(ValueError, match="Message-ID"):
        make(extra_headers={"Message-ID": "<x@y>"})
    with pytest.raises(ValueError, match="header name"):
        make(extra_headers={"Bad Name": "x"})


@pytest.mark.parametrize(
    ("field", "value", "named"),
    [
        ("subject", "Hello\r\nBcc: victim@example.com", "subject"),
        ("subject", "Hello\nX-Evil: 1", "subject"),
        ("to_email", "ana@brightwave.example\r\nBcc: x@y.test", "to"),
        ("from_email", "rep@acme.test\nX: y", "from"),
        ("to_name", "Ana\rOkafor", "to_name"),
        ("from_name", "Rep\nBcc: x@y.test", "from_name"),
        ("message_id", "<a@b>\r\nX: y", "message_id"),
        ("email_id", "abc\ndef", "email_id"),
    ],
)
def test_line_breaks_in_header_values_are_refused_naming_the_field(
    field: str, value: str, named: str
) -> None:
    with pytest.raises(ValueError) as refused:
        make(**{field: value})
    assert str(refused.value).startswith(f"{named}:")


def test_line_breaks_in_cc_and_extra_headers_are_refused() -> None:
    with pytest.raises(ValueError, match=r"^cc:"):
        make(cc=["a@b.test\r\nX: y"])
    with pytest.raises(ValueError, match=r"^extra_headers\[X-Campaign\]"):
        make(extra_headers={"X-Campaign": "q3\r\nBcc: x@y.test"})


def test_non_ascii_mailbox_names_are_refused_clearly() -> None:
    with pytest.raises(ValueError, match="SMTPUTF8"):
        make(to_email="jörg@brightwave.example")


@pytest.mark.parametrize(
    "overrides",
    [
        {},
        {"subject": "Volume", "from_name": "Sam", "body_text": "Hi Vic", "body_html": ""},
        {"subject": "A long subject line " * 12, "cc": ["cc@acme.test"], "bcc": ["bcc@acme.test"]},
        {"to_email": "ana@bücher.example", "to_name": "Ana \"the\" Okafor, Ph.D."},
        {"to_email": "jörg@bücher.example", "smtputf8": True, "subject": "Grüße — " * 20},
    ],
    ids=["non-ascii", "plain", "long-folded-cc-bcc", "idna-quoted-name", "smtputf8"],
)
def test_the_reused_header_classes_build_byte_for_byte_the_stdlib_message(
    overrides: dict[str, object], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The policies keep the header classes (a speed-up): the bytes must be exactly the stdlib's."""
    from lumina_tui.providers import mime_builder

    ours = make(**overrides)
    monkeypatch.setattr(mime_builder, "_DEFAULT", email.policy.default)
    monkeypatch.setattr(mime_builder, "_SMTPUTF8", email.policy.SMTPUTF8)
    stdlib = make(**overrides)
    assert ours.policy is not stdlib.policy

    def wire(message: email.message.EmailMessage, linesep: str) -> bytes:
        data = message.as_bytes(policy=message.policy.clone(linesep=linesep))
        boundary = message.get_boundary()  # random per message: the one difference allowed
        return data.replace(boundary.encode(), b"BOUNDARY") if boundary else data

    for linesep in ("\n", "\r\n"):
        assert wire(ours, linesep) == wire(stdlib, linesep)
