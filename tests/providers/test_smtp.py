"""The SMTP provider against a real aiosmtpd server on 127.0.0.1: delivery, failure kinds, TLS, auth."""

from __future__ import annotations

import uuid
from datetime import datetime

import pytest
from smtp_sink import SmtpSink, TlsFiles

from lumina_tui.providers.base import (
    AccountConfig,
    AuthError,
    PermanentProviderError,
    Provider,
    TransientProviderError,
)
from lumina_tui.providers.mime_builder import build_message, make_message_id
from lumina_tui.providers.smtp import SmtpProvider

SUBJECT = "Grüße aus Köln — ✓"


def smtp_config(sink: SmtpSink, *, secret: str | None = None, **settings: object) -> AccountConfig:
    base: dict[str, object] = {"host": sink.host, "port": sink.port, "security": "plain", "timeout": 60}
    base.update(settings)
    return AccountConfig(
        account_id=str(uuid.uuid4()),
        provider="smtp",
        email="rep@acme.test",
        display_name="Jörg Rep",
        settings=base,
        secret=secret,
    )


def message_to(to_email: str, email_id: str | None = None, subject: str = SUBJECT):
    email_id = email_id or str(uuid.uuid4())
    return build_message(
        from_email="rep@acme.test",
        from_name="Jörg Rep",
        to_email=to_email,
        to_name="Ana Okafor",
        subject=subject,
        body_text="Hi Ana,\n\nGrüße aus Köln.\n",
        body_html="<p>Hi Ana,</p><p>Grüße aus Köln.</p>",
        message_id=make_message_id(email_id, "acme.test"),
        email_id=email_id,
        date=datetime(2026, 3, 4, 5, 6, 7),
    )


def test_delivers_one_message_that_parses_back_with_every_header(sink: SmtpSink) -> None:
    provider = SmtpProvider(smtp_config(sink))
    assert isinstance(provider, Provider)
    email_id = str(uuid.uuid4())
    receipt = provider.send(message_to("ana@brightwave.example", email_id), email_id=email_id)
    provider.close()

    assert sink.wait_for(1, timeout=60)
    [received] = sink.messages
    assert received.rcpt_tos == ("ana@brightwave.example",)
    assert received.mail_from == "rep@acme.test"
    parsed = received.parsed()
    assert parsed["Subject"] == SUBJECT
    assert parsed["Message-ID"] == f"<{email_id}@acme.test>"
    assert receipt.provider_message_id == f"<{email_id}@acme.test>"
    assert parsed["X-Lumina-Email-Id"] == email_id
    assert parsed["Date"].datetime.year == 2026
    assert parsed["From"].addresses[0].display_name == "Jörg Rep"
    assert parsed["To"].addresses[0].display_name == "Ana Okafor"
    assert parsed["To"].addresses[0].addr_spec == "ana@brightwave.example"
    assert parsed.get_content_type() == "multipart/alternative"
    assert "Grüße aus Köln." in parsed.get_body(("plain",)).get_content()
    assert "<p>Grüße aus Köln.</p>" in parsed.get_body(("html",)).get_content()
    assert provider.find_sent(email_id=email_id, message_id=receipt.provider_message_id) is None


def test_reuses_one_connection_across_sends(sink: SmtpSink) -> None:
    with SmtpProvider(smtp_config(sink)) as provider:
        for n in range(5):
            email_id = str(uuid.uuid4())
            provider.send(message_to(f"p{n}@brightwave.example", email_id), email_id=email_id)
    assert sink.wait_for(5, timeout=60)
    assert sink.connections == 1


@pytest.mark.chaos
def test_reconnects_when_the_server_closed_the_reused_connection(sink: SmtpSink) -> None:
    with SmtpProvider(smtp_config(sink)) as provider:
        first = str(uuid.uuid4())
        provider.send(message_to("a@brightwave.example", first), email_id=first)
        sink.drop_connections()
        second = str(uuid.uuid4())
        provider.send(message_to("b@brightwave.example", second), email_id=second)
    assert sink.wait_for(2, timeout=60)
    assert [m.rcpt_tos for m in sink.messages] == [("a@brightwave.example",), ("b@brightwave.example",)]
    assert sink.connections == 2


@pytest.mark.chaos
def test_451_is_transient_and_550_is_permanent_with_the_servers_reason(sink: SmtpSink) -> None:
    sink.fail_rcpt("busy@brightwave.example", "451 4.3.0 Mailbox busy, try later", times=2)
    sink.fail_rcpt("gone@brightwave.example", "550 5.1.1 No such user here")
    with SmtpProvider(smtp_config(sink)) as provider:
        for _ in range(2):
            with pytest.raises(TransientProviderError) as busy:
                provider.send(message_to("busy@brightwave.example"), email_id=str(uuid.uuid4()))
            assert busy.value.code == 451
            assert "Mailbox busy" in busy.value.reason
        with pytest.raises(PermanentProviderError) as gone:
            provider.send(message_to("gone@brightwave.example"), email_id=str(uuid.uuid4()))
        assert not isinstance(gone.value, AuthError)
        assert gone.value.code == 550
        assert "550 5.1.1 No such user here" in gone.value.reason
        # The connection survives refusals: the third try at the busy address is accepted on it.
        provider.send(message_to("busy@brightwave.example"), email_id=str(uuid.uuid4()))
    assert sink.wait_for(1, timeout=60)
    assert [m.rcpt_tos for m in sink.messages] == [("busy@brightwave.example",)]
    assert sink.rcpt_attempts["busy@brightwave.example"] == 3
    assert sink.connections == 1


@pytest.mark.chaos
def test_data_refusals_are_classified_by_code(sink: SmtpSink) -> None:
    sink.fail_data("452 4.3.1 Insufficient system storage", times=1)
    with SmtpProvider(smtp_config(sink)) as provider:
        with pytest.raises(TransientProviderError, match="Insufficient system storage"):
            provider.send(message_to("a@brightwave.example"), email_id=str(uuid.uuid4()))
        sink.fail_data("554 5.7.1 Message rejected as spam", times=1)
        with pytest.raises(PermanentProviderError, match="rejected as spam"):
            provider.send(message_to("a@brightwave.example"), email_id=str(uuid.uuid4()))
    assert sink.messages == []


@pytest.mark.chaos
def test_refused_connection_is_transient(refused_port: int) -> None:
    config = AccountConfig(
        account_id=str(uuid.uuid4()),
        provider="smtp",
        email="rep@acme.test",
        settings={"host": "127.0.0.1", "port": refused_port, "security": "plain", "timeout": 30},
    )
    with pytest.raises(TransientProviderError, match="refused"):
        SmtpProvider(config).send(message_to("a@brightwave.example"), email_id=str(uuid.uuid4()))


def test_password_login_and_535_is_an_auth_error() -> None:
    with SmtpSink(users={"rep@acme.test": "correct horse"}) as sink:
        with SmtpProvider(smtp_config(sink, secret="correct horse")) as provider:
            provider.send(message_to("a@brightwave.example"), email_id=str(uuid.uuid4()))
        assert sink.wait_for(1, timeout=60)
        assert sink.messages[0].login == "rep@acme.test"

        with pytest.raises(AuthError) as refused:
            SmtpProvider(smtp_config(sink, secret="wrong horse")).send(
                message_to("a@brightwave.example"), email_id=str(uuid.uuid4())
            )
        assert refused.value.code == 535
        assert "wrong horse" not in refused.value.reason
        assert len(sink.messages) == 1


def test_without_a_stored_password_an_auth_account_refuses_to_start() -> None:
    config = AccountConfig(
        account_id=str(uuid.uuid4()),
        provider="smtp",
        email="rep@acme.test",
        settings={"host": "127.0.0.1", "port": 1, "security": "plain", "auth": "password"},
    )
    with pytest.raises(AuthError, match="no password"):
        SmtpProvider(config)


def test_xoauth2_bearer_token() -> None:
    with SmtpSink(xoauth2_tokens={"rep@acme.test": "ya29.token-1"}) as sink:
        good = smtp_config(sink, secret="ya29.token-1", auth="xoauth2")
        with SmtpProvider(good) as provider:
            provider.send(message_to("a@brightwave.example"), email_id=str(uuid.uuid4()))
        assert sink.wait_for(1, timeout=60)
        assert sink.messages[0].login == "rep@acme.test"

        revoked = smtp_config(sink, secret="ya29.revoked", auth="xoauth2")
        with pytest.raises(AuthError) as refused:
            SmtpProvider(revoked).send(message_to("a@brightwave.example"), email_id=str(uuid.uuid4()))
        assert refused.value.code == 535
        assert len(sink.messages) == 1


def test_starttls_with_a_self_signed_ca(tls_files: TlsFiles) -> None:
    with SmtpSink(users={"rep@acme.test": "pw-tls"}, tls=tls_files, require_starttls=True) as sink:
        config = smtp_config(sink, secret="pw-tls", security="starttls", ca_file=str(tls_files.ca_cert))
        provider = SmtpProvider(config)
        assert "connected" in provider.check()
        with provider:
            provider.send(message_to("a@brightwave.example"), email_id=str(uuid.uuid4()))
        assert sink.wait_for(1, timeout=60)
        assert sink.messages[0].tls is True

        # Without the CA the certificate is not trusted: a configuration problem, not worth retrying.
        untrusted = smtp_config(sink, secret="pw-tls", security="starttls")
        with pytest.raises(PermanentProviderError, match="certificate"):
            SmtpProvider(untrusted).send(message_to("a@brightwave.example"), email_id=str(uuid.uuid4()))


def test_starttls_refused_when_the_server_does_not_offer_it(sink: SmtpSink) -> None:
    with pytest.raises(PermanentProviderError, match="STARTTLS"):
        SmtpProvider(smtp_config(sink, security="starttls")).check()


def test_implicit_tls(tls_files: TlsFiles) -> None:
    with SmtpSink(tls=tls_files, implicit_tls=True) as sink:
        config = smtp_config(sink, security="ssl", ca_file=str(tls_files.ca_cert))
        with SmtpProvider(config) as provider:
            provider.send(message_to("a@brightwave.example"), email_id=str(uuid.uuid4()))
        assert sink.wait_for(1, timeout=60)
        assert sink.messages[0].tls is True


def test_check_sends_nothing(sink: SmtpSink) -> None:
    detail = SmtpProvider(smtp_config(sink)).check()
    assert "NOOP ok" in detail
    assert sink.messages == []
    assert sink.connections == 0


def test_bcc_is_delivered_but_not_shown(sink: SmtpSink) -> None:
    email_id = str(uuid.uuid4())
    message = build_message(
        from_email="rep@acme.test",
        from_name="",
        to_email="ana@brightwave.example",
        to_name="",
        subject="Hello",
        body_text="Hi",
        body_html="",
        message_id=make_message_id(email_id, "acme.test"),
        email_id=email_id,
        date=datetime(2026, 1, 1),
        bcc=["manager@acme.test"],
    )
    with SmtpProvider(smtp_config(sink)) as provider:
        provider.send(message, email_id=email_id)
    assert sink.wait_for(1, timeout=60)
    received = sink.messages[0]
    assert set(received.rcpt_tos) == {"ana@brightwave.example", "manager@acme.test"}
    assert received.parsed()["Bcc"] is None
    assert message["Bcc"] is not None  # the caller's message is left untouched


def test_a_stored_plain_login_to_another_machine_is_refused_before_the_password_leaves() -> None:
    """An account stored before the --insecure-plaintext rule (or edited by hand) still cannot leak."""
    from lumina_tui.providers.base import AccountConfig, PermanentProviderError
    from lumina_tui.providers.smtp import SmtpProvider, is_loopback

    assert is_loopback("127.0.0.2") and is_loopback("[::1]") and is_loopback("LocalHost.")
    assert not is_loopback("smtp.acme.test") and not is_loopback("10.0.0.1")
    provider = SmtpProvider(
        AccountConfig(
            account_id="a", provider="smtp", email="rep@acme.test", secret="pw-never-sent",
            settings={"host": "smtp.acme.test", "port": 25, "security": "plain", "auth": "password"},
        )
    )  # fmt: skip

    class NoWire:
        def login(self, *args: object) -> None:
            raise AssertionError("the password was about to be sent in plain text")

    with pytest.raises(PermanentProviderError, match="unencrypted"):
        provider._login(NoWire())  # type: ignore[arg-type]
