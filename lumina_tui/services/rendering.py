"""The HTML part of a draft, rendered from the text the rep typed (the text is the source of truth)."""

from __future__ import annotations

import html
import re

_URL = re.compile(r"(https?://[^\s<>\"]+)")


def text_to_html(text: str) -> str:
    """Paragraphs from blank lines, <br> from single line breaks, links made clickable."""
    if not text.strip():
        return ""
    paragraphs = re.split(r"\n\s*\n", text.replace("\r\n", "\n").strip())
    rendered = []
    for paragraph in paragraphs:
        escaped = html.escape(paragraph, quote=True)
        linked = _URL.sub(r'<a href="\1">\1</a>', escaped)
        rendered.append("<p>" + linked.replace("\n", "<br>\n") + "</p>")
    return "\n".join(rendered)
