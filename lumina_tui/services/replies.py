"""Is this message a reply to one of our emails, and what did the prospect actually write?

A reply names what it answers in `In-Reply-To` and `References` (RFC 5322), which we match against
the Message-IDs we sent (and the ones a provider assigned instead of ours). A client that quotes our
headers in the body (a forward-as-reply, some mobile clients) still carries `X-Lumina-Email-Id`
there. The snippet is the reply without the quoted original or the signature, cut by
mail-parser-reply (maintained, many languages) rather than by our own patterns; only the `>` lines
it leaves behind (a quote with no "On ... wrote:" line) are dropped here.

Everything here is data from a mailbox: it is stored and shown escaped, never obeyed.
"""

from __future__ import annotations

import html
import re
from email.message import Message

from lumina_tui.services.bounces import EMAIL_ID_IN_TEXT, decoded_text

SNIPPET_CHARS = 280
_MESSAGE_ID = re.compile(r"<[^<>\s]+>")
_TAG = re.compile(r"<[^>]*>")
# The languages whose "On ... wrote:" lines mail-parser-reply recognises and reps are likely to meet.
REPLY_LANGUAGES = ["en", "de", "fr", "es", "it", "nl", "pl", "sv", "da", "cs"]


def referenced_message_ids(msg: Message) -> list[str]:
    """The Message-IDs this message answers: In-Reply-To first, then References, newest first."""
    found: list[str] = []
    in_reply_to = _MESSAGE_ID.findall(str(msg.get("In-Reply-To") or ""))
    references = _MESSAGE_ID.findall(" ".join(str(v) for v in msg.get_all("References") or []))
    for value in [*in_reply_to, *reversed(references)]:
        if value not in found:
            found.append(value)
    return found[:100]


def is_automatic(msg: Message) -> bool:
    """An out-of-office or other machine answer (RFC 3834 and the common X- headers): not a reply."""
    auto = str(msg.get("Auto-Submitted") or "").strip().lower()
    if auto and auto != "no":
        return True
    if msg.get("X-Autoreply") or msg.get("X-Autorespond"):
        return True
    precedence = str(msg.get("Precedence") or "").strip().lower()
    return precedence in {"auto_reply", "bulk", "junk"}


def body_text(msg: Message) -> str:
    """The reply's text: its first text/plain part, else its HTML with the tags taken out."""
    plain = html_part = None
    for part in msg.walk():
        if part.is_multipart() or part.get_content_disposition() == "attachment":
            continue
        kind = part.get_content_type()
        if kind == "text/plain" and plain is None:
            plain = decoded_text(part)
        elif kind == "text/html" and html_part is None:
            html_part = decoded_text(part)
    if plain is not None:
        return plain
    if html_part is not None:
        text = re.sub(r"(?i)<br\s*/?>|</p>|</div>", "\n", html_part)
        return html.unescape(_TAG.sub("", text))
    return ""


def quoted_email_ids(text: str) -> list[str]:
    """Our email ids quoted in a reply's body (`X-Lumina-Email-Id: ...`)."""
    found: list[str] = []
    for match in EMAIL_ID_IN_TEXT.finditer(text[:200_000]):
        value = match.group(1).lower()
        if value not in found:
            found.append(value)
    return found


def snippet(text: str, limit: int = SNIPPET_CHARS) -> str:
    """What the prospect wrote, without the quoted email or signature, on one line, clipped."""
    from mailparser_reply import EmailReplyParser

    text = text.replace("\r\n", "\n")
    try:
        reply = EmailReplyParser(languages=REPLY_LANGUAGES).parse_reply(text=text) or ""
    except Exception:  # an unparseable body still gets a snippet: its start
        reply = text
    # The library cuts at the attribution line ("On ... wrote:", Outlook's header block); a quote
    # without one, or answers written between quoted lines, still leave `>` lines: not their words.
    own = "\n".join(row for row in reply.splitlines() if not row.lstrip().startswith(">"))
    if not own.strip():
        own = reply if reply.strip() else text
    line = " ".join(own.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"
