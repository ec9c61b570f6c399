"""`lumina accounts add|list|test|default|remove`: sending accounts as commands (contract: docs/cli.md).

A password or token is only ever read from stdin (`--password-stdin`), never taken as an argument,
which any user on the machine could read in `ps`; it goes to the OS keyring, never to SQLite.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from lumina_tui.cli.output import emit_json, json_option, run_guarded

DEFAULT_PORTS = {"starttls": 587, "ssl": 465, "plain": 25}


@click.group()
def accounts() -> None:
    """Add, list, test and remove sending accounts."""


@accounts.group("add")
def add() -> None:
    """Add a sending account: gmail, outlook, smtp, or maildir (a local outbox, not delivered)."""


def _read_secret(what: str) -> str:
    """The secret from stdin: one line when piped, a hidden prompt (on stderr) at a terminal."""
    from lumina_tui.services.errors import ValidationError

    stream = sys.stdin
    if stream.isatty():
        value = click.prompt(what.capitalize(), hide_input=True, err=True, default="", show_default=False)
    else:
        value = stream.read()
        # Strip only the line end `echo` or a file adds: a password may begin or end with spaces.
        if value.endswith("\r\n"):
            value = value[:-2]
        elif value.endswith("\n"):
            value = value[:-1]
    if not value:
        raise ValidationError(f"password: no {what} was given on stdin", field="password")
    if "\n" in value or "\r" in value:
        raise ValidationError(f"password: the {what} on stdin must be a single line", field="password")
    return value


def _print_added(account: Any, as_json: bool) -> None:
    from lumina_tui.services import accounts as service

    body = service.as_json(account)
    if account.secret_ref:
        from lumina_tui import secrets

        warning = secrets.backend_info()["warning"]
        if warning:
            click.echo(f"warning: {warning}", err=True)
    if (account.settings or {}).get("insecure_plaintext"):
        click.echo(
            "warning: this account sends a password unencrypted to another machine: anyone on the "
            "network path can read it (--insecure-plaintext).",
            err=True,
        )
    if as_json:
        emit_json(body)
        return
    from lumina_tui.services.terminal_text import terminal_safe as safe

    default = " (default)" if account.is_default else ""
    click.echo(
        f"Added {account.provider} account {safe(repr(account.name))}{default}: {safe(account.email)}"
        f" — {safe(body['label'])}"
    )
    if account.provider == "maildir":
        click.echo("Mail sent from it is written to a local Maildir and is not delivered to anyone.")
    click.echo(f"Check it with: lumina accounts test {safe(_quoted(account.name))}")


def _quoted(text: str) -> str:
    import shlex

    return shlex.quote(text)


@add.command("maildir")
@click.option(
    "--email", metavar="ADDR", help="The From address shown in the outbox (default rep@outbox.test)."
)
@click.option("--name", metavar="NAME", help="A short name for --from (default: the email address).")
@click.option("--display-name", default="", metavar="NAME", help="The From display name.")
@click.option(
    "--path",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where the Maildir lives (default: outbox/ in the data dir).",
)
@click.option(
    "--default", "make_default", is_flag=True, help="Send from this account unless --from says otherwise."
)
@json_option
def add_maildir(
    email: str | None,
    name: str | None,
    display_name: str,
    path: Path | None,
    make_default: bool,
    as_json: bool,
) -> None:
    """A local outbox (a Maildir mutt or neomutt can open): nothing is delivered to anyone."""
    from lumina_tui.services import accounts as service
    from lumina_tui.services.runtime import runtime

    def run() -> Any:
        rt = runtime()
        return service.add_account(
            rt.db,
            rt.actor,
            provider="maildir",
            email=email,
            name=name,
            display_name=display_name,
            settings={"path": str(path)} if path else None,
            make_default=make_default,
        )

    _print_added(run_guarded(run, as_json=as_json), as_json)


@add.command("smtp")
@click.option("--email", required=True, metavar="ADDR", help="The address mail is sent from.")
@click.option("--host", required=True, metavar="HOST", help="The SMTP server, e.g. smtp.example.com.")
@click.option(
    "--port",
    type=click.IntRange(1, 65535),
    metavar="PORT",
    help="Default: 587, 465 with --ssl, 25 with --plain.",
)
# Three separate flags, not one option with flag values: with a shared destination the last flag
# given would silently win, and `--ssl --plain` must be an error instead.
@click.option("--starttls", "use_starttls", is_flag=True, help="Upgrade to TLS with STARTTLS (default).")
@click.option("--ssl", "use_ssl", is_flag=True, help="Implicit TLS from the first byte (usually port 465).")
@click.option("--plain", "use_plain", is_flag=True, help="No TLS at all (a relay on this machine).")
@click.option(
    "--smtputf8",
    is_flag=True,
    help="The server carries non-ASCII mailbox names (SMTPUTF8); `accounts test` also finds out.",
)
@click.option(
    "--insecure-plaintext",
    is_flag=True,
    help="With --plain toward another machine: send the password unencrypted anyway "
    "(anyone on the network path can read it).",
)
@click.option("--username", metavar="USER", help="Login name (default: the email address).")
@click.option("--password-stdin", is_flag=True, help="Read the password from stdin (never from an argument).")
@click.option(
    "--xoauth2-token-stdin", is_flag=True, help="Read an OAuth2 bearer token from stdin (AUTH XOAUTH2)."
)
@click.option(
    "--timeout", type=click.FloatRange(0.1, 600), metavar="SECONDS", help="Network timeout (default 30)."
)
@click.option(
    "--ca-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Trust this CA certificate (PEM) for the server's TLS certificate.",
)
@click.option(
    "--imap-host", metavar="HOST", help="Read replies and bounces from this IMAP server (mailbox sync)."
)
@click.option(
    "--imap-port",
    type=click.IntRange(1, 65535),
    metavar="PORT",
    help="Default: 993, 143 with STARTTLS/plain.",
)
@click.option(
    "--imap-security",
    type=click.Choice(["ssl", "starttls", "plain"]),
    default="ssl",
    show_default=True,
    help="TLS for IMAP: implicit (ssl), STARTTLS, or none (local servers only).",
)
@click.option("--imap-username", metavar="USER", help="IMAP login (default: --username, else the email).")
@click.option(
    "--imap-password-stdin",
    is_flag=True,
    help="Read the IMAP password from stdin (default: the SMTP password from --password-stdin).",
)
@click.option("--name", metavar="NAME", help="A short name for --from (default: the email address).")
@click.option("--display-name", default="", metavar="NAME", help="The From display name.")
@click.option(
    "--default", "make_default", is_flag=True, help="Send from this account unless --from says otherwise."
)
@json_option
def add_smtp(
    email: str,
    host: str,
    port: int | None,
    use_starttls: bool,
    use_ssl: bool,
    use_plain: bool,
    smtputf8: bool,
    insecure_plaintext: bool,
    username: str | None,
    password_stdin: bool,
    xoauth2_token_stdin: bool,
    timeout: float | None,
    ca_file: Path | None,
    imap_host: str | None,
    imap_port: int | None,
    imap_security: str,
    imap_username: str | None,
    imap_password_stdin: bool,
    name: str | None,
    display_name: str,
    make_default: bool,
    as_json: bool,
) -> None:
    """An SMTP server: STARTTLS, implicit TLS or plain; a password or an XOAUTH2 token from stdin.

    With --imap-host, Lumina also reads the mailbox (read-only) for replies and bounces.
    """
    from lumina_tui.services import accounts as service
    from lumina_tui.services.errors import ValidationError
    from lumina_tui.services.runtime import runtime

    given = (("--starttls", use_starttls), ("--ssl", use_ssl), ("--plain", use_plain))
    chosen = [flag for flag, on in given if on]
    security = {"--ssl": "ssl", "--plain": "plain"}.get(chosen[0], "starttls") if chosen else "starttls"

    def run() -> Any:
        if len(chosen) > 1:
            raise ValidationError(
                f"security: {' and '.join(chosen)} contradict each other; give one of --starttls, --ssl "
                "or --plain",
                field="security",
            )
        if insecure_plaintext and security != "plain" and not (imap_host and imap_security == "plain"):
            raise ValidationError("security: --insecure-plaintext only goes with --plain", field="security")
        if password_stdin and xoauth2_token_stdin:
            raise ValidationError(
                "password: give either --password-stdin or --xoauth2-token-stdin, not both", field="password"
            )
        secret: str | None = None
        imap_secret: str | None = None
        auth = "none"
        if imap_password_stdin and (password_stdin or xoauth2_token_stdin):
            raise ValidationError(
                "imap_password: stdin holds one secret; IMAP logs in with the SMTP password by default, "
                "so drop --imap-password-stdin (or give SMTP no login)",
                field="imap_password",
            )
        if imap_password_stdin and not imap_host:
            raise ValidationError("imap_host: --imap-password-stdin needs --imap-host", field="imap_host")
        if imap_password_stdin:
            imap_secret = _read_secret("IMAP password")
        if password_stdin:
            secret, auth = _read_secret("password"), "password"
        elif xoauth2_token_stdin:
            secret, auth = _read_secret("XOAUTH2 token"), "xoauth2"
        elif username:
            auth = "password"  # a login name without a password: the service says what is missing
        settings: dict[str, Any] = {
            "host": host,
            "port": port or DEFAULT_PORTS[security],
            "security": security,
            "auth": auth,
        }
        if username:
            settings["username"] = username
        if timeout is not None:
            settings["timeout"] = timeout
        if ca_file is not None:
            settings["ca_file"] = str(ca_file)
        if imap_host:
            settings["imap"] = {
                "host": imap_host,
                "port": imap_port,
                "security": imap_security,
                "username": imap_username or username or email,
            }
        elif imap_port or imap_username:
            raise ValidationError("imap_host: IMAP settings need --imap-host", field="imap_host")
        if insecure_plaintext:
            settings["insecure_plaintext"] = True
        if smtputf8:
            settings["smtputf8"] = True
        rt = runtime()
        return service.add_account(
            rt.db,
            rt.actor,
            provider="smtp",
            email=email,
            name=name,
            display_name=display_name,
            settings=settings,
            secret=secret,
            imap_secret=imap_secret,
            make_default=make_default,
        )

    _print_added(run_guarded(run, as_json=as_json), as_json)


def _say(text: str) -> None:
    """Sign-in instructions go to stderr: stdout stays one JSON document with --json."""
    click.echo(text, err=True)


def _print_signed_in(result: Any, as_json: bool) -> None:
    from lumina_tui.services import accounts as service

    account = result.account
    if result.created:
        _print_added(account, as_json)
        return
    if as_json:
        emit_json({**service.as_json(account), "signed_in_again": True, "released_emails": result.released})
        return
    click.echo(f"Signed in again: {account.name!r} ({account.email}) — {service.label(account)}")
    if result.released:
        click.echo(f"{result.released} email(s) that were waiting for this sign-in are on their way.")


_OAUTH_COMMON = [
    click.option("--email", metavar="ADDR", help="The address you will sign in as (checked after sign-in)."),
    click.option("--name", metavar="NAME", help="A short name for --from (default: the email address)."),
    click.option("--display-name", default="", metavar="NAME", help="The From display name."),
    click.option(
        "--default", "make_default", is_flag=True, help="Send from this account unless --from says otherwise."
    ),
    click.option(
        "--timeout",
        type=click.FloatRange(10, 3600),
        default=300,
        show_default=True,
        metavar="SECONDS",
        help="How long to wait for the sign-in to be finished.",
    ),
]


def _oauth_options(command: Any) -> Any:
    for option in reversed(_OAUTH_COMMON):
        command = option(command)
    return command


@add.command("gmail")
@_oauth_options
@click.option("--no-browser", is_flag=True, help="Print the sign-in address instead of opening a browser.")
@json_option
def add_gmail(
    email: str | None,
    name: str | None,
    display_name: str,
    make_default: bool,
    timeout: float,
    no_browser: bool,
    as_json: bool,
) -> None:
    """A Gmail or Google Workspace mailbox: sign in with Google in a browser (OAuth, loopback redirect).

    Lumina asks to send mail (gmail.send) and to read it (gmail.readonly: to find a sent message again
    after an interruption, and to see replies). The Google OAuth client comes from config.toml
    ([google] client_id, client_secret); the README says how to register one.
    """
    from lumina_tui.services import oauth_accounts
    from lumina_tui.services.runtime import runtime

    def run() -> Any:
        rt = runtime()
        return oauth_accounts.sign_in_gmail(
            rt.db,
            rt.actor,
            rt.settings,
            email=email,
            name=name,
            display_name=display_name,
            open_browser=not no_browser,
            make_default=make_default,
            timeout_seconds=timeout,
        )

    _print_signed_in(run_guarded(run, as_json=as_json), as_json)


@add.command("outlook")
@_oauth_options
@click.option(
    "--interactive", is_flag=True, help="Sign in in a browser on this machine instead of with a device code."
)
@json_option
def add_outlook(
    email: str | None,
    name: str | None,
    display_name: str,
    make_default: bool,
    timeout: float,
    interactive: bool,
    as_json: bool,
) -> None:
    """An Outlook / Microsoft 365 mailbox: sign in with a device code (or --interactive in a browser).

    Lumina asks for Mail.Send and Mail.ReadWrite (and offline_access, to stay signed in). The
    Microsoft app comes from config.toml ([microsoft] client_id); the README says how to register one.
    """
    from lumina_tui.services import oauth_accounts
    from lumina_tui.services.runtime import runtime

    def run() -> Any:
        rt = runtime()
        return oauth_accounts.sign_in_outlook(
            rt.db,
            rt.actor,
            rt.settings,
            say=_say,
            email=email,
            name=name,
            display_name=display_name,
            interactive=interactive,
            make_default=make_default,
            timeout_seconds=timeout,
        )

    _print_signed_in(run_guarded(run, as_json=as_json), as_json)


@accounts.command("signin")
@click.argument("ref", metavar="ID|NAME|EMAIL")
@click.option(
    "--no-browser", is_flag=True, help="Gmail: print the sign-in address instead of opening a browser."
)
@click.option(
    "--interactive", is_flag=True, help="Outlook: sign in in a browser instead of with a device code."
)
@json_option
def signin_command(ref: str, no_browser: bool, interactive: bool, as_json: bool) -> None:
    """Sign a Gmail or Outlook account in again (after "needs sign-in"); its waiting emails then go out."""
    from lumina_tui.services import oauth_accounts
    from lumina_tui.services.runtime import runtime

    def run() -> Any:
        rt = runtime()
        return oauth_accounts.sign_in_again(
            rt.db, rt.actor, rt.settings, ref, say=_say, open_browser=not no_browser, interactive=interactive
        )

    _print_signed_in(run_guarded(run, as_json=as_json), as_json)


@accounts.command("list")
@json_option
def list_command(as_json: bool) -> None:
    """List sending accounts, the default first."""
    from lumina_tui.services import accounts as service
    from lumina_tui.services.runtime import runtime

    def run() -> Any:
        rt = runtime()
        return service.list_accounts(rt.db, rt.actor)

    rows = run_guarded(run, as_json=as_json)
    if as_json:
        emit_json({"items": [service.as_json(a) for a in rows], "total": len(rows)})
        return
    if not rows:
        click.echo(
            "No sending accounts yet: `lumina accounts add smtp ...`, or `lumina demo` for a local outbox."
        )
        return
    from lumina_tui.cli import tables

    tables.stdout().print(
        tables.rows_table(
            f"Accounts ({len(rows)})",
            ["name", "email", "where mail goes", "status", "default"],
            (
                (a.name, a.email, service.label(a), service.status_text(a), "yes" if a.is_default else "")
                for a in rows
            ),
        )
    )


@accounts.command("test")
@click.argument("ref", metavar="[ID|NAME|EMAIL]", required=False)
@json_option
def test_command(ref: str | None, as_json: bool) -> None:
    """Check an account without sending: maildir writable; SMTP connect, TLS, login, NOOP; Gmail and
    Outlook: refresh the sign-in and read the mailbox's profile."""
    from lumina_tui.services import accounts as service
    from lumina_tui.services.runtime import runtime

    def run() -> dict[str, Any]:
        rt = runtime()
        return service.test_account(rt.db, rt.actor, ref, rt.settings)

    result = run_guarded(run, as_json=as_json)
    if as_json:
        emit_json(result)
        return
    from lumina_tui.services.terminal_text import terminal_safe as safe

    click.echo(f"ok: {safe(result['account']['name'])}: {safe(result['detail'])}")


@accounts.command("default")
@click.argument("ref", metavar="ID|NAME|EMAIL")
@json_option
def default_command(ref: str, as_json: bool) -> None:
    """Make an account the default one new drafts send from."""
    from lumina_tui.services import accounts as service
    from lumina_tui.services.runtime import runtime

    def run() -> Any:
        rt = runtime()
        return service.make_default(rt.db, rt.actor, ref)

    account = run_guarded(run, as_json=as_json)
    if as_json:
        emit_json(service.as_json(account))
        return
    from lumina_tui.services.terminal_text import terminal_safe as safe

    click.echo(f"New drafts send from {safe(repr(account.name))} ({safe(account.email)}).")


@accounts.command("remove")
@click.argument("ref", metavar="ID|NAME|EMAIL")
@json_option
def remove_command(ref: str, as_json: bool) -> None:
    """Remove an account and its stored secret (refused while its emails are still waiting to send)."""
    from lumina_tui.services import accounts as service
    from lumina_tui.services.runtime import runtime

    def run() -> Any:
        rt = runtime()
        return service.remove_account(rt.db, rt.actor, ref)

    account = run_guarded(run, as_json=as_json)
    if as_json:
        emit_json(service.as_json(account))
        return
    from lumina_tui.services.terminal_text import terminal_safe as safe

    click.echo(f"Removed account {safe(repr(account.name))} ({safe(account.email)}).")


@accounts.command("tracking")
@click.argument("ref")
@click.option("--on/--off", "enabled", required=True, help="Turn open/click tracking on or off.")
@json_option
def tracking_command(ref: str, enabled: bool, as_json: bool) -> None:
    """Open and click tracking for one account (off by default; it hurts deliverability)."""
    from lumina_tui.services import accounts as service
    from lumina_tui.services import tracking
    from lumina_tui.services.runtime import runtime

    rt = runtime()
    account = run_guarded(lambda: tracking.set_tracking(rt.db, rt.actor, ref, enabled), as_json=as_json)
    if enabled:
        click.echo(f"warning: {tracking.WARNING}", err=True)
        if not rt.settings.api.public_url:
            click.echo(
                "warning: api.public_url is not set, so nothing is tracked until it is "
                "(the URL `lumina serve` is reachable at).",
                err=True,
            )
    if as_json:
        emit_json({**service.as_json(account), "tracking": enabled})
    else:
        click.echo(f"tracking {'on' if enabled else 'off'} for {account.name}")
