"""The rep's sender profile and composer preferences (one `user_preferences` row per user).

The profile is context for the AI and a source of facts it may use (a proof point named here is not
an invented claim), so every field is checked: single-line fields stay single-line, lists are lists
of short lines, the tone is 0 (formal) .. 1 (casual), the default account exists in the workspace.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, select

from lumina_tui.services import validation
from lumina_tui.services.actors import Actor
from lumina_tui.services.errors import NotFoundError, ValidationError
from lumina_tui.services.jsonable import iso
from lumina_tui.store import Database, utcnow
from lumina_tui.store.models import Account, User, UserPreferences
from lumina_tui.store.upsert import insert

LINE_FIELDS = ("sender_name", "sender_title", "company_name", "company_website")
TEXT_FIELDS = ("value_proposition", "signature")
LIST_FIELDS = ("proof_points", "banned_phrases")
FIELDS = (*LINE_FIELDS, *TEXT_FIELDS, *LIST_FIELDS, "default_tone", "default_account_id")

LINE_LIMIT = 200
TEXT_LIMIT = 2_000
LIST_ITEM_LIMIT = 300
LIST_LENGTH_LIMIT = 20


def as_json(prefs: UserPreferences) -> dict[str, Any]:
    body: dict[str, Any] = {name: getattr(prefs, name) for name in FIELDS}
    body["user_id"] = prefs.user_id
    body["updated_at"] = iso(prefs.updated_at)
    return body


def _row(session: Session, actor: Actor) -> UserPreferences | None:
    return session.execute(
        select(UserPreferences).where(
            UserPreferences.user_id == actor.user_id,
            UserPreferences.workspace_id == actor.workspace_id,
        )
    ).scalar_one_or_none()


def get(db: Database, actor: Actor) -> UserPreferences:
    """The actor's preferences; defaults (not stored) if the row does not exist yet."""
    with db.read() as session:
        prefs = _row(session, actor)
    return prefs or UserPreferences(user_id=actor.user_id, workspace_id=actor.workspace_id)


def _text_list(value: Any, field: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        raise ValidationError(f"{field}: give a list of short lines, not one string", field=field)
    items = [validation.header_text(str(item).strip(), field, max_chars=LIST_ITEM_LIMIT) for item in value]
    items = [item for item in items if item]
    if len(items) > LIST_LENGTH_LIMIT:
        raise ValidationError(f"{field}: at most {LIST_LENGTH_LIMIT} items", field=field)
    return items


def _long_text(value: Any, field: str) -> str:
    text = validation.body_text("" if value is None else str(value), field).replace("\r\n", "\n").strip()
    if len(text) > TEXT_LIMIT:
        raise ValidationError(
            f"{field}: {len(text)} characters is too long (at most {TEXT_LIMIT})", field=field
        )
    return text


def clean(session: Session, actor: Actor, changes: dict[str, Any]) -> dict[str, Any]:
    """Validated values for the fields in `changes`; raises ValidationError naming the field."""
    unknown = sorted(set(changes) - set(FIELDS))
    if unknown:
        raise ValidationError(f"{unknown[0]}: not a preference", field=unknown[0])
    result: dict[str, Any] = {}
    for name, value in changes.items():
        if name in LINE_FIELDS:
            result[name] = validation.header_text(
                "" if value is None else str(value).strip(), name, max_chars=LINE_LIMIT
            )
        elif name in TEXT_FIELDS:
            result[name] = _long_text(value, name)
        elif name in LIST_FIELDS:
            result[name] = _text_list(value, name)
        elif name == "default_tone":
            tone = validation.tone(value, name)
            result[name] = 0.5 if tone is None else tone
        else:  # default_account_id
            result[name] = _account(session, actor, value)
    return result


def _account(session: Session, actor: Actor, value: Any) -> str | None:
    if value is None or value == "":
        return None
    account_id = validation.uuid_text(value, "default_account_id")
    account = session.get(Account, account_id)
    if account is None or account.workspace_id != actor.workspace_id:
        raise ValidationError(f"default_account_id: unknown account {account_id}", field="default_account_id")
    return account_id


def update(db: Database, actor: Actor, **changes: Any) -> UserPreferences:
    """Change the given fields only; the others keep their stored values."""
    with db.write() as session:
        user = session.get(User, actor.user_id)
        if user is None or user.workspace_id != actor.workspace_id:
            raise NotFoundError(f"user {actor.user_id} not found in this workspace", field="user_id")
        values = clean(session, actor, changes)
        now = utcnow()
        # A Core insert runs no default factories, so the JSON columns get theirs here.
        inserted = {"proof_points": [], "banned_phrases": [], **values}
        statement = insert(session, UserPreferences).values(
            user_id=actor.user_id, workspace_id=actor.workspace_id, updated_at=now, **inserted
        )
        session.execute(
            statement.on_conflict_do_update(index_elements=["user_id"], set_={**values, "updated_at": now})
        )
        prefs = _row(session, actor)
    assert prefs is not None  # just written, in this transaction
    return prefs
