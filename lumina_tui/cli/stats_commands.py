"""`lumina stats` (the stats screen's figures) and `lumina alerts` (list, mark read).

The figures come from the consumers' tables (services/stats.py), never from a scan of the log;
`as of` says how far each consumer has read. Alert titles quote prospects and mailboxes: they go
through `terminal_safe` like every other stored text.
"""

from __future__ import annotations

from typing import Any

import click

from lumina_tui.cli.output import emit_json, json_option, run_guarded
from lumina_tui.services.terminal_text import terminal_safe as safe


def _runtime() -> Any:
    from lumina_tui.services.runtime import runtime

    return runtime()


def _pct(value: float) -> str:
    return f"{value * 100:.1f}%"


@click.command("stats")
@click.option("--days", type=int, default=14, show_default=True, help="Days of the per-day figures.")
@json_option
def stats(days: int, as_json: bool) -> None:
    """Sends, replies, bounces; template ranking (Wilson interval); alerts; what Lumina learned."""
    from lumina_tui.services import stats as stats_service

    rt = _runtime()
    doc = run_guarded(lambda: stats_service.stats(rt.db, rt.actor, days=days), as_json=as_json)
    if as_json:
        emit_json(doc)
        return
    t = doc["totals"]
    click.echo(
        f"sent {t['sent']}  replied {t['replied']} ({_pct(t['reply_rate'])})  bounced {t['bounced']}"
        f" ({_pct(t['bounce_rate'])})  failed {t['failed']}"
    )
    for entry in doc["as_of"]:
        state = "up to date" if entry["behind"] == 0 else f"{entry['behind']} event(s) behind"
        if entry["failures"]:
            state += f", failing: {safe(entry['last_error'])}"
        click.echo(f"  {entry['consumer']}: as of {entry['as_of'] or '-'} ({state})")
    click.echo("templates (ranked by the lower bound of the 99% Wilson interval of the reply rate):")
    for row in doc["templates"]:
        click.echo(
            f"  {safe(row['name'])[:30]:<30} {row['replied']:>6}/{row['sent']:<6}"
            f" {_pct(row['reply_rate']):>6}"
            f"  [{_pct(row['reply_rate_low'])} - {_pct(row['reply_rate_high'])}]"
        )
    click.echo(f"alerts: {doc['alerts']['unread']} unread")
    for alert in doc["alerts"]["items"][:10]:
        mark = " " if alert["read"] else "*"
        click.echo(f"  {mark} {alert['created_at']}  {safe(alert['title'])}  {safe(alert['detail'])}")
    tone = doc["learning"]["default_tone"]
    if tone is not None:
        click.echo(f"learned default tone: {tone}")


@click.group("alerts")
def alerts() -> None:
    """Alerts: replies, hard bounces, failed sends, accounts that need sign-in."""


@alerts.command("read")
@click.argument("alert_ids", nargs=-1)
@click.option("--all", "everything", is_flag=True, help="Mark every unread alert read.")
@json_option
def read_command(alert_ids: tuple[str, ...], everything: bool, as_json: bool) -> None:
    """Mark alerts read (by id, or --all)."""
    from lumina_tui.cli.output import fail
    from lumina_tui.services import stats as stats_service

    if not alert_ids and not everything:
        fail("invalid", "give alert ids or --all", field="alert_ids", as_json=as_json)
    rt = _runtime()
    changed = run_guarded(
        lambda: stats_service.mark_alerts_read(rt.db, rt.actor, None if everything else list(alert_ids)),
        as_json=as_json,
    )
    if as_json:
        emit_json({"marked_read": changed})
    else:
        click.echo(f"{changed} alert(s) marked read")
