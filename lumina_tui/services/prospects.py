"""Prospects: list with search and paging, get by id or email, create, update.

CSV import lives in `prospect_import.py`; company columns go to `company_data`.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import column, func, or_, table, text
from sqlmodel import Session, col, select

from lumina_tui.services import validation
from lumina_tui.services.actors import Actor
from lumina_tui.services.errors import NotFoundError, ValidationError
from lumina_tui.services.jsonable import Page, prospect_json
from lumina_tui.store import Database, new_id, utcnow
from lumina_tui.store.models import Prospect

EDITABLE = ("email", "first_name", "last_name", "company", "job_title", "custom_fields")
NAME_LIMIT = 200


#: The prospect's JSON (one function for the ORM rows and the plain read path's rows).
as_json = prospect_json


def display_name(prospect: Prospect) -> str:
    return f"{prospect.first_name} {prospect.last_name}".strip() or prospect.email


def clean_fields(values: dict[str, Any]) -> dict[str, Any]:
    """Validate the editable fields present in `values`; raises ValidationError naming the field."""
    unknown = set(values) - set(EDITABLE)
    if unknown:
        name = sorted(unknown)[0]
        raise ValidationError(f"{name}: not a prospect field", field=name)
    clean: dict[str, Any] = {}
    for key, value in values.items():
        if key == "email":
            if value is not None and not isinstance(value, str):  # a script's JSON may carry a number
                raise ValidationError("email: must be text (an address like ana@example.com)", field=key)
            clean[key] = validation.email_address(value, "email")
        elif key == "custom_fields":
            if value is None:
                value = {}
            if not isinstance(value, dict):
                raise ValidationError("custom_fields: must be a mapping of names to values", field=key)
            clean[key] = {str(k): v for k, v in value.items()}
        else:
            text = validation.header_text(
                "" if value is None else str(value).strip(), key, max_chars=NAME_LIMIT
            )
            clean[key] = text
    return clean


def _by_id_or_email(session: Session, actor: Actor, ref: str) -> Prospect | None:
    ref = (ref or "").strip()
    if "@" in ref:
        return session.execute(
            select(Prospect).where(
                Prospect.workspace_id == actor.workspace_id,
                Prospect.email == ref.lower(),
            )
        ).scalar_one_or_none()
    prospect = session.get(Prospect, validation.uuid_text(ref, "prospect"))
    if prospect is None or prospect.workspace_id != actor.workspace_id:
        return None
    return prospect


@validation.checked_arguments
def get(db: Database, actor: Actor, ref: str) -> Prospect:
    """A prospect by id or email address."""
    with db.read() as session:
        prospect = _by_id_or_email(session, actor, ref)
    if prospect is None:
        raise NotFoundError(f"prospect {ref} not found", field="prospect")
    return prospect


MAX_OFFSET = 1_000_000_000  # past this, paging is a typo (SQLite integers overflow at 2**63)


@validation.checked_arguments
def list_prospects(
    db: Database, actor: Actor, *, search: str | None = None, limit: int = 50, offset: int = 0
) -> Page[Prospect]:
    """Sorted by name; `search` matches name, email, company and title (case-insensitive).

    Each word of `search` must appear, as typed (`%` and `_` included), inside one of those
    fields. On SQLite, words of three or more characters are answered by the trigram index
    (migration 0010) instead of a scan of every prospect; shorter words, and other databases,
    use LIKE (PostgreSQL's planner can serve that from a pg_trgm index).
    """
    conditions: list[Any] = [Prospect.workspace_id == actor.workspace_id]
    words = search.strip().split() if search and search.strip() else []
    indexed = [w for w in words if len(w) >= TRIGRAM] if _has_trigram_index(db) else []
    if indexed:
        conditions.append(col(Prospect.id).in_(_matching_ids(indexed)))
    for word in words:
        if word in indexed:
            continue
        word = word.lower()
        # `%` and `_` are the rep's characters, not LIKE wildcards: autoescape matches them
        # literally ("50%" finds "50% off", not "500 seats").
        conditions.append(
            or_(*(func.lower(column).contains(word, autoescape=True) for column in _SEARCHED))
        )
    with db.read() as session:
        total = session.execute(select(func.count()).select_from(Prospect).where(*conditions)).scalar_one()
        rows = session.execute(
            select(Prospect)
            .where(*conditions)
            .order_by(func.lower(Prospect.first_name), func.lower(Prospect.last_name), Prospect.email)
            .limit(max(1, min(limit, 1000)))
            .offset(max(0, min(offset, MAX_OFFSET)))
        ).scalars()
        return Page(items=list(rows.all()), total=int(total))


TRIGRAM = 3  # the trigram tokenizer indexes every 3 characters: shorter words cannot use it
_SEARCHED = (Prospect.first_name, Prospect.last_name, Prospect.email, Prospect.company, Prospect.job_title)
_search_keys = table("prospect_search_keys", column("id"), column("prospect_id"))
_search = table("prospect_search", column("rowid"))


def _has_trigram_index(db: Database) -> bool:
    return db.reader.dialect.name == "sqlite"


def fts_query(words: list[str]) -> str:
    """An FTS5 query where each word is one quoted phrase (so `"`, `*`, `-`, AND... are plain text)."""
    return " AND ".join('"' + word.replace('"', '""') + '"' for word in words)


def _matching_ids(words: list[str]) -> Any:
    return (
        select(_search_keys.c.prospect_id)
        .join(_search, _search.c.rowid == _search_keys.c.id)
        .where(text("prospect_search MATCH :fts_query").bindparams(fts_query=fts_query(words)))
    )


@validation.checked_arguments
def create(db: Database, actor: Actor, *, email: str, **fields: Any) -> Prospect:
    clean = clean_fields({"email": email, **fields})
    with db.write() as session:
        if _by_id_or_email(session, actor, clean["email"]) is not None:
            raise ValidationError(f"email: a prospect with {clean['email']} already exists", field="email")
        now = utcnow()
        prospect = Prospect(
            id=new_id(), workspace_id=actor.workspace_id, created_at=now, updated_at=now, **clean
        )
        session.add(prospect)
        session.flush()
        return prospect


@validation.checked_arguments
def update(db: Database, actor: Actor, ref: str, **changes: Any) -> Prospect:
    clean = clean_fields(changes)
    with db.write() as session:
        prospect = _by_id_or_email(session, actor, ref)
        if prospect is None:
            raise NotFoundError(f"prospect {ref} not found", field="prospect")
        if "email" in clean and clean["email"] != prospect.email:
            other = _by_id_or_email(session, actor, clean["email"])
            if other is not None:
                raise ValidationError(
                    f"email: a prospect with {clean['email']} already exists", field="email"
                )
        for key, value in clean.items():
            setattr(prospect, key, value)
        prospect.updated_at = utcnow()
        session.add(prospect)
        session.flush()
        return prospect
