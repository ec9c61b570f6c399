"""services.accounts: validation, resolution of `--from`, secrets only in the keyring, test and remove."""

from __future__ import annotations

import logging
import threading
import uuid
from datetime import datetime
from pathlib import Path

import pytest
from memory_keyring import MemoryKeyring
from smtp_sink import SmtpSink

from lumina_tui.config import Settings
from lumina_tui.logs import setup_logging
from lumina_tui.providers.base import AuthError
from lumina_tui.providers.maildir import MaildirProvider
from lumina_tui.providers.mime_builder import build_message, make_message_id
from lumina_tui.services import accounts, drafts
from lumina_tui.services.actors import Actor, new_workspace
from lumina_tui.services.errors import (
    InvalidStateError,
    NotFoundError,
    ProviderFailure,
    ValidationError,
)
from lumina_tui.store import Database
from lumina_tui.store.models import Email, UserPreferences

PASSWORD = "pw-Zq8#unique-4471"


def smtp_settings(sink: SmtpSink | None = None, **extra: object) -> dict[str, object]:
    base: dict[str, object] = {
        "host": "127.0.0.1",
        "port": sink.port if sink else 2525,
        "security": "plain",
        "timeout": 60,  # the sink answers at once; only a loaded machine is slow
    }
    base.update(extra)
    return base


def add_smtp(db: Database, actor: Actor, sink: SmtpSink | None = None, **kwargs: object):
    fields: dict[str, object] = {
        "provider": "smtp",
        "email": "rep@acme.test",
        "settings": smtp_settings(sink),
        "secret": PASSWORD,
    }
    fields.update(kwargs)
    return accounts.add_account(db, actor, **fields)  # type: ignore[arg-type]


def test_maildir_account_is_labelled_local_outbox(db: Database, actor: Actor) -> None:
    account = accounts.add_account(db, actor, provider="maildir", email=None, is_demo=True)
    shown = accounts.as_json(account)
    assert shown["label"] == "local outbox, not delivered"
    assert shown["delivers"] is False
    assert shown["email"] == accounts.DEFAULT_MAILDIR_EMAIL
    assert shown["has_secret"] is False
    assert shown["is_demo"] is True
    assert account.secret_ref is None


def test_smtp_secret_lives_only_in_the_keyring(
    db: Database, actor: Actor, ring: MemoryKeyring, settings: Settings, refused_port: int
) -> None:
    log_file = setup_logging(settings.log_dir)
    # A port held refusing (not a fixed one something on the machine may listen on).
    account = add_smtp(db, actor, settings=smtp_settings(port=refused_port))
    assert account.secret_ref == f"account:{account.id}"
    assert ring.passwords == {("lumina", f"account:{account.id}"): PASSWORD}
    assert PASSWORD not in repr(accounts.as_json(account))
    config = accounts.account_config(db, account.id)
    assert config.secret == PASSWORD
    assert PASSWORD not in repr(config)
    # Even a careless log line does not leak it once it has been read.
    logging.getLogger("lumina_tui.test").warning("login with %s failed", config.secret)
    with pytest.raises(ProviderFailure):
        accounts.test_account(db, actor, account.id, settings)  # nothing listens there

    for handler in logging.getLogger("lumina_tui").handlers:
        handler.flush()
    stored = b"".join(p.read_bytes() for p in Path(settings.data_dir).glob("lumina.db*"))
    assert stored, "the database files exist"
    assert PASSWORD.encode() not in stored
    assert log_file.read_text(encoding="utf-8").count("login with *** failed") == 1
    assert PASSWORD not in log_file.read_text(encoding="utf-8")


def test_without_a_keyring_the_secret_goes_to_the_0600_file_not_sqlite(
    db: Database, actor: Actor, settings: Settings
) -> None:
    import keyring
    from keyring.backends import fail

    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    try:
        account = add_smtp(db, actor)
        assert accounts.account_config(db, account.id).secret == PASSWORD
    finally:
        keyring.set_keyring(previous)
    stored = b"".join(p.read_bytes() for p in Path(settings.data_dir).glob("lumina.db*"))
    assert PASSWORD.encode() not in stored
    assert PASSWORD in (settings.config_dir / "secrets.json").read_text()


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"provider": "fax"}, "provider"),
        ({"provider": "gmail", "settings": {}, "secret": None}, "secret"),
        ({"provider": "outlook", "settings": {"host": "smtp.acme.test"}}, "host"),
        ({"settings": {"host": "h.test", "port": 25, "security": "plain", "per_minute": -1}}, "per_minute"),
        ({"email": "not-an-address"}, "email"),
        ({"settings": {"port": 587, "security": "starttls"}}, "host"),
        ({"settings": {"host": "smtp.acme.test", "security": "starttls"}}, "port"),
        ({"settings": {"host": "smtp.acme.test", "port": 70000, "security": "plain"}}, "port"),
        ({"settings": {"host": "smtp.acme.test", "port": 587}}, "security"),
        ({"settings": {"host": "smtp.acme.test", "port": 587, "security": "tls13"}}, "security"),
        (
            {"settings": {"host": "smtp.acme.test", "port": 587, "security": "plain", "password": "x"}},
            "password",
        ),
        (
            {
                "secret": None,
                "settings": {"host": "h.test", "port": 25, "security": "plain", "auth": "password"},
            },
            "password",
        ),
        ({"display_name": "Rep\r\nBcc: x@y.test"}, "display_name"),
        ({"name": "a\nb"}, "name"),
    ],
)
def test_validation_names_the_field(
    db: Database, actor: Actor, ring: MemoryKeyring, kwargs: dict[str, object], field: str
) -> None:
    with pytest.raises(ValidationError) as refused:
        add_smtp(db, actor, **kwargs)
    assert refused.value.field == field
    assert accounts.list_accounts(db, actor) == []
    assert ring.passwords == {}


def test_gmail_without_a_sign_in_is_refused(db: Database, actor: Actor) -> None:
    with pytest.raises(ValidationError, match="needs a sign-in") as refused:
        accounts.add_account(db, actor, provider="gmail", email="rep@acme.test")
    assert refused.value.field == "secret"


def test_names_are_unique_per_workspace(db: Database, actor: Actor, ring: MemoryKeyring) -> None:
    add_smtp(db, actor, name="work")
    with pytest.raises(ValidationError) as refused:
        add_smtp(db, actor, name="WORK")
    assert refused.value.field == "name"
    assert len(ring.passwords) == 1, "the refused account's secret was not left behind"
    other = new_workspace(db, "Other", "other@acme.test")
    add_smtp(db, other, name="work")  # another workspace may use the same name


def test_racing_adds_of_one_name_store_one_account_and_one_secret(
    db: Database, actor: Actor, ring: MemoryKeyring
) -> None:
    start = threading.Barrier(6)
    outcomes: list[str] = []

    def add() -> None:
        start.wait()
        try:
            add_smtp(db, actor, name="shared")
            outcomes.append("added")
        except ValidationError:
            outcomes.append("refused")

    threads = [threading.Thread(target=add) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["added"] + ["refused"] * 5
    [account] = accounts.list_accounts(db, actor)
    assert list(ring.passwords) == [("lumina", f"account:{account.id}")]


def test_resolve_from(db: Database, actor: Actor, ring: MemoryKeyring) -> None:
    with pytest.raises(ValidationError) as none_yet:
        accounts.resolve_account(db, actor, None)
    assert none_yet.value.field == "from"

    outbox = accounts.add_account(db, actor, provider="maildir", email=None, name="outbox")
    assert accounts.resolve_account(db, actor, None).id == outbox.id  # the only one

    smtp = add_smtp(db, actor, name="work")
    with pytest.raises(ValidationError) as ambiguous:
        accounts.resolve_account(db, actor, None)
    assert ambiguous.value.field == "from"
    assert "outbox" in ambiguous.value.message and "work" in ambiguous.value.message

    assert accounts.resolve_account(db, actor, "work").id == smtp.id
    assert accounts.resolve_account(db, actor, "Work").id == smtp.id
    assert accounts.resolve_account(db, actor, "rep@acme.test").id == smtp.id
    assert accounts.resolve_account(db, actor, smtp.id).id == smtp.id
    with pytest.raises(NotFoundError) as missing:
        accounts.resolve_account(db, actor, "nobody")
    assert missing.value.field == "from"

    third = add_smtp(db, actor, name="sales", email="sales@acme.test", make_default=True)
    assert accounts.resolve_account(db, actor, None).id == third.id
    listed = accounts.list_accounts(db, actor)
    assert listed[0].id == third.id and [a.is_default for a in listed] == [True, False, False]
    with db.read() as session:
        assert session.get(UserPreferences, actor.user_id).default_account_id == third.id


def test_accounts_of_another_workspace_are_invisible(db: Database, actor: Actor, ring: MemoryKeyring) -> None:
    other = new_workspace(db, "Other", "other@acme.test")
    foreign = add_smtp(db, other, name="theirs")
    with pytest.raises(NotFoundError):
        accounts.get_account(db, actor, foreign.id)
    with pytest.raises(NotFoundError):
        accounts.resolve_account(db, actor, foreign.id)
    with pytest.raises(NotFoundError):
        accounts.remove_account(db, actor, "theirs")
    assert accounts.list_accounts(db, actor) == []
    # The worker acts in the email's own workspace: account_config reads by id alone.
    assert accounts.account_config(db, foreign.id).account_id == foreign.id


def test_remove_deletes_the_secret_and_clears_references(
    db: Database, actor: Actor, ring: MemoryKeyring
) -> None:
    account = add_smtp(db, actor, make_default=True)
    draft = drafts.create(db, actor, subject="Hi", body="Hello", account_id=account.id)
    removed = accounts.remove_account(db, actor, "rep@acme.test")
    assert removed.id == account.id
    assert ring.passwords == {}
    assert accounts.list_accounts(db, actor) == []
    assert drafts.get(db, actor, draft.id).account_id is None
    with db.read() as session:
        assert session.get(UserPreferences, actor.user_id).default_account_id is None


def test_remove_is_refused_while_emails_wait_to_send(db: Database, actor: Actor, ring: MemoryKeyring) -> None:
    account = add_smtp(db, actor)
    with db.write() as session:
        session.add(
            Email(
                workspace_id=actor.workspace_id,
                user_id=actor.user_id,
                account_id=account.id,
                provider="smtp",
                from_email="rep@acme.test",
                to_email="ana@brightwave.example",
                idempotency_key=str(uuid.uuid4()),
                status="PENDING_SEND",
            )
        )
    with pytest.raises(InvalidStateError) as refused:
        accounts.remove_account(db, actor, account.id)
    assert refused.value.exit_code == 2
    assert len(accounts.list_accounts(db, actor)) == 1
    assert len(ring.passwords) == 1


def test_test_account_logs_in_and_sends_nothing(
    db: Database, actor: Actor, ring: MemoryKeyring, settings: Settings
) -> None:
    with SmtpSink(users={"rep@acme.test": PASSWORD}) as sink:
        good = add_smtp(db, actor, sink, name="good")
        result = accounts.test_account(db, actor, "good", settings)
        assert result["ok"] is True and "logged in as rep@acme.test" in result["detail"]
        assert result["account"]["id"] == good.id

        add_smtp(db, actor, sink, name="bad", secret="wrong-password")
        with pytest.raises(ProviderFailure) as refused:
            accounts.test_account(db, actor, "bad", settings)
        assert refused.value.details["kind"] == "auth"
        assert "535" in refused.value.message
        assert sink.messages == []

    outbox = accounts.add_account(db, actor, provider="maildir", email=None, name="outbox")
    result = accounts.test_account(db, actor, outbox.id, settings)
    assert "local outbox, not delivered" in result["detail"]
    assert (settings.outbox_dir / "new").is_dir()


def test_open_provider_for_sends_with_the_stored_password(
    db: Database, actor: Actor, ring: MemoryKeyring, settings: Settings
) -> None:
    with SmtpSink(users={"rep@acme.test": PASSWORD}) as sink:
        account = add_smtp(db, actor, sink, display_name="Rep at Acme")
        provider = accounts.open_provider_for(db, settings, account.id)
        email_id = str(uuid.uuid4())
        message = build_message(
            from_email=account.email,
            from_name=account.display_name,
            to_email="ana@brightwave.example",
            to_name="Ana",
            subject="Hello",
            body_text="Hi",
            body_html="<p>Hi</p>",
            message_id=make_message_id(email_id, "acme.test"),
            email_id=email_id,
            date=datetime(2026, 1, 1),
        )
        try:
            provider.send(message, email_id=email_id)
        finally:
            provider.close()
        assert sink.wait_for(1, timeout=60)
        assert sink.messages[0].login == "rep@acme.test"

    outbox = accounts.add_account(db, actor, provider="maildir", email=None, name="outbox")
    local = accounts.open_provider_for(db, settings, outbox.id)
    assert isinstance(local, MaildirProvider) and local.path == settings.outbox_dir


def test_a_lost_secret_is_an_auth_error_for_the_worker(
    db: Database, actor: Actor, ring: MemoryKeyring, settings: Settings
) -> None:
    account = add_smtp(db, actor)
    ring.passwords.clear()  # e.g. the keyring was reset
    with pytest.raises(AuthError, match="no password"):
        accounts.open_provider_for(db, settings, account.id)
