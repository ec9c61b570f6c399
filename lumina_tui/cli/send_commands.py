"""`lumina send` and `lumina emails list|show|retry|cancel`: the outbox from a script.

A send only queues: the worker delivers. The send service also makes sure a worker is running
(the sidecar), unless `worker.autostart_sidecar` is off, and never waits for it.

Everything printed from an email (names, subject, body, errors, event data) is stored text and goes
through `terminal_safe`; `emails show` prints the body exactly as it goes out, below its headers.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import click

from lumina_tui.cli.output import emit_json, json_option, offset_type, run_guarded
from lumina_tui.services.terminal_text import terminal_safe as safe


def _runtime() -> Any:
    from lumina_tui.services.runtime import runtime

    return runtime()


def _who(name: str, address: str) -> str:
    return safe(f"{name} <{address}>" if name else address)


def _email_line(email: Any) -> str:
    from lumina_tui.services.email_state import status_note

    when = email.sent_at or email.send_after
    stamp = when.strftime("%Y-%m-%d %H:%M:%S") if when else ""
    note = status_note(email)
    status = f"{email.status} ({note})" if note else email.status
    return f"{email.id}  {status:<12}  {stamp}  {safe(email.to_email)}  {safe(email.subject)}"


def _stamp(when: datetime | None) -> str:
    return when.strftime("%Y-%m-%d %H:%M:%S UTC") if when else "?"


def state_sentence(email: Any, now: datetime, *, already: bool = True) -> str:
    """Where an email is, in a rep's words, with the command that acts on it (if any).

    `already` words it as the answer to a second send of the same draft.
    """
    from lumina_tui.services.email_state import EmailStatus, status_note

    if not already:
        return state_sentence(email, now).replace("already ", "")
    if email.status == EmailStatus.PENDING_SEND and email.last_error:
        note = status_note(email)
        if note is not None:  # waiting, not failing: say why and what ends the wait
            return f"queued, {note}: {safe(email.last_error)} (email {email.id})"
    if email.status == EmailStatus.PENDING_SEND:
        due = email.next_attempt_at or email.send_after
        if due is not None and due > now and email.attempts == 0:
            seconds = max(1, round((due - now).total_seconds()))
            return f"already queued, sending in {seconds} s; `lumina emails cancel {email.id}` to undo"
        if email.attempts:
            again = f" at {_stamp(due)}" if due is not None and due > now else ""
            return (
                f"queued, retrying{again} after {email.attempts} failed attempt(s); "
                f"`lumina emails cancel {email.id}` to stop it"
            )
        return f"already queued and due now, waiting for the worker (`lumina worker`); email {email.id}"
    if email.status == EmailStatus.SENDING:
        return f"being sent right now (email {email.id}); it can no longer be cancelled"
    if email.status == EmailStatus.SENT:
        return f"already sent at {_stamp(email.sent_at)} (email {email.id})"
    if email.status == EmailStatus.FAILED:
        return f"its send failed (email {email.id}); `lumina emails retry {email.id}` to try again"
    if email.status == EmailStatus.CANCELLED:
        return f"its send was cancelled (email {email.id}); the editable copy is in `lumina drafts list`"
    if email.status == EmailStatus.BOUNCED:
        return f"sent at {_stamp(email.sent_at)} and bounced (email {email.id})"
    return f"email {email.id} is {email.status}"


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
@click.option("--allow-empty-body", is_flag=True, help="Send a draft whose body is empty (only its subject).")
@json_option
def send(
    draft_id: str,
    to_email: str | None,
    from_account: str | None,
    idempotency_key: str | None,
    allow_empty_body: bool,
    as_json: bool,
) -> None:
    """Queue a draft for sending (undo window first; the worker delivers it).

    A draft with an empty body is refused (a rep almost never means to send only a subject) unless
    --allow-empty-body is given. Sending a draft that is already queued or sent says where it is.
    """
    from lumina_tui.services import drafts, outbox, sending, worker_control
    from lumina_tui.services.errors import AlreadySentError, ValidationError
    from lumina_tui.store import utcnow

    rt = _runtime()

    def action() -> Any:
        draft = drafts.get(rt.db, rt.actor, draft_id)
        if draft.sent_at is None and not draft.body_text.strip() and not allow_empty_body:
            raise ValidationError(
                "body: the draft's body is empty; write it (lumina drafts save --body-file), "
                "or pass --allow-empty-body to send the subject alone",
                field="body",
            )
        try:
            return sending.send(
                rt.db,
                rt.actor,
                draft_id=draft_id,
                idempotency_key=idempotency_key,
                from_account=from_account,
                to_email=to_email,
                settings=rt.settings,
            )
        except AlreadySentError as exc:
            email_id = exc.details.get("email_id") or draft.email_id
            if not email_id:
                raise
            email = outbox.get_email(rt.db, rt.actor, email_id)
            raise AlreadySentError(
                f"draft {draft.id}: {state_sentence(email, utcnow())}",
                field="draft_id",
                email_id=email.id,
                status=email.status,
            ) from exc

    result = run_guarded(action, as_json=as_json)
    email = result.email
    if result.created:
        worker_control.ensure_running(rt.settings)  # a doorbell needs a worker to hear it
    if as_json:
        emit_json({**outbox.as_json(email), "created": result.created})
        return
    if not result.created:
        click.echo(f"Nothing new: this draft is {state_sentence(email, utcnow())}.")
        return
    window = rt.settings.undo_window_seconds
    timing = f"sending in {window:g} s" if window > 0 else "sending now"
    click.echo(f"Queued email {email.id} to {_who(email.to_name, email.to_email)} — {timing}.")
    if window > 0:
        click.echo(f"Undo: lumina emails cancel {email.id}")


@click.group("emails")
def emails() -> None:
    """List, show, retry, cancel sent emails; sync replies and bounces from the mailboxes."""


@emails.command("list")
@click.option("--status", metavar="S", help="PENDING_SEND, SENDING, SENT, FAILED, CANCELLED or BOUNCED.")
@click.option("--limit", type=click.IntRange(1, 500), default=50, show_default=True)
@click.option("--offset", type=offset_type, default=0)
@click.option("--after", metavar="ID", help="Start just past this email (the last id of the previous page).")
@json_option
def list_command(status: str | None, limit: int, offset: int, after: str | None, as_json: bool) -> None:
    """Emails, newest first."""
    from lumina_tui.services import outbox

    rt = _runtime()
    page = run_guarded(
        lambda: outbox.list_emails(rt.db, rt.actor, status=status, limit=limit, offset=offset, after=after),
        as_json=as_json,
    )
    if as_json:
        emit_json(page.as_json(outbox.as_json))
        return
    for email in page.items:
        click.echo(_email_line(email))
    click.echo(f"{len(page.items)} of {page.total} email(s)", err=True)


def _event_detail(data: Any) -> str:
    """An event's data as `key=value` pairs (nested values as compact JSON), never a Python repr."""
    if not data:
        return ""
    if not isinstance(data, dict):
        return safe(data)
    parts = []
    for key, value in data.items():
        if value is None or value == "":
            continue
        shown = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
        parts.append(f"{key}={shown}")
    return safe("  ".join(parts))


def print_email(email: Any, event_rows: list[Any], now: datetime) -> None:
    """Headers, the exact body that goes out, then the events timeline."""
    headers = [
        ("Email", email.id),
        ("Status", f"{email.status} — {state_sentence(email, now, already=False)}"),
        ("Attempts", str(email.attempts)),
        ("Last error", safe(email.last_error) if email.last_error else ""),
        ("From", f"{_who(email.from_name, email.from_email)} (via {email.provider})"),
        ("To", _who(email.to_name, email.to_email)),
        ("Cc", safe(", ".join(email.cc or []))),
        ("Bcc", safe(", ".join(email.bcc or []))),
        ("Subject", safe(email.subject) or "(no subject)"),
        ("Queued", _stamp(email.created_at)),
        ("Sent", _stamp(email.sent_at) if email.sent_at else ""),
        ("Message-ID", safe(email.message_id)),
    ]
    for name, value in headers:
        if value:
            click.echo(f"{name + ':':<12}{value}")
    click.echo("")
    click.echo(safe(email.body_text, multiline=True) if email.body_text else "(empty body)")
    click.echo("")
    click.echo("Events:" if event_rows else "Events: none yet")
    for event in event_rows:
        detail = _event_detail(event.event_data)
        line = f"  {event.occurred_at:%Y-%m-%d %H:%M:%S}  {safe(event.event_type):<10}"
        click.echo(f"{line}  {detail}".rstrip())


@emails.command("show")
@click.argument("email_id", metavar="ID")
@json_option
def show(email_id: str, as_json: bool) -> None:
    """One email: its headers, the exact body, and its events."""
    from lumina_tui.services import outbox
    from lumina_tui.store import utcnow

    rt = _runtime()

    def action() -> Any:
        email = outbox.get_email(rt.db, rt.actor, email_id)
        return email, outbox.list_events(rt.db, rt.actor, email.id)

    email, event_rows = run_guarded(action, as_json=as_json)
    if as_json:
        emit_json(outbox.as_json(email, event_rows))
        return
    print_email(email, event_rows, utcnow())


@emails.command("retry")
@click.argument("email_id", metavar="ID")
@json_option
def retry(email_id: str, as_json: bool) -> None:
    """Send a FAILED email again (the same email, the same Message-ID)."""
    from lumina_tui.services import outbox, worker_control

    rt = _runtime()
    email = run_guarded(
        lambda: outbox.retry(rt.db, rt.actor, email_id, settings=rt.settings), as_json=as_json
    )
    worker_control.ensure_running(rt.settings)
    if as_json:
        emit_json(outbox.as_json(email))
        return
    click.echo(f"Email {email.id} is queued again.")


@emails.command("cancel")
@click.argument("email_id", metavar="ID")
@json_option
def cancel(email_id: str, as_json: bool) -> None:
    """Undo a send that is still waiting; the draft comes back as a new editable draft."""
    from lumina_tui.services import drafts, outbox

    rt = _runtime()
    result = run_guarded(lambda: outbox.cancel(rt.db, rt.actor, email_id), as_json=as_json)
    if as_json:
        # The email (its `draft_id` is the frozen, cancelled draft) and the editable copy.
        new_draft = run_guarded(lambda: drafts.get(rt.db, rt.actor, result.draft_id), as_json=True)
        emit_json(
            {
                **outbox.as_json(result.email),
                "new_draft_id": result.draft_id,
                "new_draft": drafts.as_json(new_draft),
            }
        )
        return
    click.echo(f"Cancelled email {result.email.id}; nothing was sent.")
    click.echo(f"Your draft is back as {result.draft_id} (lumina drafts show {result.draft_id}).")


@emails.command("sync")
@click.option("--account", "account_ref", metavar="ACCOUNT", help="Only this account (id, name or email).")
@json_option
def sync(account_ref: str | None, as_json: bool) -> None:
    """Read the mailboxes now: replies and bounces become events (the worker also does it every minute)."""
    from lumina_tui.cli.output import fail
    from lumina_tui.services import mailbox_sync

    rt = _runtime()
    reports = run_guarded(
        lambda: mailbox_sync.sync_all(rt.db, rt.settings, rt.actor, account_ref=account_ref),
        as_json=as_json,
    )
    if as_json:
        emit_json({"items": [r.as_json() for r in reports], "total": len(reports)})
    else:
        if not reports:
            click.echo(
                "No account has a mailbox to read (add one: `lumina accounts add smtp ... --imap-host`)."
            )
        for r in reports:
            if r.skipped:
                click.echo(f"{safe(r.account_name)}: skipped — {r.skipped}")
            elif r.error is None:
                resync = " (full resync)" if r.full_resync else ""
                click.echo(
                    f"{safe(r.account_name)}: read {r.read}, replied {r.replied}, bounced {r.bounced} "
                    f"(hard {r.hard_bounced}), already recorded {r.duplicates}{resync}"
                )
    failed = [r for r in reports if r.error]
    if failed:
        message = "; ".join(f"{r.account_name}: {r.error}" for r in failed)
        fail("provider_error", message, field="account", exit_code=1, as_json=as_json)
