"""`emails list --after ID`: keyset pages walk the outbox newest first, the same rows as offsets."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from lumina_tui.config import Settings
from lumina_tui.services import outbox, sending
from lumina_tui.services.actors import Actor
from lumina_tui.services.errors import NotFoundError, ValidationError
from lumina_tui.store import Database
from lumina_tui.store.models import Account, EmailDraft


def test_keyset_pages_match_offset_pages(
    db: Database, actor: Actor, settings: Settings, maildir_account: Account,
    make_draft: Callable[..., EmailDraft],
) -> None:
    for _ in range(7):
        sending.send(db, actor, draft_id=make_draft().id, settings=settings)
    everything = [e.id for e in outbox.list_emails(db, actor, limit=50).items]
    assert len(everything) == 7
    walked: list[str] = []
    after: str | None = None
    while True:
        page = outbox.list_emails(db, actor, limit=3, after=after)
        assert page.total == 7  # the total counts the whole outbox, not what is left
        if not page.items:
            break
        walked += [e.id for e in page.items]
        after = page.items[-1].id
    assert walked == everything
    assert [e.id for e in outbox.list_emails(db, actor, limit=3, offset=3).items] == everything[3:6]


def test_an_unknown_or_malformed_cursor_names_the_field(db: Database, actor: Actor) -> None:
    with pytest.raises(NotFoundError) as missing:
        outbox.list_emails(db, actor, after="0b6c1c1e-7f0e-4e43-9d4a-3f0b1a2c3d4e")
    assert missing.value.field == "after"
    with pytest.raises(ValidationError) as malformed:
        outbox.list_emails(db, actor, after="not-an-id")
    assert malformed.value.field == "after"
