"""`lumina accounts ...` through click: the JSON contract, exit codes, and the password only via stdin."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from memory_keyring import MemoryKeyring, memory_keyring
from smtp_sink import SmtpSink

from lumina_tui.cli import main

PASSWORD = "cli-pw-7Hq!unique"


@pytest.fixture
def ring() -> Iterator[MemoryKeyring]:
    with memory_keyring() as ring:
        yield ring


def run(*args: str, stdin: str | None = None) -> Result:
    return CliRunner().invoke(main, list(args), input=stdin, catch_exceptions=False)


def error_of(result: Result) -> dict[str, object]:
    return json.loads(result.stderr)["error"]


def smtp_args(sink: SmtpSink, *extra: str) -> list[str]:
    return [
        "accounts", "add", "smtp", "--email", "rep@acme.test", "--host", sink.host,
        "--port", str(sink.port), "--plain", *extra, "--json",
    ]  # fmt: skip


def test_add_maildir_then_list(ring: MemoryKeyring) -> None:
    added = run("accounts", "add", "maildir", "--name", "outbox", "--default", "--json")
    assert added.exit_code == 0, added.stderr
    account = json.loads(added.stdout)
    assert account["label"] == "local outbox, not delivered"
    assert account["is_default"] is True

    listed = run("accounts", "list", "--json")
    assert listed.exit_code == 0
    document = json.loads(listed.stdout)
    assert document["total"] == 1
    assert [item["id"] for item in document["items"]] == [account["id"]]

    human = run("accounts", "list")
    assert "local outbox, not delivered" in human.stdout


def test_smtp_password_from_stdin_goes_to_the_keyring_only(ring: MemoryKeyring, lumina_home: Path) -> None:
    with SmtpSink(users={"rep@acme.test": PASSWORD}) as sink:
        added = run(*smtp_args(sink, "--password-stdin", "--name", "work"), stdin=PASSWORD + "\n")
        assert added.exit_code == 0, added.stderr
        account = json.loads(added.stdout)
        assert account["has_secret"] is True
        assert ring.passwords == {("lumina", f"account:{account['id']}"): PASSWORD}
        assert PASSWORD not in added.stdout + added.stderr

        tested = run("accounts", "test", "work", "--json")
        assert tested.exit_code == 0, tested.stderr
        assert json.loads(tested.stdout)["ok"] is True
        assert sink.messages == []

    stored = b"".join(p.read_bytes() for p in (lumina_home / "data").glob("lumina.db*"))
    assert PASSWORD.encode() not in stored
    logs = "".join(p.read_text() for p in (lumina_home / "logs").glob("*.log*"))
    assert PASSWORD not in logs


def test_a_wrong_password_fails_the_test_with_exit_1(ring: MemoryKeyring) -> None:
    with SmtpSink(users={"rep@acme.test": PASSWORD}) as sink:
        assert run(*smtp_args(sink, "--password-stdin"), stdin="wrong\n").exit_code == 0
        tested = run("accounts", "test", "rep@acme.test", "--json")
    assert tested.exit_code == 1
    assert tested.stdout == ""
    error = error_of(tested)
    assert error["code"] == "provider_error"
    assert "535" in str(error["message"])


def test_xoauth2_token_from_stdin(ring: MemoryKeyring) -> None:
    with SmtpSink(xoauth2_tokens={"rep@acme.test": "ya29.cli"}) as sink:
        added = run(*smtp_args(sink, "--xoauth2-token-stdin"), stdin="ya29.cli\n")
        assert added.exit_code == 0, added.stderr
        assert json.loads(added.stdout)["settings"]["auth"] == "xoauth2"
        assert run("accounts", "test", "--json").exit_code == 0


def test_input_errors_exit_2_with_the_field(ring: MemoryKeyring) -> None:
    with SmtpSink() as sink:
        no_password = run(*smtp_args(sink, "--username", "rep"))
        assert no_password.exit_code == 2
        assert error_of(no_password)["field"] == "password"

        empty = run(*smtp_args(sink, "--password-stdin"), stdin="")
        assert empty.exit_code == 2 and error_of(empty)["field"] == "password"

        assert run(*smtp_args(sink, "--name", "dup")).exit_code == 0
        duplicate = run(*smtp_args(sink, "--name", "dup"))
        assert duplicate.exit_code == 2 and error_of(duplicate)["field"] == "name"

    bad_email = run("accounts", "add", "maildir", "--email", "nope", "--json")
    assert bad_email.exit_code == 2 and error_of(bad_email)["field"] == "email"
    assert ring.passwords == {}


def test_a_password_argument_does_not_exist(ring: MemoryKeyring) -> None:
    result = CliRunner().invoke(
        main, ["accounts", "add", "smtp", "--email", "r@acme.test", "--host", "h.test", "--password", "x"]
    )
    assert result.exit_code == 2
    assert "No such option" in result.stderr


@pytest.mark.parametrize(
    ("provider", "setting"), [("gmail", "[google] client_id"), ("outlook", "[microsoft] client_id")]
)
def test_gmail_and_outlook_need_an_oauth_client_in_config(provider: str, setting: str) -> None:
    result = run("accounts", "add", provider, "--email", "rep@acme.test", "--json")
    assert result.exit_code == 1
    error = error_of(result)
    assert error["code"] == "provider_error" and error["field"] == "account"
    assert setting in str(error["message"]) and "README" in str(error["message"])
    assert json.loads(run("accounts", "list", "--json").stdout)["total"] == 0


def test_remove(ring: MemoryKeyring) -> None:
    with SmtpSink() as sink:
        added = json.loads(run(*smtp_args(sink, "--password-stdin", "--name", "work"), stdin="pw\n").stdout)
    removed = run("accounts", "remove", "work", "--json")
    assert removed.exit_code == 0
    assert json.loads(removed.stdout)["id"] == added["id"]
    assert ring.passwords == {}
    missing = run("accounts", "remove", "work", "--json")
    assert missing.exit_code == 2
    assert error_of(missing)["code"] == "not_found"


def test_test_without_accounts_names_the_from_field() -> None:
    result = run("accounts", "test", "--json")
    assert result.exit_code == 2
    assert error_of(result)["field"] == "from"


def test_plain_login_to_another_machine_needs_insecure_plaintext(ring: MemoryKeyring) -> None:
    remote = [
        "accounts", "add", "smtp", "--email", "rep@acme.test", "--host", "smtp.acme.test", "--plain",
        "--password-stdin", "--json",
    ]  # fmt: skip
    refused = run(*remote, stdin=PASSWORD + "\n")
    assert refused.exit_code == 2
    error = error_of(refused)
    assert error["field"] == "security"
    assert "--insecure-plaintext" in str(error["message"]) and "unencrypted" in str(error["message"])
    assert ring.passwords == {}
    assert run("accounts", "list", "--json").stdout.count('"id"') == 0

    accepted = run(*remote, "--insecure-plaintext", stdin=PASSWORD + "\n")
    assert accepted.exit_code == 0, accepted.stderr
    assert json.loads(accepted.stdout)["settings"]["insecure_plaintext"] is True
    assert "unencrypted" in accepted.stderr
    # a relay on this machine needs no flag: nothing crosses a network
    with SmtpSink(users={"rep@acme.test": PASSWORD}) as sink:
        local = run(*smtp_args(sink, "--password-stdin", "--name", "local"), stdin=PASSWORD + "\n")
        assert local.exit_code == 0, local.stderr
        assert "insecure_plaintext" not in json.loads(local.stdout)["settings"]


@pytest.mark.parametrize(
    "flags", [("--ssl", "--plain"), ("--starttls", "--ssl"), ("--plain", "--starttls", "--ssl")]
)
def test_conflicting_security_flags_are_an_error_naming_them(
    ring: MemoryKeyring, flags: tuple[str, ...]
) -> None:
    result = run(
        "accounts", "add", "smtp", "--email", "rep@acme.test", "--host", "127.0.0.1", *flags, "--json"
    )
    assert result.exit_code == 2
    error = error_of(result)
    assert error["field"] == "security"
    assert all(flag in str(error["message"]) for flag in flags)
    assert run("accounts", "list", "--json").stdout.count('"id"') == 0


def test_plain_imap_to_another_machine_needs_insecure_plaintext(ring: MemoryKeyring) -> None:
    args = [
        "accounts", "add", "smtp", "--email", "rep@acme.test", "--host", "127.0.0.1", "--plain",
        "--imap-host", "imap.acme.test", "--imap-security", "plain", "--imap-password-stdin", "--json",
    ]  # fmt: skip
    refused = run(*args, stdin=PASSWORD + "\n")
    assert refused.exit_code == 2, refused.stderr
    error = error_of(refused)
    assert error["field"] == "imap_security" and "unencrypted" in str(error["message"])
    assert ring.passwords == {}
    accepted = run(*args, "--insecure-plaintext", stdin=PASSWORD + "\n")
    assert accepted.exit_code == 0, accepted.stderr
    assert json.loads(accepted.stdout)["settings"]["insecure_plaintext"] is True


def test_default_moves_the_default_and_an_unknown_account_is_exit_2(ring: MemoryKeyring) -> None:
    first = json.loads(run("accounts", "add", "maildir", "--name", "one", "--default", "--json").stdout)
    second = json.loads(
        run("accounts", "add", "maildir", "--name", "two", "--email", "two@outbox.test", "--json").stdout
    )
    made = run("accounts", "default", "two", "--json")
    assert made.exit_code == 0, made.stderr
    assert json.loads(made.stdout)["is_default"] is True
    listed = {
        item["id"]: item["is_default"]
        for item in json.loads(run("accounts", "list", "--json").stdout)["items"]
    }
    assert listed == {first["id"]: False, second["id"]: True}
    assert "New drafts send from 'one'" in run("accounts", "default", "one").stdout
    missing = run("accounts", "default", "nobody", "--json")
    assert missing.exit_code == 2 and error_of(missing)["field"] == "account"
