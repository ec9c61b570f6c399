"""Do-not-contact list: addresses and whole domains a send must refuse.

A domain entry covers its subdomains too (suppressing `acme.example` also stops
`ana@eu.acme.example`): people who asked not to be contacted rarely care which mail host we used.
"""

from __future__ import annotations

import contextlib
import sqlite3
from typing import Any

from sqlalchemy import delete, or_
from sqlmodel import Session, col, select

from lumina_tui.services import validation
from lumina_tui.services.actors import Actor
from lumina_tui.services.company_data import normalise_domain
from lumina_tui.services.errors import NotFoundError, ValidationError
from lumina_tui.services.jsonable import iso
from lumina_tui.store import Database, new_id, utcnow
from lumina_tui.store.db import rows_changed
from lumina_tui.store.models import Suppression
from lumina_tui.store.sqlite_rows import select_model
from lumina_tui.store.upsert import insert, inserted


def as_json(row: Suppression) -> dict[str, Any]:
    return {
        "id": row.id,
        "kind": row.kind,
        "value": row.value,
        "reason": row.reason,
        "created_at": iso(row.created_at),
    }


def _normalise(value: str) -> tuple[str, str]:
    """(kind, value): an address is validated and lower-cased; anything else is taken as a domain."""
    text = (value or "").strip()
    if "@" in text:
        return "address", validation.email_address(text, "value").lower()
    domain = normalise_domain(text)
    if not domain or "." not in domain or any(c.isspace() for c in domain):
        raise ValidationError(f"value: {value!r} is neither an email address nor a domain", field="value")
    return "domain", domain


def suppress_in(session: Session, workspace_id: str, value: str, reason: str = "") -> bool:
    """Suppress inside the caller's transaction (a hard bounce and its suppression commit together);
    False when it was already suppressed (the first entry and its reason are kept)."""
    kind, clean = _normalise(value)
    reason = " ".join((reason or "").split())[:500]
    return inserted(
        session,
        insert(session, Suppression)
        .values(
            id=new_id(),
            workspace_id=workspace_id,
            kind=kind,
            value=clean,
            reason=reason,
            created_at=utcnow(),
        )
        .on_conflict_do_nothing(index_elements=["workspace_id", "value"]),
    )


@validation.checked_arguments
def add(db: Database, actor: Actor, value: str, reason: str = "") -> Suppression:
    """Suppress an address or a domain (adding it twice keeps the first entry)."""
    clean = _normalise(value)[1]
    reason = validation.header_text(reason, "reason", max_chars=500)
    with db.write() as session:
        suppress_in(session, actor.workspace_id, clean, reason)
        return session.exec(
            select(Suppression).where(
                Suppression.workspace_id == actor.workspace_id,
                Suppression.value == clean,
            )
        ).one()


def list_suppressions(db: Database, actor: Actor) -> list[Suppression]:
    with db.read() as session:
        rows = session.execute(
            select(Suppression)
            .where(Suppression.workspace_id == actor.workspace_id)
            .order_by(Suppression.kind, Suppression.value)
        )
        return list(rows.scalars().all())


@validation.checked_arguments
def remove(db: Database, actor: Actor, value: str) -> None:
    """Lift a suppression given by its value (address or domain) or its id."""
    text = (value or "").strip()
    conditions: list[Any] = [Suppression.id == text]
    with contextlib.suppress(ValidationError):  # not an address or domain: maybe it is an id
        conditions.append(Suppression.value == _normalise(text)[1])
    with db.write() as session:
        result = session.execute(
            delete(Suppression).where(
                col(Suppression.workspace_id) == actor.workspace_id,
                or_(*conditions),
            )
        )
        if rows_changed(result) == 0:
            raise NotFoundError(f"{value!r} is not on the suppression list", field="value")


def _candidates(address: str) -> list[str]:
    """The address itself, its domain and every parent domain with at least one dot."""
    address = address.strip().lower()
    domain = validation.email_domain(address)
    labels = domain.split(".")
    parents = [".".join(labels[i:]) for i in range(len(labels) - 1)]
    return [address, *parents]


def is_suppressed(session: Session, workspace_id: str, address: str) -> Suppression | None:
    """The entry that forbids mailing `address` in this workspace, or None."""
    return (
        session.execute(
            select(Suppression)
            .where(
                Suppression.workspace_id == workspace_id,
                col(Suppression.value).in_(_candidates(address)),
            )
            .order_by(Suppression.kind)  # 'address' sorts first: the most specific reason wins
            .limit(1)
        )
        .scalars()
        .first()
    )


def is_suppressed_sqlite(conn: sqlite3.Connection, workspace_id: str, address: str) -> Suppression | None:
    """`is_suppressed` on the sqlite3 connection of `Database.write_sqlite` (the send intent)."""
    candidates = _candidates(address)
    marks = ", ".join("?" for _ in candidates)
    return select_model(
        conn,
        Suppression,
        f"workspace_id = ? AND value IN ({marks}) ORDER BY kind",  # 'address' first, as above
        (workspace_id, *candidates),
    )
