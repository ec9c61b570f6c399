"""`lumina demo [--reset]`: seed the demo workspace (idempotent; `make run` calls it every time)."""

from __future__ import annotations

from typing import Any

import click

from lumina_tui.cli.output import emit_json, json_option, run_guarded


@click.command()
@click.option(
    "--reset",
    is_flag=True,
    help="Remove the demo rows (only those) and seed them again; your own drafts are kept.",
)
@click.option("--quiet", "-q", is_flag=True, help="Print nothing unless something went wrong.")
@json_option
def demo(reset: bool, quiet: bool, as_json: bool) -> None:
    """Seed the demo workspace: prospects, companies, templates, a sender profile, a local outbox.

    Running it again changes nothing; your own prospects, templates and accounts are never touched.
    """
    from lumina_tui.services import demo as service
    from lumina_tui.services.runtime import runtime

    def run() -> Any:
        rt = runtime()
        return service.seed(rt.db, rt.actor, reset=reset)

    report = run_guarded(run, as_json=as_json)
    if as_json:
        emit_json(report.as_json())
        return
    if quiet:
        return
    created = {kind: n for kind, n in report.created.items() if n}
    removed = {kind: n for kind, n in report.removed.items() if n}
    kept = {kind: n for kind, n in report.kept.items() if n and kind != "drafts"}
    if removed:
        click.echo("Removed demo " + _counts(removed))
    if kept:
        click.echo("Kept demo " + _counts(kept) + " still referenced by sent mail")
    if report.kept_drafts:
        from lumina_tui.services.terminal_text import terminal_safe

        count = len(report.kept_drafts)
        click.echo(f"Kept your {count} draft(s) to demo prospects (nothing you wrote is removed):")
        for draft in report.kept_drafts:
            to = draft.prospect_email if draft.readdressed else f"no one ({draft.prospect_email} is gone)"
            click.echo(f"  {draft.id}  {terminal_safe(draft.subject) or '(no subject)'}  to {to}")
    if created:
        click.echo("Seeded demo " + _counts(created))
    else:
        click.echo("The demo workspace is already seeded; nothing changed.")
    click.echo("Mail from the demo account goes to a local outbox, not to anyone: run `lumina` to start.")


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{kind.replace('_', ' ')}: {n}" for kind, n in counts.items())
