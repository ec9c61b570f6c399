"""Is this message a bounce, who bounced, hard or soft, and which of our emails came back?

Deciding who bounced is flufl.bounce's job (Mailman's detectors, built over years on real-world
bounces: RFC 3464 DSNs, Exim, qmail, Exchange, Yahoo, ...): `all_failures` answers with the
temporary (soft) and permanent (hard) failed addresses. Lumina adds two things around it:

- a gate: only a message that looks like a delivery report (a `multipart/report`, a null
  Return-Path, or a mailer-daemon/postmaster sender) is asked at all. flufl.bounce is made for a
  list's bounce address, where everything is a bounce; a rep's inbox is mostly replies, and a reply
  that merely says "unknown user" must never suppress the prospect who wrote it.
- which email came back: the returned original (a `message/rfc822` or `text/rfc822-headers` part,
  or the original quoted inline by a non-standard bounce) carries our `X-Lumina-Email-Id` and
  Message-ID. Gmail replaces our Message-ID, so the header is tried first.

The DSN's own fields (Status, Diagnostic-Code) are read only to explain the bounce to the rep.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from email.message import Message
from email.parser import HeaderParser
from email.policy import compat32
from email.utils import parseaddr

EMAIL_ID_HEADER = "X-Lumina-Email-Id"
EMAIL_ID_IN_TEXT = re.compile(
    r"(?i)X-Lumina-Email-Id:\s*([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})"
)
_MESSAGE_ID_IN_TEXT = re.compile(r"(?im)^\s*Message-ID:\s*(<[^<>\s]+>)")
_REPORT_SENDERS = ("mailer-daemon", "postmaster", "mail-delivery-subsystem", "microsoftexchange")
_ORIGINAL_TYPES = (
    "message/rfc822",
    "text/rfc822-headers",
    "message/rfc822-headers",
    "message/global-headers",
)
_MAX_TEXT = 200_000


@dataclass(frozen=True, slots=True)
class BouncedRecipient:
    address: str
    hard: bool
    status: str = ""  # the DSN's Status, e.g. "5.1.1", when the report has one
    diagnostic: str = ""  # the remote server's words, e.g. "550 5.1.1 user unknown"

    @property
    def kind(self) -> str:
        return "hard" if self.hard else "soft"


@dataclass(frozen=True, slots=True)
class Bounce:
    recipients: list[BouncedRecipient]
    email_ids: list[str] = field(default_factory=list)  # X-Lumina-Email-Id of the returned original
    message_ids: list[str] = field(default_factory=list)  # its Message-ID


def looks_like_report(msg: Message) -> bool:
    """A delivery report by its envelope or type (RFC 3464 / RFC 5321), not by its wording."""
    if msg.get_content_type() == "multipart/report":
        return True
    if str(msg.get("Return-Path") or "").strip() == "<>":
        return True
    sender = parseaddr(str(msg.get("From") or ""))[1].lower()
    local = sender.split("@", 1)[0]
    return any(local.startswith(name) for name in _REPORT_SENDERS)


def parse_bounce(msg: Message) -> Bounce | None:
    """The bounce this message reports, or None when it is not a bounce of anything."""
    if not looks_like_report(msg):
        return None
    from flufl.bounce import all_failures

    try:
        temporary, permanent = all_failures(msg)
    except Exception:  # a malformed report must not stop the sync; it is just not a bounce we understand
        return None
    if not temporary and not permanent:
        return None
    details = _dsn_details(msg)
    recipients: list[BouncedRecipient] = []
    for hard, found in ((True, permanent), (False, temporary)):
        for raw in sorted(found):
            address = raw.decode("ascii", errors="replace").strip().lower()
            if not address or any(r.address == address for r in recipients):
                continue
            status, diagnostic = details.get(address, ("", ""))
            recipients.append(BouncedRecipient(address, hard, status, diagnostic))
    email_ids, message_ids = _returned_original(msg)
    return Bounce(recipients=recipients, email_ids=email_ids, message_ids=message_ids)


def _dsn_details(msg: Message) -> dict[str, tuple[str, str]]:
    """address -> (Status, Diagnostic-Code) from every message/delivery-status part."""
    found: dict[str, tuple[str, str]] = {}
    for part in msg.walk():
        if part.get_content_type() != "message/delivery-status" or not part.is_multipart():
            continue
        for block in part.get_payload():
            if not isinstance(block, Message):
                continue
            recipient = str(block.get("Final-Recipient") or block.get("Original-Recipient") or "")
            if not recipient:
                continue
            address = recipient.split(";", 1)[-1].strip().strip("<>").lower()
            status = " ".join(str(block.get("Status") or "").split())
            diagnostic = str(block.get("Diagnostic-Code") or "")
            diagnostic = " ".join(diagnostic.split(";", 1)[-1].split())[:500]
            found.setdefault(address, (status, diagnostic))
    return found


def _returned_original(msg: Message) -> tuple[list[str], list[str]]:
    """(X-Lumina-Email-Id values, Message-IDs) of the message that came back."""
    email_ids: list[str] = []
    message_ids: list[str] = []

    def add(target: list[str], value: str | None) -> None:
        value = (value or "").strip()
        if value and value not in target:
            target.append(value)

    texts: list[str] = []
    for part in msg.walk():
        kind = part.get_content_type()
        if kind in _ORIGINAL_TYPES:
            headers = _headers_of(part)
            if headers is not None:
                add(email_ids, str(headers.get(EMAIL_ID_HEADER) or "").lower())
                add(message_ids, str(headers.get("Message-ID") or ""))
        elif part.get_content_maintype() == "text":
            texts.append(decoded_text(part))
    # Non-standard bounces quote the original's headers inline in the text.
    text = "\n".join(texts)[:_MAX_TEXT]
    for match in EMAIL_ID_IN_TEXT.finditer(text):
        add(email_ids, match.group(1).lower())
    for match in _MESSAGE_ID_IN_TEXT.finditer(text):
        add(message_ids, match.group(1))
    return email_ids, message_ids


def _headers_of(part: Message) -> Message | None:
    payload = part.get_payload()
    if isinstance(payload, list) and payload and isinstance(payload[0], Message):
        return payload[0]
    if part.is_multipart():
        return None
    text = decoded_text(part)
    return HeaderParser(policy=compat32).parsestr(text, headersonly=True) if text else None


def decoded_text(part: Message) -> str:
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        raw = part.get_payload()
        return raw if isinstance(raw, str) else ""
    charset = part.get_content_charset() or "utf-8"
    try:
        return payload.decode(charset, errors="replace")
    except LookupError:
        return payload.decode("utf-8", errors="replace")
