"""What the rep sees before a send: from, to, subject, first lines, score and warnings (skeleton)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field

from lumina_tui.config import Settings
from lumina_tui.services.context import Actor
from lumina_tui.store import Database


@dataclass(slots=True)
class SendReview:
    draft_id: str
    revision: int
    idempotency_key: str
    account_id: str | None
    from_label: str
    to_email: str
    to_label: str
    subject: str
    preview: str
    spam_risk: float | None = None
    reply_probability: float | None = None
    warnings: list[str] = field(default_factory=list)
    blockers: list[str] = field(default_factory=list)

    @property
    def can_send(self) -> bool:
        return not self.blockers


def build_review(
    db: Database, actor: Actor, settings: Settings, draft_id: str, extra_warnings: Iterable[str] = ()
) -> SendReview:
    from lumina_tui.services import drafts

    draft = drafts.get(db, actor, draft_id)
    return SendReview(
        draft_id=draft.id,
        revision=draft.revision,
        idempotency_key=str(uuid.uuid4()),
        account_id=draft.account_id,
        from_label="",
        to_email="",
        to_label="",
        subject=draft.subject,
        preview=draft.body_text[:200],
        warnings=list(extra_warnings),
    )
