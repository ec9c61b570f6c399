"""Messages the composer's thread workers post back to the UI thread.

Slow work (saving, AI, scoring, sending) runs off the event loop; it reports with one of these, and
only the UI thread touches widgets. Each AI answer carries the request number it answers, so an
answer to a superseded request is recognised and dropped.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from textual.message import Message

if TYPE_CHECKING:  # types only: the composer imports no AI code until a suggestion is asked for
    from lumina_tui.ai.models import Score, Suggestion
    from lumina_tui.services.send_review import SendReview


class QueuedEmail(Protocol):
    """What the composer reads of the email `services.sending.send` stored (a `store.models.Email`,
    which the UI may not import): its id, for undo, and when it goes out, for the countdown."""

    @property
    def id(self) -> str: ...

    @property
    def send_after(self) -> datetime: ...


def error_text(exc: BaseException) -> str:
    """What a rep reads when a worker's call failed: the service's message, else the exception's."""
    text = getattr(exc, "message", None) or str(exc) or exc.__class__.__name__
    return str(text)


@dataclass
class DraftSaved(Message):
    """A snapshot of the draft reached the store as `revision`."""

    draft_id: str
    revision: int
    saved_at: float  # the composer's clock


@dataclass
class DraftSaveFailed(Message):
    """A save failed; the autosaver retries after `retry_in` seconds."""

    draft_id: str
    error: str
    retry_in: float


@dataclass
class SuggestionArrived(Message):
    """The AI answered request `request_id`."""

    request_id: int
    suggestion: Suggestion


@dataclass
class SuggestionFailed(Message):
    """The AI request failed; the message is shown in the panel, typing and sending go on."""

    request_id: int
    message: str


@dataclass
class ScoreArrived(Message):
    """A fresh `ai.models.Score` for the draft as it was at `revision`."""

    request_id: int
    score: Score
    revision: int


@dataclass
class ScoreFailed(Message):
    request_id: int
    message: str


@dataclass
class ReviewReady(Message):
    """The send review is built; the composer shows it."""

    review: SendReview


@dataclass
class SendQueued(Message):
    """`services.sending.send` stored the email (`created` False: the same key came back)."""

    email: QueuedEmail
    created: bool


@dataclass
class SendFailed(Message):
    message: str
    retryable: bool


@dataclass
class SendUndone(Message):
    """The queued email was cancelled inside its undo window; `draft_id` is the restored draft."""

    email_id: str
    draft_id: str


@dataclass
class UndoFailed(Message):
    message: str


@dataclass
class WorkerStatusRead(Message):
    online: bool
    detail: str
