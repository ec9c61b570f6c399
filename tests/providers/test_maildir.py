"""The local outbox: a Maildir a mail reader can open, one file per email however often it is sent."""

from __future__ import annotations

import mailbox
import os
import threading
import uuid
from datetime import datetime
from pathlib import Path

import pytest

from lumina_tui.providers.base import AccountConfig, PermanentProviderError, Provider, SignInRequired
from lumina_tui.providers.maildir import LABEL, MaildirProvider
from lumina_tui.providers.mime_builder import build_message, make_message_id
from lumina_tui.providers.registry import open_provider


def message(email_id: str, subject: str = "Grüße aus Köln — ✓"):
    return build_message(
        from_email="rep@acme.test",
        from_name="Rep",
        to_email="ana@brightwave.example",
        to_name="Ana Okafor",
        subject=subject,
        body_text="Hi Ana",
        body_html="<p>Hi Ana</p>",
        message_id=make_message_id(email_id, "acme.test"),
        email_id=email_id,
        date=datetime(2026, 1, 2),
    )


def test_round_trip_readable_as_a_maildir(tmp_path: Path) -> None:
    outbox = tmp_path / "outbox"
    provider = MaildirProvider(outbox)
    assert isinstance(provider, Provider)
    email_id = str(uuid.uuid4())
    receipt = provider.send(message(email_id), email_id=email_id)
    assert receipt.provider_message_id == f"<{email_id}@acme.test>"
    assert LABEL in receipt.detail and "not delivered" in receipt.detail

    box = mailbox.Maildir(outbox, create=False)
    [stored] = list(box)
    assert stored["X-Lumina-Email-Id"] == email_id
    assert stored["Message-ID"] == f"<{email_id}@acme.test>"
    assert {d for d in os.listdir(outbox)} >= {"cur", "new", "tmp"}
    assert os.listdir(outbox / "tmp") == []


def test_find_sent_and_a_retry_never_writes_a_second_copy(tmp_path: Path) -> None:
    provider = MaildirProvider(tmp_path / "outbox")
    email_id = str(uuid.uuid4())
    assert provider.find_sent(email_id=email_id, message_id="<x@y>") is None
    provider.send(message(email_id), email_id=email_id)
    found = provider.find_sent(email_id=email_id, message_id=f"<{email_id}@acme.test>")
    assert found is not None and found.provider_message_id == f"<{email_id}@acme.test>"
    provider.send(message(email_id, subject="a retry"), email_id=email_id)
    assert len(mailbox.Maildir(tmp_path / "outbox")) == 1


def test_still_found_after_a_mail_reader_moved_it_to_cur(tmp_path: Path) -> None:
    outbox = tmp_path / "outbox"
    provider = MaildirProvider(outbox)
    email_id = str(uuid.uuid4())
    provider.send(message(email_id), email_id=email_id)
    [name] = os.listdir(outbox / "new")
    os.rename(outbox / "new" / name, outbox / "cur" / f"{name}:2,S")  # what mutt does when it is read
    assert provider.find_sent(email_id=email_id, message_id="<m@acme.test>") is not None
    provider.send(message(email_id), email_id=email_id)
    assert len(mailbox.Maildir(outbox)) == 1


def test_racing_senders_of_one_email_leave_one_file(tmp_path: Path) -> None:
    outbox = tmp_path / "outbox"
    email_id = str(uuid.uuid4())
    start = threading.Barrier(8)
    errors: list[BaseException] = []

    def send() -> None:
        try:
            start.wait()
            MaildirProvider(outbox).send(message(email_id), email_id=email_id)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=send) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(mailbox.Maildir(outbox)) == 1


def test_many_emails_many_files(tmp_path: Path) -> None:
    provider = MaildirProvider(tmp_path / "outbox")
    ids = [str(uuid.uuid4()) for _ in range(20)]
    for email_id in ids:
        provider.send(message(email_id), email_id=email_id)
    stored = {m["X-Lumina-Email-Id"] for m in mailbox.Maildir(tmp_path / "outbox")}
    assert stored == set(ids)


def test_check_and_unsafe_ids(tmp_path: Path) -> None:
    provider = MaildirProvider(tmp_path / "outbox")
    assert "writable" in provider.check()
    with pytest.raises(PermanentProviderError):
        provider.send(message(str(uuid.uuid4())), email_id="../escape")


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root can write anywhere")
def test_unwritable_outbox_is_reported(tmp_path: Path) -> None:
    outbox = tmp_path / "outbox"
    MaildirProvider(outbox).check()
    os.chmod(outbox / "tmp", 0o500)
    try:
        with pytest.raises(PermanentProviderError, match="not writable"):
            MaildirProvider(outbox).check()
    finally:
        os.chmod(outbox / "tmp", 0o700)


def test_registry_opens_the_outbox_under_the_given_dir(tmp_path: Path) -> None:
    config = AccountConfig(account_id=str(uuid.uuid4()), provider="maildir", email="rep@outbox.test")
    provider = open_provider(config, outbox_dir=tmp_path / "data" / "outbox")
    assert isinstance(provider, MaildirProvider)
    assert provider.path == tmp_path / "data" / "outbox"
    custom = AccountConfig(
        account_id=str(uuid.uuid4()),
        provider="maildir",
        email="rep@outbox.test",
        settings={"path": str(tmp_path / "elsewhere")},
    )
    assert open_provider(custom, outbox_dir=tmp_path / "x").path == tmp_path / "elsewhere"  # type: ignore[attr-defined]
    for name in ("gmail", "outlook"):  # an OAuth account without its sign-in waits for the rep
        unsigned = AccountConfig(account_id=str(uuid.uuid4()), provider=name, email="rep@acme.test")
        with pytest.raises(SignInRequired, match="sign-in is stored"):
            open_provider(unsigned, outbox_dir=tmp_path)
