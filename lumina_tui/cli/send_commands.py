"""`lumina send` and `lumina emails list|show|retry|cancel`: the outbox from a script.

A send only queues: the worker delivers. The send service also makes sure a worker is running
(the sidecar), unless `worker.autostart_sidecar` is off, and never waits for it.
"""

from __future__ import annotations

from typing import Any

import click

from lumina_tui.cli.output import emit_json, json_option, run_guarded


def _runtime() -> Any:
    from lumina_tui.services.runtime import runtime

    return runtime()


def _who(name: str, address: str) -> str:
    return f"{name} <{address}>" if name else address


def _email_line(email: Any) -> str:
    when = email.sent_at or email.send_after
    stamp = when.strftime("%Y-%m-%d %H:%M:%S") if when else ""
    return f"{email.id}  {email.status:<12}  {stamp}  {email.to_email}  {email.subject}"


@click.command("send")
@click.option("--draft", "draft_id", required=True, metavar="ID", help="The draft to send.")
@click.option("--to", "to_email", metavar="ADDR", help="Recipient (default: the draft's prospect).")
@click.option(
    "--from", "from_account", metavar="ACCOUNT", help="Account id, name or email (default: default)."
)
@click.option(
    "--idempotency-key",
    "idempotency_key",
    metavar="KEY",
    help="Retry-safe key; without it one is derived from the draft id and revision.",
)
@json_option
def send(
    draft_id: str, to_email: str | None, from_account: str | None, idempotency_key: str | None, as_json: bool
) -> None:
    """Queue a draft for sending (undo window first; the worker delivers it)."""
    from lumina_tui.services import sending

    rt = _runtime()

    def action() -> Any:
        return sending.send(
            rt.db,
            rt.actor,
            draft_id=draft_id,
            idempotency_key=idempotency_key,
            from_account=from_account,
            to_email=to_email,
            settings=rt.settings,
        )

    result = run_guarded(action, as_json=as_json)
    email = result.email
    if as_json:
        emit_json({**sending.as_json(email), "created": result.created})
        return
    if not result.created:
        click.echo(f"Already queued by an earlier identical send: email {email.id} is {email.status}.")
        return
    window = rt.settings.undo_window_seconds
    timing = f"sending in {window:g} s" if window > 0 else "sending now"
    click.echo(f"Queued email {email.id} to {_who(email.to_name, email.to_email)} — {timing}.")
    if window > 0:
        click.echo(f"Undo: lumina emails cancel {email.id}")


@click.group("emails")
def emails() -> None:
    """List, show, retry and cancel sent emails."""


@emails.command("list")
@click.option("--status", metavar="S", help="PENDING_SEND, SENDING, SENT, FAILED, CANCELLED or BOUNCED.")
@click.option("--limit", type=click.IntRange(1, 500), default=50, show_default=True)
@click.option("--offset", type=click.IntRange(min=0), default=0)
@json_option
def list_command(status: str | None, limit: int, offset: int, as_json: bool) -> None:
    """Emails, newest first."""
    from lumina_tui.services import sending

    rt = _runtime()
    page = run_guarded(
        lambda: sending.list_emails(rt.db, rt.actor, status=status, limit=limit, offset=offset),
        as_json=as_json,
    )
    if as_json:
        emit_json(page.as_json(sending.as_json))
        return
    for email in page.items:
        click.echo(_email_line(email))
    click.echo(f"{len(page.items)} of {page.total} email(s)", err=True)


@emails.command("show")
@click.argument("email_id", metavar="ID")
@json_option
def show(email_id: str, as_json: bool) -> None:
    """One email with its events."""
    from lumina_tui.services import sending

    rt = _runtime()

    def action() -> Any:
        email = sending.get_email(rt.db, rt.actor, email_id)
        return email, sending.list_events(rt.db, rt.actor, email.id)

    email, event_rows = run_guarded(action, as_json=as_json)
    if as_json:
        emit_json(sending.as_json(email, event_rows))
        return
    click.echo(f"Email     {email.id}")
    click.echo(f"Status    {email.status} (attempts: {email.attempts})")
    if email.last_error:
        click.echo(f"Last error {email.last_error}")
    click.echo(f"From      {_who(email.from_name, email.from_email)} ({email.provider})")
    click.echo(f"To        {_who(email.to_name, email.to_email)}")
    click.echo(f"Subject   {email.subject}")
    click.echo(f"Message-ID {email.message_id}")
    for event in event_rows:
        click.echo(f"  {event.occurred_at:%Y-%m-%d %H:%M:%S}  {event.event_type}  {event.event_data}")


@emails.command("retry")
@click.argument("email_id", metavar="ID")
@json_option
def retry(email_id: str, as_json: bool) -> None:
    """Send a FAILED email again (the same email, the same Message-ID)."""
    from lumina_tui.services import sending

    rt = _runtime()
    email = run_guarded(
        lambda: sending.retry(rt.db, rt.actor, email_id, settings=rt.settings), as_json=as_json
    )
    if as_json:
        emit_json(sending.as_json(email))
        return
    click.echo(f"Email {email.id} is queued again.")


@emails.command("cancel")
@click.argument("email_id", metavar="ID")
@json_option
def cancel(email_id: str, as_json: bool) -> None:
    """Undo a send that is still waiting; the draft comes back as a new editable draft."""
    from lumina_tui.services import sending

    rt = _runtime()
    result = run_guarded(lambda: sending.cancel(rt.db, rt.actor, email_id), as_json=as_json)
    if as_json:
        emit_json({**sending.as_json(result.email), "new_draft_id": result.draft_id})
        return
    click.echo(f"Cancelled email {result.email.id}; nothing was sent.")
    click.echo(f"Your draft is back as {result.draft_id} (lumina drafts show {result.draft_id}).")
