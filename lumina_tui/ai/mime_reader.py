"""Read a whole RFC 5322 message into what the score needs: subject, text, HTML, links, images.

Spam filters judge the message, not the draft: an HTML-only body, an image with no text, or a text
part that says something other than the HTML part are signals in their own right, so scoring an
.eml file must see the MIME structure.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from html.parser import HTMLParser

from lumina_tui.ai.errors import AIError

# Limits on what scoring parses. Python's email parser recurses once per nested multipart and
# slows down linearly with size (a 40 MB message took a minute), so a hostile or broken message
# is refused by size and by its number of multipart sections (an upper bound of its depth) before
# the parser sees it. Real mail is far below both: a few MB, a handful of sections.
MAX_MESSAGE_BYTES = 10 * 1024 * 1024
MAX_MULTIPART_SECTIONS = 100
_MULTIPART = re.compile(rb"(?im)^content-type:[ \t]*(?:\r?\n[ \t]+)?multipart/")


def limit_problem(data: bytes) -> str | None:
    """Why `data` is too big or too deeply nested to score, or None when it is fine."""
    if len(data) > MAX_MESSAGE_BYTES:
        return (
            f"the message is {len(data) / 1_000_000:.1f} MB; scoring reads messages up to "
            f"{MAX_MESSAGE_BYTES // (1024 * 1024)} MB"
        )
    sections = len(_MULTIPART.findall(data))
    if sections > MAX_MULTIPART_SECTIONS:
        return (
            f"the message has {sections} multipart sections (MIME parts nested or stacked that "
            f"deep are a malformed or hostile message); scoring reads at most {MAX_MULTIPART_SECTIONS}"
        )
    return None


class _HTMLText(HTMLParser):
    """Visible text, link targets and image count of an HTML part (script/style dropped)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.chunks: list[str] = []
        self.links: list[str] = []
        self.images = 0
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in {"script", "style", "head", "title"}:
            self._skip += 1
        elif tag == "a":
            href = dict(attrs).get("href")
            if href and not href.startswith(("mailto:", "#")):
                self.links.append(href)
        elif tag == "img":
            self.images += 1
        elif tag in {"p", "br", "div", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6"}:
            self.chunks.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in {"script", "style", "head", "title"} and self._skip:
            self._skip -= 1
        elif tag in {"p", "div", "li", "h1", "h2", "h3", "h4", "h5", "h6"}:
            self.chunks.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.chunks.append(data)


def html_to_text(html: str) -> tuple[str, list[str], int]:
    """(visible text, hrefs, image count)."""
    parser = _HTMLText()
    parser.feed(html)
    parser.close()
    text = re.sub(r"[ \t]+", " ", "".join(parser.chunks))
    text = re.sub(r"\n\s*\n+", "\n\n", text).strip()
    return text, parser.links, parser.images


@dataclass
class ParsedMessage:
    subject: str
    has_subject_header: bool
    text: str | None
    html: str | None
    html_text: str
    html_links: list[str] = field(default_factory=list)
    images: int = 0


def parse_message(raw: bytes | str) -> ParsedMessage:
    """Parse headers and MIME parts; attachments other than inline images are ignored."""
    data = raw.encode("utf-8", errors="replace") if isinstance(raw, str) else raw
    problem = limit_problem(data)
    if problem is not None:
        raise AIError("invalid_input", problem)
    try:
        message = BytesParser(policy=policy.default).parsebytes(data)
    except RecursionError as exc:  # a nesting the section count did not catch
        raise AIError("invalid_input", "the message's MIME parts are nested too deeply to read") from exc
    assert isinstance(message, EmailMessage)
    subject_header = message["Subject"]
    texts: list[str] = []
    htmls: list[str] = []
    images = 0
    for part in message.walk():
        if part.is_multipart():
            continue
        content_type = part.get_content_type()
        disposition = part.get_content_disposition()
        if content_type.startswith("image/"):
            images += 1
            continue
        if disposition == "attachment":
            continue
        if content_type in {"text/plain", "text/html"}:
            try:
                content = part.get_content()
            except (LookupError, UnicodeDecodeError):
                payload = part.get_payload(decode=True)
                raw = payload if isinstance(payload, bytes) else b""
                content = raw.decode("utf-8", errors="replace")
            (texts if content_type == "text/plain" else htmls).append(str(content))
    html = "\n".join(htmls) if htmls else None
    html_text, links, html_images = html_to_text(html) if html else ("", [], 0)
    return ParsedMessage(
        subject=str(subject_header or "").strip(),
        has_subject_header=subject_header is not None,
        text="\n".join(texts).strip() if texts else None,
        html=html,
        html_text=html_text,
        html_links=links,
        images=max(images, html_images),
    )
