"""One suggestion as a rep reads it: a word diff against the draft, confidence, sources, warnings.

Deletions and insertions are marked twice — colour plus `[-…-]` strike and `{+…+}` underline — so
the diff still reads without colour. Unsupported claims are listed, each quoted, in the warning
colour. The suggested text can be edited here before it is accepted (Enter opens the editor).
What the suggestion did not do (its notes: a field left to fill, part of an instruction not
followed) is listed under the claims. Draft, suggestion and instruction text is shown through
`terminal_safe` (control characters visible, never obeyed) inside `Text` (never markup).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widget import Widget
from textual.widgets import Static, TextArea

from lumina_tui.services.terminal_text import terminal_safe
from lumina_tui.tui.bindings import SUGGESTION_BINDINGS
from lumina_tui.tui.widgets.safe_text import SafeTextArea

BAR_WIDTH = 12
#: A suggestion this old has faded all the way to yellow (it still applies; it is just old news).
FADE_SECONDS = 180.0
DELETE_STYLE = "strike red"
INSERT_STYLE = "underline green"


def freshness_words(age: float, *, stale: bool = False) -> str:
    """How old the suggestion is; a stale one never reads "fresh" (it was made from older text)."""
    if stale:
        return f"stale · {int(age)} s" if age < 60 else f"stale · {int(age // 60)} min"
    if age < 60:
        return f"fresh · {int(age)} s"
    if age < FADE_SECONDS:
        return f"ageing · {int(age // 60)} min"
    return f"old · {int(age // 60)} min"


def confidence_bar(confidence: float, width: int = BAR_WIDTH) -> str:
    filled = round(max(0.0, min(1.0, confidence)) * width)
    return "█" * filled + "░" * (width - filled) + f" {confidence:.2f}"


def _safe(text: str) -> str:
    return terminal_safe(text, multiline=True)


def render_diff(old: str, ops: Sequence[Any]) -> Text:
    """The old text with each op shown in place: `[-deleted-]{+inserted+}`."""
    text = Text()
    position = 0
    for op in ops:
        if op.old_start > position:
            text.append(_safe(old[position : op.old_start]))
        if op.old:
            text.append(f"[-{_safe(op.old)}-]", style=DELETE_STYLE)
        if op.new:
            text.append(f"{{+{_safe(op.new)}+}}", style=INSERT_STYLE)
        position = op.old_end
    text.append(_safe(old[position:]))
    return text


def claims_text(claims: Sequence[Any], notes: Sequence[str] = ()) -> Text:
    """Unsupported claims, each quoted, then what the suggestion could not do (its notes)."""
    if not claims:
        text = Text("✓ no unsupported claims", style="green")
    else:
        plural = "s" if len(claims) != 1 else ""
        text = Text(f"⚠ {len(claims)} unsupported claim{plural}:", style="bold yellow")
        for claim in claims:
            text.append(f"\n  “{terminal_safe(claim.text)}” ({claim.kind})", style="yellow")
    for note in notes:
        text.append(f"\nⓘ {terminal_safe(note)}", style="italic")
    return text


def meta_text(suggestion: Any, age: float, stale: bool) -> Text:
    """Five fixed lines: confidence, sources, tone match and age, what was asked, staleness."""
    signals = suggestion.source_signals
    what = suggestion.operation
    if suggestion.instruction:
        what += f": {terminal_safe(suggestion.instruction)}"
    else:
        what += f" · tone {suggestion.tone:.1f}"
    meta = Text(confidence_bar(suggestion.confidence), style="bold")
    meta.append(f"\nprospect {signals.prospect_match:.1f} · company {signals.company_match:.1f}")
    meta.append(f"\ntone {signals.tone_match:.1f} · {freshness_words(age, stale=stale)}")
    meta.append(f"\n{what}", style="dim")
    meta.append("\n⚠ stale: the draft changed" if stale else "\n", style="bold yellow")
    return meta


class SuggestionMeta(Widget):
    """The suggestion's header. Its height never changes, so the per-second age update is a repaint
    of these lines only, never a relayout of the panel (whose diff may be thousands of words)."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.suggestion: Any = None
        self.age = 0.0
        self.stale = False

    def show(self, suggestion: Any, age: float, stale: bool) -> None:
        self.suggestion, self.age, self.stale = suggestion, age, stale
        self.refresh()

    def render(self) -> Text:
        if self.suggestion is None:
            return Text("")
        return meta_text(self.suggestion, self.age, self.stale)


class SuggestionView(VerticalScroll, can_focus=True):
    """Shows one suggestion; `edited_body` is what Accept applies."""

    DEFAULT_CSS = """
    SuggestionView #suggestion-meta {
        height: 5;
        text-wrap: nowrap;
        text-overflow: ellipsis;
        margin-bottom: 1;
    }
    SuggestionView #suggestion-subject {
        margin-bottom: 1;
    }
    SuggestionView #suggestion-claims {
        margin-top: 1;
    }
    SuggestionView #suggestion-editor {
        height: auto;
        min-height: 5;
        max-height: 20;
        border: round $accent;
    }
    """

    BINDINGS = SUGGESTION_BINDINGS

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.suggestion: Any = None
        self._suggested_subject: str | None = None
        self._suggested_body: str | None = None
        self._age = 0.0
        self._stale = False
        #: The draft body the diff on show was computed against (a stale one is re-diffed later).
        self.diffed_against: str | None = None

    def compose(self) -> ComposeResult:
        yield SuggestionMeta(id="suggestion-meta")
        yield Static(id="suggestion-subject", markup=False)
        yield Static(id="suggestion-diff", markup=False)
        yield Static(id="suggestion-claims", markup=False)
        editor = SafeTextArea(id="suggestion-editor", soft_wrap=True, show_line_numbers=False)
        editor.display = False
        yield editor

    # ------------------------------------------------------------------ content

    def show(self, suggestion: Any, draft_subject: str, draft_body: str) -> None:
        """Show a suggestion; its own diff is used when it was made from exactly this draft."""
        self.suggestion = suggestion
        content = suggestion.suggestion
        self._suggested_subject = content.subject
        self._suggested_body = content.body
        editor = self.query_one("#suggestion-editor", TextArea)
        editor.display = False
        editor.load_text(content.body if content.body is not None else draft_body)
        self._age = 0.0
        self._render_meta()
        self.diffed_against = draft_body
        body = content.body
        if body is None:
            self.query_one("#suggestion-diff", Static).update(Text(_safe(draft_body)))
        elif list(content.diff) and _diff_matches(draft_body, content.diff):
            self.query_one("#suggestion-diff", Static).update(render_diff(draft_body, content.diff))
        else:
            self.rediff(draft_body)
        self.show_subject(draft_subject)
        claims = claims_text(suggestion.unsupported_claims, getattr(suggestion, "notes", ()))
        self.query_one("#suggestion-claims", Static).update(claims)
        self.scroll_home(animate=False)

    def show_subject(self, draft_subject: str) -> None:
        subject = self._suggested_subject
        widget = self.query_one("#suggestion-subject", Static)
        if subject is None or subject == draft_subject:
            widget.display = False
            return
        widget.display = True
        from lumina_tui.ai.diff import word_diff  # the AI package loads after the first frame

        label = Text("Subject: ", style="bold")
        label.append_text(render_diff(draft_subject, word_diff(draft_subject, subject)))
        widget.update(label)

    def rediff(self, draft_body: str) -> None:
        """Diff against the draft as it is now (a stale suggestion, after the rep edited)."""
        if self._suggested_body is None:
            return
        from lumina_tui.ai.diff import word_diff

        ops = word_diff(draft_body, self._suggested_body)
        self.query_one("#suggestion-diff", Static).update(render_diff(draft_body, ops))
        self.diffed_against = draft_body

    def show_diff(self, draft_body: str, ops: Sequence[Any]) -> None:
        """A diff computed elsewhere (a worker) against `draft_body`."""
        self.query_one("#suggestion-diff", Static).update(render_diff(draft_body, ops))
        self.diffed_against = draft_body

    def set_stale(self, stale: bool) -> None:
        if stale != self._stale:
            self._stale = stale
            self._render_meta()

    def set_age(self, age: float) -> None:
        self._age = age
        self._render_meta()

    def clear(self) -> None:
        self.suggestion = None
        self._suggested_subject = None
        self._suggested_body = None
        self.diffed_against = None
        self.query_one(SuggestionMeta).show(None, 0.0, False)
        for name in ("#suggestion-subject", "#suggestion-diff", "#suggestion-claims"):
            self.query_one(name, Static).update("")
        editor = self.query_one("#suggestion-editor", TextArea)
        editor.display = False

    def _render_meta(self) -> None:
        self.query_one(SuggestionMeta).show(self.suggestion, self._age, self._stale)

    # ------------------------------------------------------------------ editing

    @property
    def suggested_body(self) -> str | None:
        return self._suggested_body

    @property
    def suggested_subject(self) -> str | None:
        return self._suggested_subject

    @property
    def editing(self) -> bool:
        return bool(self.query_one("#suggestion-editor", TextArea).display)

    @property
    def edited_body(self) -> str | None:
        """The text Accept applies: the rep's edit of the suggestion when they made one."""
        if self.editing:
            return self.query_one("#suggestion-editor", TextArea).text
        return self._suggested_body

    @property
    def was_edited(self) -> bool:
        return self.editing and self.edited_body != self._suggested_body

    def action_edit_suggestion(self) -> None:
        if self.suggestion is None:
            return
        editor = self.query_one("#suggestion-editor", TextArea)
        editor.display = True
        editor.focus()
        self.scroll_to_widget(editor, animate=False)


def _diff_matches(old: str, ops: Sequence[Any]) -> bool:
    """The suggestion's own diff fits this text (same draft): every op's old text is where it says."""
    return all(
        0 <= op.old_start <= op.old_end <= len(old) and old[op.old_start : op.old_end] == op.old for op in ops
    )
