"""Who is acting: the workspace and user every service call is scoped to.

One local workspace and user are created on first use; the CLI and the composer act as them.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, col, select

from lumina_tui.store import Database
from lumina_tui.store.models import User, UserPreferences, Workspace, new_id, utcnow
from lumina_tui.store.upsert import insert

LOCAL_WORKSPACE_NAME = "Local workspace"
LOCAL_USER_EMAIL = "rep@localhost"


@dataclass(frozen=True, slots=True)
class Actor:
    workspace_id: str
    user_id: str


def local_actor(db: Database) -> Actor:
    """The local workspace and user, created atomically the first time (safe across processes)."""
    with db.read() as session:
        row = session.execute(select(User.workspace_id, col(User.id)).order_by(col(User.created_at))).first()
    if row is not None:
        return Actor(workspace_id=row[0], user_id=row[1])
    with db.write() as session:
        row = session.execute(select(User.workspace_id, col(User.id)).order_by(col(User.created_at))).first()
        if row is not None:
            return Actor(workspace_id=row[0], user_id=row[1])
        return create_workspace(session, LOCAL_WORKSPACE_NAME, LOCAL_USER_EMAIL)


def create_workspace(session: Session, name: str, user_email: str, user_name: str = "") -> Actor:
    """A workspace with its first user and empty preferences, inside the caller's transaction."""
    workspace = Workspace(id=new_id(), name=name)
    user = User(id=new_id(), workspace_id=workspace.id, email=user_email, name=user_name)
    session.add(workspace)
    session.flush()
    session.add(user)
    session.flush()
    actor = Actor(workspace_id=workspace.id, user_id=user.id)
    ensure_preferences(session, actor)
    return actor


def ensure_preferences(session: Session, actor: Actor) -> None:
    """The user's (empty) preferences row, inside the caller's transaction; kept if it exists."""
    session.execute(
        insert(session, UserPreferences)
        # A Core insert does not run the model's default factories: JSON columns are given here.
        .values(
            user_id=actor.user_id,
            workspace_id=actor.workspace_id,
            proof_points=[],
            banned_phrases=[],
            updated_at=utcnow(),
        )
        .on_conflict_do_nothing()
    )


def new_workspace(db: Database, name: str, user_email: str, user_name: str = "") -> Actor:
    """Another workspace (teams later; tests of isolation now)."""
    with db.write() as session:
        return create_workspace(session, name, user_email, user_name)
