"""Who the email is for: name, title, company, industry, size, location and custom fields.

Rows arrive from the services (a prospect and its company_data, if any); the card only reads
attributes, so the UI never needs the store's classes. Every value is stored text: it is shown
through `terminal_safe` inside a `Text` (never markup), here and on the To line.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.widgets import Static

from lumina_tui.services.terminal_text import terminal_safe as safe


def prospect_name(prospect: Any) -> str:
    name = f"{prospect.first_name} {prospect.last_name}".strip()
    return name or prospect.email


def recipient_line(prospect: Any | None) -> str:
    """`Ana Okafor <ana@brightwave.example>`, as the To line shows it."""
    if prospect is None:
        return "(no prospect — choose one)"
    name = f"{prospect.first_name} {prospect.last_name}".strip()
    return safe(f"{name} <{prospect.email}>" if name else prospect.email)


def company_name(prospect: Any | None, company: Any | None) -> str:
    if prospect is not None and prospect.company:
        return str(prospect.company)
    return str(company.name) if company is not None and company.name else ""


def card_text(prospect: Any | None, company: Any | None) -> Text:
    if prospect is None:
        return Text("No prospect yet.\nChoose one to personalize.", style="dim")
    text = Text(safe(prospect_name(prospect)), style="bold")
    text.append(f"\n{safe(prospect.email)}", style="dim")
    if prospect.job_title:
        text.append(f"\n{safe(prospect.job_title)}")
    company_label = company_name(prospect, company)
    if company_label:
        text.append(f"\n{safe(company_label)}")
    if company is not None:
        line = " · ".join(part for part in (company.industry, company.size) if part)
        if line:
            text.append(f"\n{safe(line)}")
        if company.location:
            text.append(f"\n{safe(company.location)}")
    custom = prospect.custom_fields or {}
    if custom:
        text.append("\n")
        for key, value in sorted(custom.items()):
            text.append(f"\n{safe(key)} = {safe(value)}", style="italic")
    return text


class ProspectCard(Static):
    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(card_text(None, None), id=id, markup=False)
        self.prospect: Any = None
        self.company: Any = None

    def on_mount(self) -> None:
        self.border_title = "Prospect"

    def show(self, prospect: Any | None, company: Any | None) -> None:
        self.prospect = prospect
        self.company = company
        self.update(card_text(prospect, company))
