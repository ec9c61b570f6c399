"""Templates: list, get, and fill `{{first_name}}`-style fields from a prospect.

The placeholder syntax is `lumina_tui.ai.placeholders`, the one parser that filling here, the AI's
offline engine and the send's leftover check all use: `{{first name}}`, `{{first-name}}`,
`{{ Recent Initiative }}` and `{{first_name | there}}` (a default) are fields, and whatever still
reads as a placeholder after filling blocks the send.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlmodel import select

from lumina_tui.ai import placeholders
from lumina_tui.services import validation
from lumina_tui.services.actors import Actor
from lumina_tui.services.errors import NotFoundError, ValidationError
from lumina_tui.services.jsonable import iso
from lumina_tui.store import Database
from lumina_tui.store.models import CompanyData, Prospect, Template, UserPreferences

PLACEHOLDER = placeholders.PLACEHOLDER


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
        "fields": sorted({p.key for p in placeholders.find(template.subject + "\n" + template.body)}),
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
    """Fill every field with a value (or its `| default`); the others stay, for the rep to fill."""
    return placeholders.fill(text, values)


def leftover_fields(*texts: str) -> list[str]:
    """What still reads as a placeholder (`{{first_name}}`, `{company}`, `[First Name]`, ...), as
    the rep would see it: a send refuses these, so no placeholder ever reaches a recipient."""
    return list(dict.fromkeys(item for text in texts for item in placeholders.leftovers(text or "")))


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
