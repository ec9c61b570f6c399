"""The lifecycle table, walked: every move from every state, through the real `transition`.

Each case puts one real email (made by the send transaction, on a real SQLite file) in a state and
tries one move. A move the table allows from that state must succeed, set the move's target and
append exactly the move's event; any other must be refused and leave the row and the event log
exactly as they were. The code paths that make the moves (worker, outbox, bounce) pass their own
guards on top; their tests are in test_queue_and_tasks, test_send_service and the mailbox tests.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from lumina_tui.config import Settings
from lumina_tui.services import email_state, sending
from lumina_tui.services.actors import Actor
from lumina_tui.services.email_state import MOVES, EmailStatus, Move
from lumina_tui.store import Database, utcnow
from lumina_tui.store.models import Account, Email, EmailDraft, EmailEvent

REPO = Path(__file__).resolve().parents[2]

def _snapshot(db: Database, email_id: str) -> tuple[dict[str, object], int]:
    """The row's every column and how many events it has: what a refused move must not change."""
    with db.read() as session:
        row = session.get(Email, email_id)
        assert row is not None
        columns = {name: getattr(row, name) for name in Email.model_fields}
        count = session.execute(
            select(func.count()).select_from(EmailEvent).where(EmailEvent.email_id == email_id)  # type: ignore[arg-type]
        ).scalar_one()
    return columns, int(count)


@pytest.fixture
def queued_email(
    db: Database,
    actor: Actor,
    settings: Settings,
    maildir_account: Account,
    make_draft: Callable[..., EmailDraft],
) -> Email:
    return sending.send(db, actor, draft_id=make_draft().id, settings=settings).email


@pytest.mark.parametrize("move", list(MOVES.values()), ids=list(MOVES))
def test_every_move_from_every_state(db: Database, queued_email: Email, move: Move) -> None:
    for status in EmailStatus:
        with db.write() as session:
            session.execute(update(Email).where(Email.id == queued_email.id).values(status=status))  # type: ignore[arg-type]
        before, events_before = _snapshot(db, queued_email.id)
        event_id = f"{queued_email.id}:{move.name}:from:{status}"

        with db.write() as session:
            moved = email_state.transition(
                session,
                queued_email,
                move,
                values={"last_error": f"walked from {status}"},
                provider_event_id=event_id,
                data={"walk": True},
                now=utcnow(),
            )

        after, events_after = _snapshot(db, queued_email.id)
        if status in move.sources:
            assert moved, f"{move.name} must leave {status}"
            assert after["status"] == move.target and after["last_error"] == f"walked from {status}"
            assert events_after == events_before + (1 if move.event_type else 0), status
            if move.event_type:
                with db.read() as session:
                    recorded = session.execute(
                        select(EmailEvent.event_type).where(
                            EmailEvent.email_id == queued_email.id,  # type: ignore[arg-type]
                            EmailEvent.provider_event_id == event_id,  # type: ignore[arg-type]
                        )
                    ).scalar_one()
                assert recorded == move.event_type
        else:
            assert not moved, f"{move.name} must refuse {status}"
            assert (after, events_after) == (before, events_before), f"{move.name} from {status} wrote"


def test_the_table_allows_exactly_the_documented_arrows() -> None:
    """The diagram in email_state's docstring is the table: a change to one shows in the other."""
    S = EmailStatus
    assert email_state.allowed_pairs() == {
        (S.PENDING_SEND, S.SENDING),
        (S.SENDING, S.SENT),
        (S.PENDING_SEND, S.SENT),
        (S.SENDING, S.FAILED),
        (S.SENDING, S.PENDING_SEND),
        (S.PENDING_SEND, S.CANCELLED),
        (S.FAILED, S.PENDING_SEND),
        (S.SENT, S.BOUNCED),
    }
    # Final states stay final.
    assert not {pair for pair in email_state.allowed_pairs() if pair[0] in (S.CANCELLED, S.BOUNCED)}
    assert {S.PENDING_SEND, S.SENDING} == email_state.UNFINISHED


def test_a_move_refuses_to_be_told_its_status(db: Database, queued_email: Email) -> None:
    before = _snapshot(db, queued_email.id)
    with db.write() as session, pytest.raises(ValueError, match="status"):
        email_state.transition(
            session,
            queued_email,
            email_state.CANCEL,
            values={"status": EmailStatus.SENT},
            provider_event_id="x",
            now=utcnow(),
        )
    assert _snapshot(db, queued_email.id) == before


def _names_a_status(node: ast.expr | None) -> bool:
    text = ast.unparse(node) if node is not None else ""
    return any(text in (s.name, f"'{s}'", f'"{s}"') or text.endswith(f".{s.name}") for s in EmailStatus)


def _status_writes(path: Path) -> list[int]:
    """Lines that set `status` on an emails row outside email_state: an UPDATE's .values(status=..),
    a dict that sets "status" to an email status, or `<email>.status = ...`."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "values":
            text = ast.unparse(node.func.value)
            if "update(Email" in text and any(k.arg == "status" for k in node.keywords):
                lines.append(node.lineno)
        if isinstance(node, ast.Dict) and any(
            isinstance(key, ast.Constant) and key.value == "status" and _names_a_status(value)
            for key, value in zip(node.keys, node.values, strict=True)
        ):
            lines.append(node.lineno)  # a values dict that sets the status beside a move
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Attribute) and t.attr == "status" and "email" in ast.unparse(t.value).lower()
            for t in node.targets
        ):
            lines.append(node.lineno)
    return lines


def test_no_module_but_email_state_writes_an_emails_status() -> None:
    package = REPO / "lumina_tui"
    offenders = {
        str(path.relative_to(REPO)): lines
        for path in package.rglob("*.py")
        if path.name != "email_state.py" and (lines := _status_writes(path))
    }
    assert offenders == {}
