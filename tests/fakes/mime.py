"""MIME helpers the mailbox fakes share: parse a raw message, find its text, thread it, and build the
messages a test injects (a reply to a sent message, an RFC 3464 bounce for it).

    reply = reply_to(sent_raw, from_addr="ana@brightwave.example", text="Sounds good, Tuesday works.")
    bounce = dsn_for(sent_raw, recipient="nobody@brightwave.example", status="5.1.1",
                     reporting_mta="mx.google.com", sender="mailer-daemon@googlemail.com")
"""

from __future__ import annotations

import email
import email.policy
import re
import uuid
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, getaddresses, parseaddr


def parse(raw: bytes) -> EmailMessage:
    return email.message_from_bytes(raw, policy=email.policy.default)  # type: ignore[return-value]


def text_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    try:
        return str(part.get_content())
    except (LookupError, KeyError):
        return ""


def snippet(message: EmailMessage, limit: int = 200) -> str:
    return re.sub(r"\s+", " ", text_of(message)).strip()[:limit]


def addresses(message: EmailMessage, *names: str) -> list[tuple[str, str]]:
    values = [str(v) for name in names for v in message.get_all(name, [])]
    return [(n, a) for n, a in getaddresses(values) if a]


def message_ids(value: str | None) -> list[str]:
    return re.findall(r"<[^<>\s]+>", value or "")


def references(message: EmailMessage) -> list[str]:
    """The Message-IDs this message answers (In-Reply-To, then References)."""
    found = message_ids(str(message.get("In-Reply-To") or "")) + message_ids(
        str(message.get("References") or "")
    )
    return list(dict.fromkeys(found))


def new_message_id(domain: str) -> str:
    return f"<{uuid.uuid4().hex}@{domain}>"


def reply_to(
    original_raw: bytes,
    *,
    from_addr: str | None = None,
    text: str = "Thanks, that sounds good. Tuesday works for me.",
    quote: bool = True,
    domain: str = "brightwave.example",
    message_id_override: str | None = None,
) -> bytes:
    """A reply as a prospect's mail program writes it: Re: subject, In-Reply-To/References, quote."""
    original = parse(original_raw)
    to_name, to_addr = parseaddr(str(original.get("From", "")))
    sender = from_addr or (
        addresses(original, "To")[0][1] if addresses(original, "To") else "prospect@x.test"
    )
    reply = EmailMessage()
    reply["From"] = sender
    reply["To"] = str(original.get("From", to_addr))
    subject = str(original.get("Subject", ""))
    reply["Subject"] = subject if subject.lower().startswith("re:") else f"Re: {subject}"
    reply["Date"] = format_datetime(datetime.now(UTC))
    reply["Message-ID"] = message_id_override or new_message_id(domain)
    parent = str(original.get("Message-ID", "")).strip()
    if parent:
        reply["In-Reply-To"] = parent
        chain = " ".join([*message_ids(str(original.get("References") or "")), parent])
        reply["References"] = chain
    body = text
    if quote:
        quoted = "\n".join(f"> {line}" for line in text_of(original).splitlines())
        body += f"\n\nOn {original.get('Date', 'Monday')}, {to_name or to_addr} wrote:\n{quoted}\n"
    reply.set_content(body)
    return reply.as_bytes(policy=email.policy.SMTP)


def dsn_for(
    original_raw: bytes,
    *,
    recipient: str | None = None,
    status: str = "5.1.1",
    action: str = "failed",
    diagnostic: str = "smtp; 550 5.1.1 The email account that you tried to reach does not exist.",
    reporting_mta: str = "mx.google.com",
    sender: str = "mailer-daemon@googlemail.com",
    to: str | None = None,
) -> bytes:
    """An RFC 3464 delivery status notification for `original_raw` (multipart/report)."""
    original = parse(original_raw)
    rcpt = recipient or (addresses(original, "To")[0][1] if addresses(original, "To") else "nobody@x.test")
    dsn = EmailMessage()
    dsn["From"] = f"Mail Delivery Subsystem <{sender}>"
    dsn["To"] = to or str(original.get("From", ""))
    dsn["Subject"] = "Delivery Status Notification (Failure)" if action == "failed" else "Delivery delayed"
    dsn["Date"] = format_datetime(datetime.now(UTC))
    dsn["Message-ID"] = new_message_id(reporting_mta)
    parent = str(original.get("Message-ID", "")).strip()
    if parent:
        dsn["In-Reply-To"] = parent
        dsn["References"] = parent
    dsn["Auto-Submitted"] = "auto-replied"
    dsn.set_content(f"Your message wasn't delivered to {rcpt}.\n\n{diagnostic}\n")
    dsn.make_mixed()
    dsn.replace_header("Content-Type", 'multipart/report; report-type="delivery-status"')
    # message/delivery-status holds header blocks (one per message, one per recipient), which the
    # email package serialises only from Message objects, never from a string payload.
    per_message = EmailMessage(policy=email.policy.SMTP)
    per_message["Reporting-MTA"] = f"dns; {reporting_mta}"
    per_recipient = EmailMessage(policy=email.policy.SMTP)
    per_recipient["Final-Recipient"] = f"rfc822; {rcpt}"
    per_recipient["Action"] = action
    per_recipient["Status"] = status
    per_recipient["Diagnostic-Code"] = diagnostic
    status_part = EmailMessage()
    status_part["Content-Type"] = "message/delivery-status"
    status_part.set_payload([per_message, per_recipient])
    dsn.attach(status_part)
    headers_part = EmailMessage()
    head = (
        original_raw.split(b"\r\n\r\n", 1)[0]
        if b"\r\n\r\n" in original_raw
        else original_raw.split(b"\n\n", 1)[0]
    )
    headers_part.set_payload(head.decode("utf-8", errors="replace"))
    headers_part["Content-Type"] = "text/rfc822-headers"
    dsn.attach(headers_part)
    return dsn.as_bytes(policy=email.policy.SMTP)
