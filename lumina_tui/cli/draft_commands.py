"""`lumina drafts new|show|list|save|delete`: the drafts service as commands.

`save` follows the composer's rule: without `--revision` it saves the stored revision + 1 (a newer
edit); with an explicit older revision the save is ignored and reported, and the same revision with
other content is a conflict (exit 2).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from lumina_tui.cli.output import emit_json, json_option, offset_type, revision_type, run_guarded
from lumina_tui.services.errors import NotFoundError, ValidationError


@click.group()
def drafts() -> None:
    """Create, show, list, save and delete drafts."""


def _read_body(path: str | None) -> str | None:
    """The body from a file, or from stdin when the path is `-`."""
    if path is None:
        return None
    try:
        raw = sys.stdin.buffer.read() if path == "-" else Path(path).read_bytes()
    except FileNotFoundError as exc:
        raise NotFoundError(f"body_file: {path} does not exist", field="body_file") from exc
    except OSError as exc:
        raise ValidationError(
            f"body_file: cannot read {path}: {exc.strerror or exc}", field="body_file"
        ) from exc
    try:
        return raw.decode("utf-8-sig").replace("\r\n", "\n")
    except UnicodeDecodeError as exc:
        raise ValidationError(f"body_file: {path} is not UTF-8 text", field="body_file") from exc


def _template_id(db: Any, actor: Any, ref: str | None) -> str | None:
    """A template by id or (case-insensitive) name."""
    if not ref:
        return None
    from lumina_tui.services import templates
    from lumina_tui.services.validation import uuid_text

    try:
        return uuid_text(ref, "template_id")
    except ValidationError:
        pass
    for template in templates.list_templates(db, actor):
        if template.name.casefold() == ref.strip().casefold():
            return template.id
    raise ValidationError(f"template_id: unknown template {ref!r}", field="template_id")


def _print_draft(draft: Any, title: str, status: str | None = None) -> None:
    from lumina_tui.cli import tables
    from lumina_tui.services.jsonable import draft_status

    console = tables.stdout()
    console.print(
        tables.key_values(
            title,
            [
                ("id", draft.id),
                ("status", status or draft_status(draft, None)),
                ("revision", draft.revision),
                ("prospect", draft.prospect_id),
                ("template", draft.template_id),
                ("subject", draft.subject),
                ("sent", draft.sent_at),
                ("email", draft.email_id),
                ("updated", draft.updated_at),
            ],
        )
    )
    if draft.body_text:
        console.print()
        console.print(tables.body(draft.body_text))


@drafts.command("new")
@click.option("--prospect", "prospect_ref", required=True, metavar="ID|EMAIL", help="Who the draft is to.")
@click.option("--subject", default="")
@click.option("--body-file", metavar="FILE|-", help="Read the body from a file, or stdin with '-'.")
@click.option("--template", "template_ref", metavar="ID|NAME", help="Fill subject and body from a template.")
@json_option
def new_command(
    prospect_ref: str, subject: str, body_file: str | None, template_ref: str | None, as_json: bool
) -> None:
    """Create a draft (revision 1)."""
    from lumina_tui.services import drafts as service
    from lumina_tui.services import prospects
    from lumina_tui.services.runtime import runtime

    def run() -> Any:
        body = _read_body(body_file) or ""
        rt = runtime()
        prospect = prospects.get(rt.db, rt.actor, prospect_ref)
        return service.create(
            rt.db,
            rt.actor,
            prospect_id=prospect.id,
            subject=subject,
            body=body,
            template_id=_template_id(rt.db, rt.actor, template_ref),
        )

    draft = run_guarded(run, as_json=as_json)
    if as_json:
        emit_json(service.as_json(draft))
    else:
        _print_draft(draft, "New draft")


@drafts.command("show")
@click.argument("draft_id", metavar="ID")
@json_option
def show_command(draft_id: str, as_json: bool) -> None:
    """Show one draft."""
    if as_json:
        # A script's verb: answered without importing the ORM when it can be (issue 9 point 22).
        from lumina_tui.services import plain_reads
        from lumina_tui.services.runtime import cli_store_location

        document = run_guarded(lambda: plain_reads.draft_document(cli_store_location(), draft_id),
                               as_json=True)
        if document is not None:
            emit_json(document)
            return
    from lumina_tui.services import drafts as service
    from lumina_tui.services.runtime import runtime

    def run() -> Any:
        rt = runtime()
        draft = service.get(rt.db, rt.actor, draft_id)
        return draft, service.status_of(rt.db, rt.actor, draft)

    draft, status = run_guarded(run, as_json=as_json)
    if as_json:
        emit_json(service.as_json(draft, status))
    else:
        _print_draft(draft, "Draft", status)


@drafts.command("list")
@click.option("--all", "include_sent", is_flag=True, help="Include drafts that were sent.")
@click.option("--limit", type=click.IntRange(1, 500), default=50, show_default=True)
@click.option("--offset", type=offset_type, default=0, show_default=True)
@json_option
def list_command(include_sent: bool, limit: int, offset: int, as_json: bool) -> None:
    """List drafts, most recently edited first (unsent only, unless --all).

    Piped, each draft is one line with its whole id; `--all` shows what each sent draft became
    (queued, sent, cancelled, …).
    """
    from lumina_tui.services import drafts as service
    from lumina_tui.services.runtime import runtime

    def run() -> Any:
        rt = runtime()
        return service.list_overview(rt.db, rt.actor, include_sent=include_sent, limit=limit, offset=offset)

    page = run_guarded(run, as_json=as_json)
    if as_json:
        emit_json(page.as_json(lambda row: service.as_json(row.draft, row.status)))
        return
    from lumina_tui.cli import tables

    tables.stdout().print(
        tables.rows_table(
            f"Drafts ({len(page.items)} of {page.total})",
            ["id", "status", "rev", "prospect", "subject", "updated"],
            (
                (
                    row.draft.id,
                    row.status,
                    row.draft.revision,
                    row.prospect,
                    row.draft.subject,
                    row.draft.updated_at.strftime("%Y-%m-%d %H:%M"),
                )
                for row in page.items
            ),
        )
    )


@drafts.command("save")
@click.argument("draft_id", metavar="ID")
@click.option("--subject", default=None, help="New subject (default: keep the stored one).")
@click.option("--body-file", metavar="FILE|-", help="New body from a file, or stdin with '-'.")
@click.option("--prospect", "prospect_ref", metavar="ID|EMAIL", help="Address the draft to another prospect.")
@click.option(
    "--revision", type=revision_type, default=None, help="Revision to save (default: stored + 1)."
)
@json_option
def save_command(
    draft_id: str,
    subject: str | None,
    body_file: str | None,
    prospect_ref: str | None,
    revision: int | None,
    as_json: bool,
) -> None:
    """Save a new revision of a draft; unchanged fields keep their stored values."""
    from lumina_tui.services import drafts as service
    from lumina_tui.services import prospects
    from lumina_tui.services.runtime import runtime

    def run() -> Any:
        body = _read_body(body_file)
        rt = runtime()
        prospect_id = prospects.get(rt.db, rt.actor, prospect_ref).id if prospect_ref else None
        if revision is None:
            # Read and write in one transaction: concurrent savers each get their own revision.
            return service.save_next(
                rt.db, rt.actor, draft_id, subject=subject, body=body, prospect_id=prospect_id
            )
        stored = service.get(rt.db, rt.actor, draft_id)
        return service.save(
            rt.db,
            rt.actor,
            stored.id,
            revision,
            subject=stored.subject if subject is None else subject,
            body=stored.body_text if body is None else body,
            prospect_id=stored.prospect_id if prospect_id is None else prospect_id,
            template_id=stored.template_id,
            account_id=stored.account_id,
        )

    result = run_guarded(run, as_json=as_json)
    if as_json:
        emit_json({**service.as_json(result.draft), "outcome": result.outcome})
        return
    messages = {
        "created": "created",
        "updated": "saved",
        "unchanged": "unchanged (same revision, same content)",
        "ignored_older": "ignored: an older revision than the stored one",
    }
    click.echo(f"Draft {result.draft.id} revision {result.draft.revision}: {messages[result.outcome]}")


@drafts.command("delete")
@click.argument("draft_id", metavar="ID")
@json_option
def delete_command(draft_id: str, as_json: bool) -> None:
    """Delete a draft that was never sent."""
    from lumina_tui.services import drafts as service
    from lumina_tui.services.runtime import runtime

    def run() -> None:
        rt = runtime()
        service.delete(rt.db, rt.actor, draft_id)

    run_guarded(run, as_json=as_json)
    if as_json:
        emit_json({"id": draft_id, "deleted": True})
    else:
        click.echo(f"Deleted draft {draft_id}")
