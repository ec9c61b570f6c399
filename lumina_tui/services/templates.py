"""Templates: list, get, and fill `{{first_name}}`-style fields from a prospect."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from lumina_tui.services import validation
from lumina_tui.services.context import Actor
from lumina_tui.services.errors import NotFoundError, ValidationError
from lumina_tui.services.jsonable import iso
from lumina_tui.store import Database
from lumina_tui.store.models import CompanyData, Prospect, Template, UserPreferences

PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][\w.]*)\s*\}\}")


@dataclass(frozen=True, slots=True)
class FilledTemplate:
    subject: str
    body: str
    missing: tuple[str, ...]  # fields the prospect has no value for; left in place for the rep


def as_json(template: Template) -> dict[str, Any]:
    return {
        "id": template.id,
        "name": template.name,
        "subject": template.subject,
        "body": template.body,
        "fields": sorted(set(PLACEHOLDER.findall(template.subject + "\n" + template.body))),
        "created_at": iso(template.created_at),
        "updated_at": iso(template.updated_at),
    }


def list_templates(db: Database, actor: Actor) -> list[Template]:
    with db.read() as session:
        rows = session.execute(
            select(Template).where(Template.workspace_id == actor.workspace_id).order_by(Template.name)
        )
        return list(rows.scalars().all())


def get(db: Database, actor: Actor, template_id: str) -> Template:
    template_id = validation.uuid_text(template_id, "template_id")
    with db.read() as session:
        template = session.get(Template, template_id)
    if template is None or template.workspace_id != actor.workspace_id:
        raise ValidationError(f"template_id: unknown template {template_id}", field="template_id")
    return template


def field_values(
    prospect: Prospect | None, company: CompanyData | None, prefs: UserPreferences | None
) -> dict[str, str]:
    """Every value a template may name, by field name; empty values are left out."""
    values: dict[str, str] = {}
    if prospect is not None:
        values.update(
            first_name=prospect.first_name,
            last_name=prospect.last_name,
            full_name=f"{prospect.first_name} {prospect.last_name}".strip(),
            email=prospect.email,
            company=prospect.company or (company.name if company else ""),
            job_title=prospect.job_title,
            title=prospect.job_title,
        )
        for key, value in (prospect.custom_fields or {}).items():
            values.setdefault(str(key), "" if value is None else str(value))
    if company is not None:
        values.update(
            company_name=company.name,
            industry=company.industry,
            company_size=company.size,
            size=company.size,
            location=company.location,
            domain=company.domain,
        )
    if prefs is not None:
        values.update(
            sender_name=prefs.sender_name,
            sender_title=prefs.sender_title,
            sender_company=prefs.company_name,
            my_company=prefs.company_name,
        )
    return {key: value for key, value in values.items() if value and str(value).strip()}


def fill(text: str, values: dict[str, str]) -> tuple[str, set[str]]:
    missing: set[str] = set()

    def replace(match: re.Match[str]) -> str:
        key = match.group(1)
        if key in values:
            return values[key]
        missing.add(key)
        return match.group(0)

    return PLACEHOLDER.sub(replace, text), missing


def leftover_fields(*texts: str) -> list[str]:
    """Field names still in `{{...}}` form: a send refuses these."""
    return sorted({name for text in texts for name in PLACEHOLDER.findall(text or "")})


def fill_for_prospect(
    db: Database, actor: Actor, template_id: str, prospect_id: str | None
) -> FilledTemplate:
    from lumina_tui.services import company_data, prospects

    template = get(db, actor, template_id)
    prospect = prospects.get(db, actor, prospect_id) if prospect_id else None
    company = company_data.for_prospect(db, actor, prospect) if prospect else None
    with db.read() as session:
        prefs = session.get(UserPreferences, actor.user_id)
    values = field_values(prospect, company, prefs)
    subject, missing_s = fill(template.subject, values)
    body, missing_b = fill(template.body, values)
    return FilledTemplate(subject=subject, body=body, missing=tuple(sorted(missing_s | missing_b)))


__all__ = ["PLACEHOLDER", "FilledTemplate", "NotFoundError", "fill", "fill_for_prospect", "leftover_fields"]
