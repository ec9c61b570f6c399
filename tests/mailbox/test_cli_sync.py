"""`lumina accounts add smtp --imap-...` and `lumina emails sync` on real Postfix + Dovecot: the CLI's
JSON contract, exit codes, and the IMAP password only in the secret store (never the database, a
log or printed output)."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner, Result
from mail_servers import REP_ADDRESS, REP_PASSWORD, MailServers
from mailbox_support import send_to, status_of, tag
from polling import wait_until
from secret_grep import assert_grep_works, assert_no_secret
from test_real_mail_servers import DOMAIN

from lumina_tui.cli import main
from lumina_tui.config import Settings
from lumina_tui.services.email_state import EmailStatus
from lumina_tui.services.runtime import reset_runtime, runtime
from lumina_tui.worker import tasks
from lumina_tui.worker.provider_pool import ProviderPool


def run(*args: str, stdin: str | None = None) -> Result:
    reset_runtime()
    return CliRunner().invoke(main, list(args), input=stdin, catch_exceptions=False)


def add_args(servers: MailServers, *extra: str) -> list[str]:
    return [
        "accounts", "add", "smtp", "--email", REP_ADDRESS, "--host", "127.0.0.1",
        "--port", str(servers.smtp_port), "--plain", "--imap-host", "127.0.0.1",
        "--imap-port", str(servers.imap_port), "--imap-security", "plain", *extra, "--json",
    ]  # fmt: skip


def deliver(settings: Settings, address: str) -> str:
    rt = runtime()
    email = send_to(rt.db, rt.actor, settings, address)
    ctx = tasks.WorkerRuntime(
        settings=settings, db=rt.db, worker_id=tasks.new_worker_id(), providers=ProviderPool(rt.db, settings)
    )
    try:
        assert tasks.send_email(ctx, email.id) == "sent"
    finally:
        ctx.providers.close_all()
    return email.id


def test_add_with_imap_then_sync_a_real_bounce_from_the_command_line(
    settings: Settings, mail_servers: MailServers, lumina_home: Path
) -> None:
    added = run(*add_args(mail_servers, "--imap-password-stdin", "--name", "rep"), stdin=REP_PASSWORD + "\n")
    assert added.exit_code == 0, added.stderr
    account = json.loads(added.stdout)
    assert account["settings"]["imap"] == {
        "host": "127.0.0.1",
        "port": mail_servers.imap_port,
        "security": "plain",
        "username": REP_ADDRESS,
        "folder": "INBOX",
    }
    tested = run("accounts", "test", "rep", "--json")
    assert tested.exit_code == 0, tested.stderr
    assert "IMAP 127.0.0.1" in json.loads(tested.stdout)["detail"]
    assert "INBOX has" in json.loads(tested.stdout)["detail"]
    email_id = deliver(settings, f"nobody-{tag()}@{DOMAIN}")
    wait_until(
        lambda: any(
            email_id in p.read_text(errors="replace") for p in (mail_servers.maildir / "new").iterdir()
        ),
        timeout=60,
    )

    synced = run("emails", "sync", "--json")
    assert synced.exit_code == 0, synced.stderr
    (item,) = json.loads(synced.stdout)["items"]
    assert item["account"] == "rep" and item["error"] is None
    assert item["bounced"] >= 1 and item["hard_bounced"] >= 1
    assert status_of(runtime().db, email_id) == EmailStatus.BOUNCED
    bounced = run("emails", "list", "--status", "BOUNCED", "--json")
    assert [e["id"] for e in json.loads(bounced.stdout)["items"]] == [email_id]

    again = run("emails", "sync", "--account", "rep")
    assert again.exit_code == 0, again.stderr
    assert "rep: read 0, replied 0, bounced 0 (hard 0), already recorded 0" in again.stdout

    assert_grep_works(REP_PASSWORD, lumina_home)
    assert_no_secret(REP_PASSWORD, lumina_home, added.stdout, added.stderr, synced.stdout, synced.stderr)


def test_a_refused_imap_login_exits_1_with_the_contract_and_no_password(
    mail_servers: MailServers, lumina_home: Path
) -> None:
    wrong = "not-the-imap-password-93b1"
    added = run(*add_args(mail_servers, "--imap-password-stdin"), stdin=wrong + "\n")
    assert added.exit_code == 0, added.stderr

    synced = run("emails", "sync", "--json")

    assert synced.exit_code == 1
    error = json.loads(synced.stderr)["error"]
    assert error["code"] == "provider_error" and error["field"] == "account"
    assert "refused the login" in error["message"]
    (item,) = json.loads(synced.stdout)["items"]
    assert item["error_kind"] == "auth"
    tested = run("accounts", "test", "--json")
    assert tested.exit_code == 1 and "refused the login" in json.loads(tested.stderr)["error"]["message"]
    human = run("emails", "sync")
    assert human.exit_code == 1 and "error: " in human.stderr and "Traceback" not in human.stderr
    assert_no_secret(
        wrong, lumina_home, added.stdout, synced.stdout, synced.stderr, human.stdout, human.stderr
    )


def test_bad_imap_options_are_refused_naming_the_field_and_store_nothing(
    mail_servers: MailServers, lumina_home: Path
) -> None:
    no_host = run(
        "accounts", "add", "smtp", "--email", REP_ADDRESS, "--host", "127.0.0.1", "--plain",
        "--imap-password-stdin", "--json", stdin="pw\n",
    )  # fmt: skip
    assert no_host.exit_code == 2
    assert json.loads(no_host.stderr)["error"]["field"] == "imap_host"

    two_secrets = run(*add_args(mail_servers, "--password-stdin", "--imap-password-stdin"), stdin="pw\n")
    assert two_secrets.exit_code == 2
    assert json.loads(two_secrets.stderr)["error"]["field"] == "imap_password"

    no_password = run(*add_args(mail_servers))
    assert no_password.exit_code == 2
    assert json.loads(no_password.stderr)["error"]["field"] == "imap_password"

    args = add_args(mail_servers, "--imap-password-stdin")
    args[args.index("--imap-host") + 1] = "bad host"
    bad_host = run(*args, stdin="pw\n")
    assert bad_host.exit_code == 2
    assert json.loads(bad_host.stderr)["error"]["field"] == "imap_host"

    listed = run("accounts", "list", "--json")
    assert json.loads(listed.stdout)["total"] == 0
    nothing = run("emails", "sync", "--json")
    assert nothing.exit_code == 0 and json.loads(nothing.stdout) == {"items": [], "total": 0}
