"""`lumina prospects import|list|show|add`: the prospects service as commands (contract: docs/cli.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from lumina_tui.cli.output import emit_json, json_option, offset_type, run_guarded
from lumina_tui.services.errors import ValidationError


@click.group()
def prospects() -> None:
    """Import, list, show and add prospects."""


@prospects.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@json_option
def import_command(file: Path, as_json: bool) -> None:
    """Import prospects from a CSV export (HubSpot, Salesforce, Apollo, Sales Navigator, ...).

    Rows with a bad email or the wrong number of columns are reported with their line number and
    skipped; the rest are imported. A row whose email is already known updates that prospect.
    """
    from lumina_tui.cli import tables
    from lumina_tui.services import prospect_import
    from lumina_tui.services.runtime import runtime

    def run() -> prospect_import.ImportReport:
        rt = runtime()
        with tables.progress_bar(f"Importing {file.name}") as update:
            return prospect_import.import_csv(rt.db, rt.actor, file, progress=update)

    report = run_guarded(run, as_json=as_json)
    if as_json:
        emit_json(report.as_json())
        return
    console = tables.stdout()
    console.print(
        f"[bold]{report.imported}[/bold] imported · [bold]{report.updated}[/bold] updated · "
        f"[bold]{len(report.rejected)}[/bold] rejected · {report.companies} companies filled in"
    )
    if report.rejected:
        console.print(
            tables.rows_table(
                "Rejected rows",
                ["line", "email", "reason"],
                ((row.line, row.email or "", row.reason) for row in report.rejected),
            )
        )


@prospects.command("list")
@click.option("--search", "-s", metavar="Q", help="Match name, email, company or title.")
@click.option("--limit", type=click.IntRange(1, 1000), default=50, show_default=True)
@click.option("--offset", type=offset_type, default=0, show_default=True)
@json_option
def list_command(search: str | None, limit: int, offset: int, as_json: bool) -> None:
    """List prospects, sorted by name."""
    if as_json:
        # A script's verb: answered without importing the ORM when it can be (issue 9 point 22).
        from lumina_tui.services import plain_reads
        from lumina_tui.services.runtime import cli_store_location

        document = run_guarded(
            lambda: plain_reads.prospects_page(cli_store_location(), search=search, limit=limit,
                                               offset=offset),
            as_json=True,
        )
        if document is not None:
            emit_json(document)
            return
    from lumina_tui.services import prospects as service
    from lumina_tui.services.runtime import runtime

    def run() -> Any:
        rt = runtime()
        return service.list_prospects(rt.db, rt.actor, search=search, limit=limit, offset=offset)

    page = run_guarded(run, as_json=as_json)
    if as_json:
        emit_json(page.as_json(service.as_json))
        return
    from lumina_tui.cli import tables

    shown = f"{offset + 1}-{offset + len(page.items)} of {page.total}" if page.items else f"0 of {page.total}"
    tables.stdout().print(
        tables.rows_table(
            f"Prospects ({shown})",
            ["name", "email", "company", "title"],
            ((service.display_name(p), p.email, p.company, p.job_title) for p in page.items),
        )
    )


@prospects.command("show")
@click.argument("ref", metavar="ID|EMAIL")
@json_option
def show_command(ref: str, as_json: bool) -> None:
    """Show one prospect (by id or email) with its company data."""
    from lumina_tui.services import company_data
    from lumina_tui.services import prospects as service
    from lumina_tui.services.runtime import runtime

    def run() -> tuple[Any, Any]:
        rt = runtime()
        prospect = service.get(rt.db, rt.actor, ref)
        return prospect, company_data.for_prospect(rt.db, rt.actor, prospect)

    prospect, company = run_guarded(run, as_json=as_json)
    body = service.as_json(prospect)
    body["company_data"] = company_data.as_json(company) if company else None
    if as_json:
        emit_json(body)
        return
    from lumina_tui.cli import tables

    console = tables.stdout()
    console.print(
        tables.key_values(
            service.display_name(prospect),
            [
                ("id", prospect.id),
                ("email", prospect.email),
                ("title", prospect.job_title),
                ("company", prospect.company),
                *((f"custom: {key}", value) for key, value in sorted(prospect.custom_fields.items())),
            ],
        )
    )
    if company:
        console.print(
            tables.key_values(
                f"Company ({company.domain})",
                [
                    ("name", company.name),
                    ("industry", company.industry),
                    ("size", company.size),
                    ("location", company.location),
                ],
            )
        )


def _custom_fields(pairs: tuple[str, ...]) -> dict[str, str]:
    fields: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise ValidationError(f"field: {pair!r} is not key=value", field="field")
        fields[key.strip()] = value.strip()
    return fields


@prospects.command("add")
@click.option("--email", required=True, help="The prospect's email address.")
@click.option("--first-name", default="")
@click.option("--last-name", default="")
@click.option("--company", default="")
@click.option("--title", "job_title", default="", help="Job title.")
@click.option("--field", "fields", multiple=True, metavar="KEY=VALUE", help="A custom field (repeatable).")
@json_option
def add_command(
    email: str,
    first_name: str,
    last_name: str,
    company: str,
    job_title: str,
    fields: tuple[str, ...],
    as_json: bool,
) -> None:
    """Add one prospect."""
    from lumina_tui.services import prospects as service
    from lumina_tui.services.runtime import runtime

    def run() -> Any:
        custom = _custom_fields(fields)
        rt = runtime()
        return service.create(
            rt.db,
            rt.actor,
            email=email,
            first_name=first_name,
            last_name=last_name,
            company=company,
            job_title=job_title,
            custom_fields=custom,
        )

    prospect = run_guarded(run, as_json=as_json)
    if as_json:
        emit_json(service.as_json(prospect))
    else:
        from lumina_tui.services.terminal_text import terminal_safe as safe

        click.echo(f"Added {safe(service.display_name(prospect))} <{safe(prospect.email)}> ({prospect.id})")
