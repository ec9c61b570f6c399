"""Company data: what Lumina knows about a prospect's company, keyed by email domain per workspace."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, select

from lumina_tui.services import validation
from lumina_tui.services.actors import Actor
from lumina_tui.services.jsonable import iso
from lumina_tui.store import Database, new_id, utcnow
from lumina_tui.store.models import CompanyData, Prospect
from lumina_tui.store.sqlite_rows import select_model
from lumina_tui.store.upsert import insert

COMPANY_FIELDS = ("name", "industry", "size", "location")


def as_json(company: CompanyData) -> dict[str, Any]:
    return {
        "id": company.id,
        "domain": company.domain,
        "name": company.name,
        "industry": company.industry,
        "size": company.size,
        "location": company.location,
        "metadata": company.extra,
        "created_at": iso(company.created_at),
        "updated_at": iso(company.updated_at),
    }


def normalise_domain(value: str) -> str:
    """`https://www.Acme.example/about` and `acme.example` are the same company."""
    text = value.strip().lower()
    for prefix in ("https://", "http://"):
        if text.startswith(prefix):
            text = text[len(prefix) :]
    text = text.split("/", 1)[0].split("@")[-1]
    return text.removeprefix("www.").strip(".")


def lookup(db: Database, actor: Actor, email_or_domain: str) -> CompanyData | None:
    """The company for an email address (or a bare domain) in the actor's workspace."""
    domain = normalise_domain(email_or_domain)
    if not domain:
        return None
    with db.read() as session:
        return find(session, actor, domain)


def find(session: Session, actor: Actor, domain: str) -> CompanyData | None:
    return session.execute(
        select(CompanyData).where(
            CompanyData.workspace_id == actor.workspace_id,
            CompanyData.domain == domain,
        )
    ).scalar_one_or_none()


def for_prospect(db: Database, actor: Actor, prospect: Prospect) -> CompanyData | None:
    with db.read() as session:
        return find_for_prospect(session, actor, prospect)


def find_for_prospect(session: Session, actor: Actor, prospect: Prospect) -> CompanyData | None:
    """By the email's domain first; else by company name, since an import may key a company by its
    website (`brightwave.example`) while the prospect writes from another domain (`bw-mail.example`)."""

    def by_name(name: str) -> CompanyData | None:
        return session.execute(
            select(CompanyData)
            .where(CompanyData.workspace_id == actor.workspace_id, func.lower(CompanyData.name) == name)
            .limit(1)
        ).scalar_one_or_none()

    return choose_for_prospect(prospect, lambda domain: find(session, actor, domain), by_name)


def find_for_prospect_sqlite(
    conn: sqlite3.Connection, actor: Actor, prospect: Prospect
) -> CompanyData | None:
    """`find_for_prospect` on the sqlite3 connection of `Database.write_sqlite` (the send intent)."""
    return choose_for_prospect(
        prospect,
        lambda domain: select_model(
            conn, CompanyData, "workspace_id = ? AND domain = ?", (actor.workspace_id, domain)
        ),
        lambda name: select_model(
            conn, CompanyData, "workspace_id = ? AND lower(name) = ?", (actor.workspace_id, name)
        ),
    )


def choose_for_prospect(
    prospect: Prospect,
    by_domain: Callable[[str], CompanyData | None],
    by_name: Callable[[str], CompanyData | None],
) -> CompanyData | None:
    """The rule of both finders: the email's domain first, else the company's name (lower case)."""
    if "@" in prospect.email:
        found = by_domain(normalise_domain(validation.email_domain(prospect.email)))
        if found is not None:
            return found
    if not prospect.company.strip():
        return None
    return by_name(prospect.company.strip().lower())


def upsert(
    session: Session,
    actor: Actor,
    domain: str,
    values: dict[str, Any],
    *,
    metadata: dict[str, Any] | None = None,
    is_demo: bool = False,
) -> None:
    """Insert or fill in a company inside the caller's transaction; empty values never erase."""
    domain = normalise_domain(domain)
    now = utcnow()
    clean = {k: str(v).strip() for k, v in values.items() if k in COMPANY_FIELDS and v and str(v).strip()}
    statement = insert(session, CompanyData).values(
        id=new_id(),
        workspace_id=actor.workspace_id,
        domain=domain,
        name=clean.get("name", ""),
        industry=clean.get("industry", ""),
        size=clean.get("size", ""),
        location=clean.get("location", ""),
        metadata=metadata or {},
        is_demo=is_demo,
        created_at=now,
        updated_at=now,
    )
    updates: dict[str, Any] = {key: statement.excluded[key] for key in clean}
    if metadata:
        updates["metadata"] = statement.excluded["metadata"]
    updates["updated_at"] = now
    session.execute(statement.on_conflict_do_update(index_elements=["workspace_id", "domain"], set_=updates))
