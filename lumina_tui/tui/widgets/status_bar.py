"""The composer's top line: who the draft is for, whether it is saved, the worker, and the AI state.

At 80 columns it is the only place the glow state shows while the AI panel is folded away, so the
state is spelled out ("AI: ready 0.82"), never only coloured.
"""

from __future__ import annotations

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

AI_WORDS = {
    "idle": "AI: idle",
    "thinking": "AI: thinking…",
    "suggestion_ready": "AI: ready",
    "stale": "AI: stale",
    "applied": "AI: applied",
}


def save_words(state: str, saved_at: float | None, now: float) -> str:
    """ "saved 2 s ago" / "saving…" / "save failed, retrying" / "new draft"."""
    if state == "failed":
        return "save failed, retrying"
    if state in ("saving", "pending"):
        return "saving…"
    if saved_at is None:
        return "new draft"
    age = max(0, int(now - saved_at))
    if age < 60:
        return f"saved {age} s ago"
    if age < 3600:
        return f"saved {age // 60} min ago"
    return f"saved {age // 3600} h ago"


class StatusBar(Widget):
    """One line; every part is a reactive so a change repaints only this line."""

    who: reactive[str] = reactive("")
    saved: reactive[str] = reactive("new draft")
    worker: reactive[str] = reactive("")
    ai: reactive[str] = reactive("idle")
    confidence: reactive[float] = reactive(0.0)
    narrow: reactive[bool] = reactive(False)
    read_only: reactive[bool] = reactive(False)
    #: What a read-only draft became ("sent", "cancelled", "queued", …), as `drafts.status_of` says.
    frozen_as: reactive[str] = reactive("sent")
    #: Unread alerts (replies, bounces, failed sends, sign-in); shown only when there are some.
    alerts: reactive[int] = reactive(0)

    def render(self) -> Text:
        left = Text(" Lumina ─ ", style="bold")
        left.append(self.who or "Compose")
        if self.read_only:
            left.append(f"  [{self.frozen_as}: read-only]", style="bold yellow")
        parts: list[tuple[str, str]] = []
        if self.alerts:
            parts.append((f"◆ {self.alerts} alert{'s' if self.alerts != 1 else ''}", "bold magenta"))
        parts.append((("● " if self.narrow else "") + self.saved, "yellow" if "failed" in self.saved else ""))
        if self.worker and not self.narrow:
            parts.append((self.worker, "green" if "online" in self.worker else "red"))
        ai = AI_WORDS.get(self.ai, self.ai)
        if self.ai in ("suggestion_ready", "stale"):
            ai += f" {self.confidence:.2f}"
        parts.append((ai, "bold"))
        right = Text()
        for index, (words, style) in enumerate(parts):
            if index:
                right.append("   ")
            right.append(words, style=style)
        right.append(" ")
        width = self.size.width or 80
        gap = max(1, width - left.cell_len - right.cell_len)
        if left.cell_len + right.cell_len + 1 > width:
            left.truncate(max(10, width - right.cell_len - 2), overflow="ellipsis")
            gap = max(1, width - left.cell_len - right.cell_len)
        return Text.assemble(left, " " * gap, right)
