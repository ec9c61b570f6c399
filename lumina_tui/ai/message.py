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
    data = raw.encode("utf-8") if isinstance(raw, str) else raw
    message = BytesParser(policy=policy.default).parsebytes(data)
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
                payload = part.get_payload(decode=True) or b""
                content = payload.decode("utf-8", errors="replace")
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
