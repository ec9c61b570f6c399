"""The one way Lumina turns an email row into an RFC 5322 message, whichever provider carries it.

multipart/alternative (text, then HTML), a Date, a stable Message-ID derived from the email id (so a
retried send is recognisably the same message), From and To with display names, non-ASCII headers
encoded by the email package, and `X-Lumina-Email-Id` so a provider can be asked whether it already
has the message. Header injection is refused here too, whatever the caller checked before: any line
break, Unicode line separator or control character in a value that becomes a header raises
ValueError naming the field (`providers/headers.py`, the same rule the send check applies). A
non-ASCII mailbox name is built only when the caller says its provider carries SMTPUTF8; the message
then uses `email.policy.SMTPUTF8` (UTF-8 headers, no encoded words).
"""

from __future__ import annotations

import copy
import random
import re
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email import policy, quoprimime
from email.headerregistry import Address, BaseHeader, HeaderRegistry
from email.message import EmailMessage
from email.utils import format_datetime, getaddresses

from lumina_tui.providers.headers import header_value_problem, needs_smtputf8

EMAIL_ID_HEADER = "X-Lumina-Email-Id"


class _ReusedHeaderClasses(HeaderRegistry):
    """The stdlib's header factory, keeping the header classes it makes.

    `HeaderRegistry.__getitem__` builds a new class with `type()` on every lookup, ~28 times per
    message (each header set, each max-count check, each Content-Type parameter): profiled, that
    was about half of building a message (issue 14 point 3, one worker's throughput). The classes
    it builds hold no state (a header's value lives in the instance), so one per header name serves
    every message; the parsing, encoding and folding are the stdlib's, unchanged.
    """

    def __init__(self) -> None:
        super().__init__()
        self._classes: dict[str, type[BaseHeader]] = {}

    def map_to_type(self, name: str, cls: type[BaseHeader]) -> None:
        super().map_to_type(name, cls)
        self._classes.pop(name.lower(), None)

    def __getitem__(self, name: str) -> type[BaseHeader]:
        key = name.lower()
        found = self._classes.get(key)
        if found is None:
            found = self._classes[key] = super().__getitem__(name)
        return found


# The policies build_message uses: the stdlib's own, with the header factory above.
_DEFAULT = policy.default.clone(header_factory=_ReusedHeaderClasses())
_SMTPUTF8 = policy.SMTPUTF8.clone(header_factory=_ReusedHeaderClasses())

_HEADER_NAME = re.compile(r"^[!-9;-~]+$")  # printable ASCII except ':' (RFC 5322 field name)
_RESERVED_HEADERS = {
    "from",
    "to",
    "cc",
    "bcc",
    "subject",
    "date",
    "message-id",
    "mime-version",
    "content-type",
    "content-transfer-encoding",
    EMAIL_ID_HEADER.lower(),
}


def _no_line_breaks(value: str, field: str) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{field}: expected text, got {type(value).__name__}")
    problem = header_value_problem(value)
    if problem is not None:
        raise ValueError(f"{field}: {problem} is not allowed in a header value")
    return value


def _ascii_domain(domain: str, field: str) -> str:
    """IDNA-encode an internationalised domain: header addresses must be ASCII without SMTPUTF8."""
    domain = domain.strip().rstrip(".")
    if not domain:
        raise ValueError(f"{field}: the address has no domain")
    try:
        domain.encode("ascii")
        return domain.lower()
    except UnicodeEncodeError:
        try:
            return domain.encode("idna").decode("ascii").lower()
        except UnicodeError as exc:
            raise ValueError(f"{field}: the domain {domain!r} cannot be encoded ({exc})") from None


def _address(addr: str, name: str, field: str, *, smtputf8: bool = False) -> Address:
    addr = _no_line_breaks(addr, field).strip()
    name = _no_line_breaks(name or "", f"{field}_name").strip()
    local, at, domain = addr.rpartition("@")
    if not at or not local:
        raise ValueError(f"{field}: {addr!r} is not an email address")
    if needs_smtputf8(addr) and not smtputf8:
        raise ValueError(
            f"{field}: a non-ASCII mailbox name ({addr!r}) needs SMTPUTF8, which this account's "
            "provider does not offer"
        )
    try:
        return Address(display_name=name, username=local, domain=_ascii_domain(domain, field))
    except (ValueError, IndexError) as exc:
        raise ValueError(f"{field}: {addr!r} is not a valid address ({exc})") from None


def make_message_id(email_id: str, sender_domain: str) -> str:
    """`<email_id@domain>`: the same email id always yields the same Message-ID."""
    email_id = _no_line_breaks(email_id, "email_id").strip()
    if not email_id or not re.fullmatch(r"[A-Za-z0-9._\-]+", email_id):
        raise ValueError(f"email_id: {email_id!r} cannot form a Message-ID")
    domain = _ascii_domain(_no_line_breaks(sender_domain, "sender_domain"), "sender_domain")
    if not re.fullmatch(r"[A-Za-z0-9.\-]+", domain):
        raise ValueError(f"sender_domain: {domain!r} cannot form a Message-ID")
    return f"<{email_id}@{domain}>"


def _utc(date: datetime) -> datetime:
    """Naive datetimes are UTC in Lumina (the store has no time zones)."""
    return date.replace(tzinfo=UTC) if date.tzinfo is None else date


def _transfer_encoding(text: str) -> str:
    """7bit when it is, else quoted-printable: 8bit bodies need 8BITMIME, which not every relay has."""
    if text.isascii() and all(len(line) <= 998 for line in text.splitlines()):
        return "7bit"
    return "quoted-printable"


def _checked_values(
    subject: str, message_id: str, email_id: str, body_text: str, body_html: str
) -> tuple[str, str]:
    """build_message's checks of the subject, ids and bodies (shared with `check_buildable`)."""
    subject = _no_line_breaks(subject or "", "subject")
    message_id = _no_line_breaks(message_id, "message_id").strip()
    if not re.fullmatch(r"<[^<>\s@]+@[^<>\s@]+>", message_id):
        raise ValueError(f"message_id: {message_id!r} is not of the form <id@domain>")
    if not _no_line_breaks(email_id, "email_id").strip():
        raise ValueError("email_id: required")
    if "\x00" in (body_text or "") or "\x00" in (body_html or ""):
        raise ValueError("body: the text contains a NUL character")
    return subject, message_id


def check_buildable(
    *,
    from_email: str,
    from_name: str,
    to_email: str,
    to_name: str,
    subject: str,
    body_text: str,
    body_html: str,
    message_id: str,
    smtputf8: bool = False,
) -> None:
    """Raise what `build_message(...).as_bytes()` would raise for these values, without building it.

    The send refuses at once what the worker could not build (issue 9 point 4). Building and
    serialising the whole message for that was a fifth of a send's CPU (issue 14 point 3); what can
    fail in it is only: the checks above (the same functions), the headers that carry the rep's or
    the prospect's values (From, To, Subject, Message-ID: parsed and folded here with the same
    policy objects, exactly as `Message.__setitem__` and the generator do), and the bodies' UTF-8
    encoding. Date, X-Lumina-Email-Id and the MIME structure are Lumina's own constant-shaped
    values. tests/providers/test_mime_builder_check.py compares the two over hostile inputs.
    """
    sender = _address(from_email, from_name, "from", smtputf8=smtputf8)
    recipient = _address(to_email, to_name, "to", smtputf8=smtputf8)
    international = needs_smtputf8(from_email) or needs_smtputf8(to_email)
    subject, message_id = _checked_values(subject, message_id, "check", body_text, body_html)
    used = _SMTPUTF8 if international else _DEFAULT
    headers: tuple[tuple[str, object], ...] = (
        ("From", sender), ("To", recipient), ("Subject", subject), ("Message-ID", message_id)
    )
    for name, value in headers:
        used.fold_binary(*used.header_store_parse(name, value))
    (body_text or "").encode("utf-8")
    (body_html or "").encode("utf-8")


def build_message(
    *,
    from_email: str,
    from_name: str,
    to_email: str,
    to_name: str,
    subject: str,
    body_text: str,
    body_html: str,
    message_id: str,
    email_id: str,
    date: datetime,
    cc: Iterable[str] = (),
    bcc: Iterable[str] = (),
    extra_headers: Mapping[str, str] | None = None,
    smtputf8: bool = False,
) -> EmailMessage:
    """A ready-to-send message: text/plain alone if there is no HTML, else multipart/alternative.

    `smtputf8`: the provider carries SMTPUTF8, so a non-ASCII mailbox name may be built.
    """
    fields = _checked(
        from_email=from_email, from_name=from_name, to_email=to_email, to_name=to_name,
        subject=subject, body_text=body_text, body_html=body_html, message_id=message_id,
        email_id=email_id, cc=cc, bcc=bcc, smtputf8=smtputf8,
    )
    return _build(fields, date=date, body_text=body_text, body_html=body_html, extra_headers=extra_headers)


@dataclass(frozen=True, slots=True)
class _Fields:
    """The header values of one message, checked (the same checks on every path)."""

    sender: Address
    recipient: Address
    cc: list[Address]
    bcc: list[Address]
    international: bool
    subject: str
    message_id: str
    email_id: str


def _checked(
    *,
    from_email: str,
    from_name: str,
    to_email: str,
    to_name: str,
    subject: str,
    body_text: str,
    body_html: str,
    message_id: str,
    email_id: str,
    cc: Iterable[str],
    bcc: Iterable[str],
    smtputf8: bool,
) -> _Fields:
    cc, bcc = list(cc), list(bcc)
    sender = _address(from_email, from_name, "from", smtputf8=smtputf8)
    recipient = _address(to_email, to_name, "to", smtputf8=smtputf8)
    cc_addresses = [_address(a, "", "cc", smtputf8=smtputf8) for a in cc]
    bcc_addresses = [_address(a, "", "bcc", smtputf8=smtputf8) for a in bcc]
    international = any(needs_smtputf8(a) for a in [from_email, to_email, *cc, *bcc])
    subject, message_id = _checked_values(subject, message_id, email_id, body_text, body_html)
    email_id = email_id.strip()
    return _Fields(sender, recipient, cc_addresses, bcc_addresses, international, subject, message_id,
                   email_id)


def _build(
    fields: _Fields,
    *,
    date: datetime,
    body_text: str,
    body_html: str,
    extra_headers: Mapping[str, str] | None,
) -> EmailMessage:
    message = EmailMessage(policy=_SMTPUTF8 if fields.international else _DEFAULT)
    message["From"] = fields.sender
    message["To"] = fields.recipient
    if fields.cc:
        message["Cc"] = fields.cc
    if fields.bcc:
        # Kept for the sender's own copy (Maildir); the SMTP provider strips it before transmission.
        message["Bcc"] = fields.bcc
    message["Subject"] = fields.subject
    message["Date"] = format_datetime(_utc(date))
    message["Message-ID"] = fields.message_id
    message[EMAIL_ID_HEADER] = fields.email_id
    for name, value in (extra_headers or {}).items():
        if not isinstance(name, str) or not _HEADER_NAME.match(name):
            raise ValueError(f"extra_headers: {name!r} is not a valid header name")
        if name.lower() in _RESERVED_HEADERS:
            raise ValueError(f"extra_headers: {name} is set by Lumina and cannot be overridden")
        message[name] = _no_line_breaks(value, f"extra_headers[{name}]")

    message.set_content(body_text or "", subtype="plain", charset="utf-8", cte=_transfer_encoding(body_text))
    if body_html:
        message.add_alternative(body_html, subtype="html", charset="utf-8", cte=_transfer_encoding(body_html))
        for part in message.iter_parts():
            del part["MIME-Version"]  # only the top level carries it (RFC 2045)
    return message


# -- the wire form: what SMTP transmits ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class WireMessage:
    """A message as SMTP transmits it: the envelope and the bytes (CRLF, no Bcc header), made once.

    `message` is the same message as an `EmailMessage` when the caller has one (None from the
    plain-header path of `build_wire`, which never builds it).
    """

    envelope_from: str
    recipients: tuple[str, ...]
    data: bytes
    message_id: str
    message: EmailMessage | None = None


def wire_from_message(message: EmailMessage) -> WireMessage:
    """The envelope and the CRLF bytes of a built message (its Bcc header removed, its recipients kept)."""
    sender = getaddresses([str(message.get("Sender") or message.get("From") or "")])
    from_addr = sender[0][1] if sender else ""
    fields = [str(v) for key in ("To", "Cc", "Bcc") for v in message.get_all(key, [])]
    recipients = tuple(addr for _name, addr in getaddresses(fields) if addr)
    outgoing = message
    if message.get("Bcc") is not None:
        outgoing = copy.deepcopy(message)
        del outgoing["Bcc"]
    data = outgoing.as_bytes(policy=message.policy.clone(linesep="\r\n"))
    return WireMessage(from_addr, recipients, data, str(message.get("Message-ID", "")).strip(), message)


def build_wire(
    *,
    from_email: str,
    from_name: str,
    to_email: str,
    to_name: str,
    subject: str,
    body_text: str,
    body_html: str,
    message_id: str,
    email_id: str,
    date: datetime,
    cc: Iterable[str] = (),
    bcc: Iterable[str] = (),
    smtputf8: bool = False,
) -> WireMessage:
    """`build_message` serialised for SMTP, for the worker's hot path (issue 14 point 3).

    Profiled, the stdlib's `email` package spent ~48% of a worker's CPU per email parsing each
    header value it had just been given (the header registry), folding it back and walking the
    message tree to serialise it. For the common message (plain ASCII header values that need no
    quoting, encoding or folding, no Cc/Bcc) the header lines are exactly `Name: value`, so they are
    written as such, and the bodies are encoded with the same stdlib functions `set_content` uses;
    the bytes are the stdlib's, byte for byte (tests/providers/test_mime_builder.py compares them
    over generated messages). Anything else takes `build_message` and the stdlib's serialiser.
    The same checks refuse the same bad input on both paths (`_checked`).
    """
    fields = _checked(
        from_email=from_email, from_name=from_name, to_email=to_email, to_name=to_name,
        subject=subject, body_text=body_text, body_html=body_html, message_id=message_id,
        email_id=email_id, cc=cc, bcc=bcc, smtputf8=smtputf8,
    )
    head = _plain_head(fields, date)
    if head is None:
        message = _build(fields, date=date, body_text=body_text, body_html=body_html, extra_headers=None)
        return wire_from_message(message)
    data = _plain_wire(head, body_text or "", body_html or "")
    return WireMessage(fields.sender.addr_spec, (fields.recipient.addr_spec,), data, fields.message_id)


# An atom's characters (RFC 5322 atext): a word of them needs no quoting in a display name or
# a local part. The stdlib quotes a display name holding any "special" (.,:;@<>()[]"\\).
_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]"
_PHRASE = re.compile(rf"{_ATEXT}+(?: {_ATEXT}+)*")
_DOT_ATOM = re.compile(rf"{_ATEXT}+(?:\.{_ATEXT}+)*")
_DOMAIN = re.compile(r"[a-z0-9-]+(?:\.[a-z0-9-]+)*")
# Unstructured text the header parser keeps as it is: printable ASCII words, single spaces, and
# nothing that could read as an RFC 2047 encoded word.
_TEXT = re.compile(r"[!-~]+(?: [!-~]+)*")
_MAX_LINE = 78  # the policies' max_line_length: a longer header line is folded
_NEWLINES = re.compile(r"\r\n|\r|\n")  # the generator's NLCRE


def _plain_mailbox(address: Address) -> str | None:
    if not (_DOT_ATOM.fullmatch(address.username) and _DOMAIN.fullmatch(address.domain)):
        return None
    spec = f"{address.username}@{address.domain}"
    if not address.display_name:
        return spec
    if not _PHRASE.fullmatch(address.display_name):
        return None
    return f"{address.display_name} <{spec}>"


def _plain_text(value: str) -> bool:
    return value == "" or (_TEXT.fullmatch(value) is not None and "=?" not in value)


def _plain_head(fields: _Fields, date: datetime) -> list[str] | None:
    """The header lines as the stdlib folds them, when each is plainly `Name: value`; else None."""
    if fields.international or fields.cc or fields.bcc:
        return None
    sender = _plain_mailbox(fields.sender)
    recipient = _plain_mailbox(fields.recipient)
    if sender is None or recipient is None:
        return None
    if not (_plain_text(fields.subject) and _plain_text(fields.email_id)):
        return None
    left, _, right = fields.message_id[1:-1].rpartition("@")
    if not (_DOT_ATOM.fullmatch(left) and _DOT_ATOM.fullmatch(right)):
        return None
    lines = [
        f"From: {sender}",
        f"To: {recipient}",
        f"Subject: {fields.subject}" if fields.subject else "Subject:",
        f"Date: {format_datetime(_utc(date))}",
        f"Message-ID: {fields.message_id}",
        f"{EMAIL_ID_HEADER}: {fields.email_id}" if fields.email_id else f"{EMAIL_ID_HEADER}:",
    ]
    if any(len(line) > _MAX_LINE for line in lines):
        return None
    return lines


def _plain_part(subtype: str, text: str) -> str:
    """One text part's Content-* lines and body, as `set_content(..., cte=...)` and the generator
    write it: the body's line ends normalised, 7bit or quoted-printable, CRLF on the wire."""
    cte = _transfer_encoding(text)
    body = b"\n".join(text.encode("utf-8").splitlines()) + b"\n"
    if cte == "7bit":
        payload = body.decode("ascii")
    else:
        payload = quoprimime.body_encode(body.decode("latin-1"), _MAX_LINE)
    return (
        f'Content-Type: text/{subtype}; charset="utf-8"\r\nContent-Transfer-Encoding: {cte}\r\n\r\n'
        + "\r\n".join(_NEWLINES.split(payload))
    )


_BOUNDARY_DIGITS = len(repr(sys.maxsize - 1))  # the generator's width for its random token


def _boundary(text: bytes) -> str:
    """The boundary the stdlib's generator would choose (`Generator._make_boundary`): the same
    random token, and the same rule that it must not stand alone on a line of the text as
    `--boundary` or `--boundary--`, checked here without compiling a new regex per message (that
    compile was ~9% of a worker's CPU per email)."""
    token = random.randrange(sys.maxsize)
    boundary = "=" * 15 + f"{token:0{_BOUNDARY_DIGITS}d}" + "=="
    candidate, counter = boundary, 0
    while _on_a_line(text, f"--{candidate}".encode("ascii")):
        candidate = f"{boundary}.{counter}"
        counter += 1
    return candidate


def _on_a_line(text: bytes, delimiter: bytes) -> bool:
    """Does `delimiter` or `delimiter--` fill a line of `text`? (re's `^...(--)?$` in MULTILINE
    mode: a line starts at the text's start or after "\n", and ends before "\n" or at the end.)"""
    start = text.find(delimiter)
    while start >= 0:
        end = start + len(delimiter)
        if start == 0 or text[start - 1 : start] == b"\n":
            rest = text[end : end + 3]
            if rest[:1] in (b"", b"\n") or (rest[:2] == b"--" and rest[2:3] in (b"", b"\n")):
                return True
        start = text.find(delimiter, start + 1)
    return False


def _plain_wire(head: list[str], body_text: str, body_html: str) -> bytes:
    text = _plain_part("plain", body_text)
    if not body_html:
        # set_content adds its Content-* headers, then MIME-Version.
        content, _, body = text.partition("\r\n\r\n")
        return "\r\n".join([*head, content, "MIME-Version: 1.0", "", body]).encode("ascii")
    html = _plain_part("html", body_html)
    parts = [text.encode("ascii"), html.encode("ascii")]
    boundary = _boundary(b"\r\n".join(parts))
    lines = "\r\n".join(
        [*head, "MIME-Version: 1.0", "Content-Type: multipart/alternative;", f' boundary="{boundary}"',
         "", ""]
    )
    delimiter = f"--{boundary}\r\n".encode("ascii")
    return b"".join(
        [lines.encode("ascii"), delimiter, parts[0], b"\r\n", delimiter, parts[1],
         f"\r\n--{boundary}--\r\n".encode("ascii")]
    )
