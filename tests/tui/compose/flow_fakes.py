"""Plain hosts for the composer's flows, so their rules are tested without an app or a terminal.

A host records what the flow asked of the screen; a job handed to `run_service` is kept, not run
(a test runs it against a real store where it matters, or hands the flow the message it would post).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from lumina_tui.tui.widgets.draft_autosave import DraftSnapshot


@dataclass
class Timer:
    delay: float
    callback: Callable[[], Any]
    name: str | None
    stopped: bool = False

    def stop(self) -> None:
        self.stopped = True


@dataclass
class Autosave:
    """What the flows use of `DraftAutosave`: capture, the stored revision, edited, save_soon,
    save_blocking, cancel."""

    snapshot: DraftSnapshot
    revision: int = 1
    state: str = "saved"
    captures: int = 0
    edits: int = 0
    saves_soon: int = 0
    saved: list[int] = field(default_factory=list)
    cancelled: bool = False

    def edited(self) -> None:
        self.edits += 1

    def save_blocking(self, seq: int, snapshot: DraftSnapshot, **_options: Any) -> int:
        self.saved.append(seq)
        return self.revision

    def capture(self) -> tuple[int, DraftSnapshot]:
        self.captures += 1
        return self.captures, self.snapshot

    def save_soon(self) -> None:
        self.saves_soon += 1

    def cancel(self) -> None:
        self.cancelled = True


@dataclass
class Host:
    """Records every request a flow makes of its screen."""

    subject: str = "Hello"
    body: str = "Hi Ana, would a short call next week be useful?"
    tone: float = 0.5
    prospect_id: str | None = "p-1"
    draft_id: str = "d-1"
    read_only: bool = False
    autosave: Any = None
    runtime: Any = None
    hash: str = "h-1"
    now: float = 100.0
    jobs: list[tuple[str, Callable[[], Any]]] = field(default_factory=list)
    owners: list[Any] = field(default_factory=list)
    timers: list[Timer] = field(default_factory=list)
    asked: list[tuple[Any, Callable[[Any], None]]] = field(default_factory=list)
    said: list[str] = field(default_factory=list)
    glow: list[str] = field(default_factory=list)
    banner: str | None = None
    banner_error: bool = False
    after_sent: list[Callable[[], None] | None] = field(default_factory=list)
    replaced: list[tuple[str | None, str | None, str | None]] = field(default_factory=list)
    reopened: list[tuple[str, Callable[[], None] | None]] = field(default_factory=list)
    bells: int = 0
    read_only_explained: int = 0
    new_drafts: int = 0
    score: Any = None
    score_revision: int = 0
    claims: list[str] = field(default_factory=list)
    accepted: list[str] = field(default_factory=list)
    panel_body: str | None = "Hi Ana, a better pitch."
    panel_edited: bool = False
    panel_subject: str | None = None

    # shared
    def run_service(
        self, job: Callable[[], Any], *, group: str, exclusive: bool = True, owner: Any = None
    ) -> None:
        self.jobs.append((group, job))
        self.owners.append(owner)

    def set_timer(self, delay: float, callback: Callable[[], Any], *, name: str | None = None) -> Timer:
        timer = Timer(delay, callback, name)
        self.timers.append(timer)
        return timer

    def ask(self, screen: Any, answered: Callable[[Any], None]) -> None:
        self.asked.append((screen, answered))

    def key_of(self, action: str) -> str:
        return {"send": "^s", "undo_send": "f8", "personalize": "^g", "rewrite": "^r"}.get(action, action)

    def key_name(self, key: str) -> str:
        return key.replace("ctrl+", "^")

    def explain_read_only(self) -> None:
        self.read_only_explained += 1

    def screen_text(self) -> tuple[str, str, float]:
        return self.subject, self.body, self.tone

    def current_hash(self) -> str:
        return self.hash

    def clock(self) -> float:
        return self.now

    def focus_body(self) -> None:
        pass

    # SuggestionHost
    def show_glow(self, state: str, suggestion: Any) -> None:
        self.glow.append(state)

    def show_ai_note(self, text: str, *, error: bool = False) -> None:
        self.said.append(text)

    def clear_ai_panel(self, note: str) -> None:
        self.said.append(note)

    def show_suggestion(self, suggestion: Any) -> None:
        pass

    def show_suggestion_age(self, seconds: float) -> None:
        pass

    def show_rediff(self, body: str, ops: list[Any]) -> None:
        pass

    def panel_edits(self) -> Any:
        from lumina_tui.tui.compose.suggestions import PanelEdits

        return PanelEdits(self.panel_body, self.panel_edited, self.panel_subject)

    def suggested_body(self) -> str | None:
        return self.panel_body

    def replace_text(
        self, subject: str | None, body: str | None, *, suggestion_id: str | None = None
    ) -> None:
        self.replaced.append((subject, body, suggestion_id))
        if subject is not None:
            self.subject = subject
        if body is not None:
            self.body = body

    def open_drawer(self) -> None:
        pass

    def close_drawer(self) -> None:
        pass

    def when_typing_pauses(self, update: Callable[[], object]) -> None:
        update()

    def settle_memory_soon(self) -> None:
        pass

    def show_score_pending(self) -> None:
        pass

    def show_score(self, score: Any, revision: int) -> None:
        self.score, self.score_revision = score, revision

    def show_score_error(self, text: str) -> None:
        self.said.append(text)

    def shown_score(self) -> tuple[Any, int]:
        return self.score, self.score_revision

    # SendHost
    def bell(self) -> None:
        self.bells += 1

    def refresh_bindings(self) -> None:
        pass

    def show_banner(self, text: str, *, error: bool = False) -> None:
        self.banner, self.banner_error = text, error

    def hide_banner(self) -> None:
        self.banner = None

    def send_warnings(self, body: str) -> list[str]:
        return [claim for claim in self.claims if claim in body]

    def accepted_suggestion_ids(self) -> list[str]:
        return self.accepted

    def sent(self, then: Callable[[], None] | None) -> None:
        """The screen runs `then` after the next frame; a test runs it when it wants."""
        self.new_drafts += 1
        self.after_sent.append(then)

    def reopen(self, draft_id: str, after: Callable[[], None] | None) -> None:
        self.reopened.append((draft_id, after))


@dataclass
class Suggestion:
    input_hash: str
    suggestion_id: str = "s-1"
    confidence: float = 0.8
    tone: float | None = 0.5
    operation: str = "personalize"
    unsupported_claims: list[Any] = field(default_factory=list)


@dataclass
class Claim:
    text: str


@dataclass
class Review:
    draft_id: str
    revision: int
    idempotency_key: str
    to_email: str = "ana@example.com"
    account_id: str = "a-1"
    can_send: bool = True


@dataclass
class Email:
    id: str
    send_after: datetime


def snapshot(body: str = "Hi Ana", draft_id: str = "d-1") -> DraftSnapshot:
    return DraftSnapshot(draft_id, "Hello", body, "p-1")
