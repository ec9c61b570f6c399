"""The demo workspace: prospects, companies, templates, a sender profile and a local outbox.

`seed` is idempotent (`make run` calls it every time): it inserts what is missing and changes
nothing that exists, so a second run writes nothing. Demo rows are tagged `is_demo`; `reset`
removes only those, then seeds again, in one transaction. What the rep wrote is never deleted: a
draft of theirs addressed to a demo prospect is kept with its text and revision history, and is
addressed to the re-seeded prospect with the same email (or to no one, if the demo no longer has
that prospect); a draft made from a demo template keeps its text and loses only the link. The
rep's own rows are never touched: a prospect, template or account of theirs with a demo row's
email or name wins, and the sender profile is only filled where it is empty.
Demo prospects live on reserved domains (`.example`, `.test`, `example.com`), and the account is a
Maildir on this machine, so nothing the demo holds can reach a real person.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import delete, update
from sqlmodel import Session, col, select

import lumina_tui
from lumina_tui.services import prospect_import
from lumina_tui.services.actors import Actor
from lumina_tui.services.errors import InvalidStateError, StorageError
from lumina_tui.store import Database, new_id, utcnow
from lumina_tui.store.db import rows_changed
from lumina_tui.store.models import Account, CompanyData, EmailDraft, Prospect, Template, UserPreferences
from lumina_tui.store.upsert import insert, inserted

DEMO_ACCOUNT_NAME = "Local outbox"
PROFILE_FIELDS = (
    "sender_name",
    "sender_title",
    "company_name",
    "company_website",
    "value_proposition",
    "proof_points",
    "signature",
    "banned_phrases",
)
KINDS = ("prospects", "companies", "templates", "accounts", "drafts", "profile_fields")


def demo_dir() -> Path:
    """`assets/demo/` beside the package (a source checkout), or `LUMINA_DEMO_DIR`."""
    override = os.environ.get("LUMINA_DEMO_DIR")
    if override:
        return Path(override).expanduser()
    return Path(lumina_tui.__file__).resolve().parents[1] / "assets" / "demo"


@dataclass(frozen=True, slots=True)
class KeptDraft:
    """A draft of the rep's that a reset kept: to whom it was, and whether it still has a prospect."""

    id: str
    subject: str
    prospect_email: str
    readdressed: bool

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "subject": self.subject,
            "prospect_email": self.prospect_email,
            "readdressed": self.readdressed,
        }


@dataclass(slots=True)
class DemoReport:
    created: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KINDS, 0))
    removed: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KINDS, 0))
    # Demo rows a reset had to keep: referenced by a sent draft, or an account with mail still queued.
    kept: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KINDS, 0))
    # The rep's own drafts that were addressed to a removed demo prospect: kept, and re-addressed.
    kept_drafts: list[KeptDraft] = field(default_factory=list)
    assets: str = ""

    @property
    def changed(self) -> bool:
        return any(self.created.values()) or any(self.removed.values())

    def as_json(self) -> dict[str, Any]:
        return {
            "created": self.created,
            "removed": self.removed,
            "kept": self.kept,
            "kept_drafts": [draft.as_json() for draft in self.kept_drafts],
            "changed": self.changed,
            "assets": self.assets,
        }


@dataclass(frozen=True, slots=True)
class DemoAssets:
    prospects: list[prospect_import.ProspectRow]
    templates: list[dict[str, str]]
    profile: dict[str, Any]
    account: dict[str, str]


def load_assets(folder: Path | None = None) -> DemoAssets:
    folder = folder or demo_dir()
    try:
        parsed = prospect_import.parse((folder / "prospects.csv").read_bytes())
        templates = tomllib.loads((folder / "templates.toml").read_text(encoding="utf-8"))
        profile = tomllib.loads((folder / "profile.toml").read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise StorageError(
            f"demo: cannot read the demo files in {folder} ({exc}); set LUMINA_DEMO_DIR", field="demo"
        ) from exc
    if parsed.rejected:
        first = parsed.rejected[0]
        raise StorageError(f"demo: prospects.csv line {first.line}: {first.reason}", field="demo")
    account = profile.pop("account", {})
    return DemoAssets(
        prospects=parsed.rows,
        templates=[
            {"name": t["name"], "subject": t["subject"].strip(), "body": t["body"].strip()}
            for t in templates.get("template", [])
        ],
        profile={key: profile[key] for key in PROFILE_FIELDS if key in profile},
        account={"email": account.get("email", ""), "display_name": account.get("display_name", "")},
    )


# ---------------------------------------------------------------------------------------------
# Seeding


def _insert_missing(session: Session, model: type, conflict: list[str], values: dict[str, Any]) -> bool:
    """INSERT ... ON CONFLICT DO NOTHING; True when a row was created."""
    return inserted(
        session, insert(session, model).values(**values).on_conflict_do_nothing(index_elements=conflict)
    )


def _seed_rows(session: Session, actor: Actor, assets: DemoAssets, report: DemoReport) -> None:
    now = utcnow()
    for row in assets.prospects:
        values = {
            "id": new_id(),
            "workspace_id": actor.workspace_id,
            "email": row.email,
            "first_name": row.fields.get("first_name", ""),
            "last_name": row.fields.get("last_name", ""),
            "company": row.fields.get("company", ""),
            "job_title": row.fields.get("job_title", ""),
            "custom_fields": row.custom_fields,
            "is_demo": True,
            "created_at": now,
            "updated_at": now,
        }
        report.created["prospects"] += _insert_missing(session, Prospect, ["workspace_id", "email"], values)
    for domain, company in prospect_import.merge_companies(assets.prospects).items():
        values = {
            "id": new_id(),
            "workspace_id": actor.workspace_id,
            "domain": domain,
            "name": company.get("name", ""),
            "industry": company.get("industry", ""),
            "size": company.get("size", ""),
            "location": company.get("location", ""),
            "metadata": {},
            "is_demo": True,
            "created_at": now,
            "updated_at": now,
        }
        report.created["companies"] += _insert_missing(
            session, CompanyData, ["workspace_id", "domain"], values
        )
    for template in assets.templates:
        values = {
            "id": new_id(),
            "workspace_id": actor.workspace_id,
            **template,
            "is_demo": True,
            "created_at": now,
            "updated_at": now,
        }
        report.created["templates"] += _insert_missing(session, Template, ["workspace_id", "name"], values)
    _fill_profile(session, actor, assets.profile, report)


def _fill_profile(session: Session, actor: Actor, profile: dict[str, Any], report: DemoReport) -> None:
    """Only empty fields take the demo's value: a rep's own profile is never overwritten."""
    from lumina_tui.services import preferences

    prefs = session.get(UserPreferences, actor.user_id)
    if prefs is None or prefs.workspace_id != actor.workspace_id:
        return
    empty = {key: value for key, value in profile.items() if not getattr(prefs, key)}
    if not empty:
        return
    clean = preferences.clean(session, actor, empty)
    session.execute(
        update(UserPreferences)
        .where(col(UserPreferences.user_id) == actor.user_id)
        .values(**clean, updated_at=utcnow())
    )
    report.created["profile_fields"] += len(clean)


def _seed_account(db: Database, actor: Actor, assets: DemoAssets, report: DemoReport) -> None:
    from lumina_tui.services import accounts

    with db.read() as session:
        existing = session.execute(
            select(Account.name, Account.is_default).where(
                Account.workspace_id == actor.workspace_id
            )
        ).all()
    if any(name.lower() == DEMO_ACCOUNT_NAME.lower() for name, _ in existing):
        return
    accounts.add_account(
        db,
        actor,
        provider="maildir",
        email=assets.account["email"] or None,
        name=DEMO_ACCOUNT_NAME,
        display_name=assets.account["display_name"],
        is_demo=True,
        # The outbox becomes the default only if the rep has no default account of their own.
        make_default=not any(is_default for _, is_default in existing),
    )
    report.created["accounts"] += 1


def seed(db: Database, actor: Actor, *, reset: bool = False) -> DemoReport:
    """Seed the demo workspace (what is missing only); with `reset`, remove demo rows first."""
    assets = load_assets()
    report = DemoReport(assets=str(demo_dir()))
    demo_accounts: set[str] = set()
    with db.write() as session:
        # Reset and re-seed in one transaction: no moment without demo prospects, and a kept draft
        # is re-addressed before anyone can see it detached.
        detached = _reset(session, actor, report) if reset else {}
        if reset:
            demo_accounts = _ids(session, Account, actor)
        _seed_rows(session, actor, assets, report)
        _readdress(session, actor, detached, report)
    if reset:
        _remove_accounts(db, actor, demo_accounts, report)
    _seed_account(db, actor, assets, report)
    return report


# ---------------------------------------------------------------------------------------------
# Reset


def _ids(session: Session, model: Any, actor: Actor) -> set[str]:
    return set(
        session.execute(
            select(model.id).where(model.workspace_id == actor.workspace_id, model.is_demo.is_(True))
        ).scalars()
    )


def _reset(session: Session, actor: Actor, report: DemoReport) -> dict[str, tuple[str, str]]:
    """Remove the demo rows; returns the rep's drafts it detached: id -> (subject, prospect email)."""
    prospects = _ids(session, Prospect, actor)
    templates = _ids(session, Template, actor)
    drafts = EmailDraft.metadata.tables["email_drafts"].c
    in_workspace = drafts.workspace_id == actor.workspace_id
    unsent = drafts.sent_at.is_(None)
    removed = session.execute(delete(EmailDraft).where(in_workspace, unsent, drafts.is_demo.is_(True)))
    report.removed["drafts"] = rows_changed(removed)
    # The rep's own unsent drafts to demo prospects: detached here, re-addressed after the re-seed.
    emails = dict(
        session.execute(select(Prospect.id, Prospect.email).where(col(Prospect.id).in_(prospects))).all()
    )
    detached = {
        draft_id: (subject, emails[prospect_id])
        for draft_id, subject, prospect_id in session.execute(
            select(drafts.id, drafts.subject, drafts.prospect_id).where(
                in_workspace, unsent, drafts.prospect_id.in_(prospects)
            )
        ).all()
    }
    if detached:
        session.execute(update(EmailDraft).where(drafts.id.in_(detached)).values(prospect_id=None))
    # The rep's own unsent drafts made from a demo template keep their text, not the link.
    session.execute(
        update(EmailDraft)
        .where(in_workspace, unsent, drafts.template_id.in_(templates))
        .values(template_id=None)
    )
    still_used = session.execute(select(drafts.prospect_id, drafts.template_id).where(in_workspace)).all()
    used_prospects = {p for p, _ in still_used if p in prospects}
    used_templates = {t for _, t in still_used if t in templates}
    for model, ids, used, kind in (
        (Prospect, prospects, used_prospects, "prospects"),
        (Template, templates, used_templates, "templates"),
    ):
        doomed = ids - used
        if doomed:
            session.execute(delete(model).where(col(model.id).in_(doomed)))
        report.removed[kind] = len(doomed)
        report.kept[kind] = len(used)
    removed = session.execute(
        delete(CompanyData).where(
            col(CompanyData.workspace_id) == actor.workspace_id,
            col(CompanyData.is_demo).is_(True),
        )
    )
    report.removed["companies"] = rows_changed(removed)
    return detached


def _readdress(
    session: Session, actor: Actor, detached: dict[str, tuple[str, str]], report: DemoReport
) -> None:
    """Address each kept draft to the re-seeded prospect with its old prospect's email.

    The revision goes up: the recipient changed, so a composer holding the old revision must not
    save over it unnoticed.
    """
    now = utcnow()
    for draft_id, (subject, email) in sorted(detached.items()):
        prospect_id = session.execute(
            select(Prospect.id).where(
                Prospect.workspace_id == actor.workspace_id,
                Prospect.email == email,
            )
        ).scalar_one_or_none()
        session.execute(
            update(EmailDraft)
            .where(col(EmailDraft.id) == draft_id)
            .values(
                prospect_id=prospect_id,
                revision=EmailDraft.revision + 1,
                updated_at=now,
            )
        )
        report.kept_drafts.append(KeptDraft(draft_id, subject, email, prospect_id is not None))
    report.kept["drafts"] = len(detached)


def _remove_accounts(db: Database, actor: Actor, account_ids: set[str], report: DemoReport) -> None:
    from lumina_tui.services import accounts

    for account_id in sorted(account_ids):
        try:
            accounts.remove_account(db, actor, account_id)
        except InvalidStateError:
            report.kept["accounts"] += 1  # mail from it is still queued; the rep decides
            continue
        report.removed["accounts"] += 1


__all__ = ["DEMO_ACCOUNT_NAME", "DemoAssets", "DemoReport", "KeptDraft", "demo_dir", "load_assets", "seed"]
