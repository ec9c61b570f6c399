"""The Gmail provider against the Gmail and OAuth fakes, through the real google-api-python-client.

Each failure Gmail can answer becomes the kind the worker acts on; a send that may have gone out
(5xx after acceptance, a timeout) is found again in Sent by its X-Lumina-Email-Id header.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from fakes.gmail_server import GmailServer
from fakes.oauth_server import OAuthServer
from oauth_support import gmail_config

from lumina_tui.config import load_settings
from lumina_tui.providers.base import (
    AuthError,
    PermanentProviderError,
    SignInRequired,
    TransientProviderError,
)
from lumina_tui.providers.gmail import GmailProvider, seconds_until_quota_reset
from lumina_tui.providers.mime_builder import build_message


def _message(
    email_id: str, subject: str = "Grüße aus Rotterdam — a quick question", to: str = "ana@brightwave.example"
):
    return build_message(
        from_email="rep@acme.test",
        from_name="Sam Müller",
        to_email=to,
        to_name="Ána Okafor",
        subject=subject,
        body_text="Hi Ána,\n\nWould a 15-minute call next Tuesday be useful?\n",
        body_html="",
        message_id=f"<{email_id}@acme.test>",
        email_id=email_id,
        date=datetime.now(UTC).replace(tzinfo=None),
    )


@pytest.fixture
def provider(oauth: OAuthServer, oauth_env: dict[str, str]):
    settings = load_settings()
    gmail_provider = GmailProvider(gmail_config(oauth), settings.google)
    yield gmail_provider
    gmail_provider.close()


def test_send_returns_gmail_ids_and_the_message_id_gmail_assigned(
    provider: GmailProvider,
    gmail: GmailServer,
    oauth: OAuthServer,
) -> None:
    receipt = provider.send(_message("e-1"), email_id="e-1")
    [stored] = gmail.with_header("X-Lumina-Email-Id", "e-1")
    assert receipt.provider_message_id == stored.id
    assert receipt.thread_id == stored.thread_id
    assert receipt.sent_message_id == stored.header("Message-ID") != "<e-1@acme.test>"
    assert stored.label_ids == ["SENT"]
    assert stored.parsed["Subject"] == "Grüße aus Rotterdam — a quick question"
    assert oauth.grants["refresh_token"] == 1  # the first call got a token; the next ones reuse it
    provider.send(_message("e-2"), email_id="e-2")
    assert oauth.grants["refresh_token"] == 1
    assert gmail.requests[0].headers["Authorization"].startswith("Bearer ya29.")


def test_an_expired_token_is_refreshed_once_then_an_auth_error(
    provider: GmailProvider,
    gmail: GmailServer,
    oauth: OAuthServer,
) -> None:
    provider.send(_message("e-1"), email_id="e-1")
    oauth.expire_access_tokens()  # Gmail now answers 401 to the token we hold
    provider.send(_message("e-2"), email_id="e-2")
    assert oauth.grants["refresh_token"] == 2
    assert len(gmail.sent()) == 2

    gmail.inject_fault("send", status=401, times=2)
    with pytest.raises(AuthError) as refused:
        provider.send(_message("e-3"), email_id="e-3")
    assert not isinstance(refused.value, SignInRequired) and refused.value.code == 401
    assert oauth.grants["refresh_token"] == 3  # refreshed once, not in a loop
    assert gmail.with_header("X-Lumina-Email-Id", "e-3") == []


def test_a_revoked_refresh_token_means_sign_in_again(
    provider: GmailProvider,
    gmail: GmailServer,
    oauth: OAuthServer,
) -> None:
    oauth.revoke()
    with pytest.raises(SignInRequired, match="invalid_grant"):
        provider.send(_message("e-1"), email_id="e-1")
    assert gmail.calls("send") == 0


@pytest.mark.parametrize(
    ("status", "reason", "kind", "uncertain", "retry_after"),
    [
        (429, None, TransientProviderError, False, 7),
        (403, "rateLimitExceeded", TransientProviderError, False, None),
        (403, "userRateLimitExceeded", TransientProviderError, False, None),
        (403, "dailyLimitExceeded", TransientProviderError, False, "quota"),
        (500, None, TransientProviderError, True, None),
        (503, None, TransientProviderError, True, 4),
        (400, "invalidArgument", PermanentProviderError, False, None),
        (403, "insufficientPermissions", SignInRequired, False, None),
    ],
)
def test_gmail_errors_sort_into_the_kinds_the_worker_acts_on(
    provider: GmailProvider,
    gmail: GmailServer,
    status: int,
    reason: str | None,
    kind: type,
    uncertain: bool,
    retry_after: object,
) -> None:
    header = retry_after if isinstance(retry_after, int) else None
    gmail.inject_fault("send", status=status, reason=reason, retry_after=header)
    with pytest.raises(kind) as caught:
        provider.send(_message("e-1"), email_id="e-1")
    error = caught.value
    assert type(error) is kind
    assert str(status) in error.reason and (reason is None or reason in error.reason)
    if isinstance(error, TransientProviderError):
        assert error.uncertain is uncertain
        if retry_after == "quota":
            assert error.retry_after == pytest.approx(seconds_until_quota_reset(), abs=5)
        else:
            assert error.retry_after == retry_after
    assert gmail.with_header("X-Lumina-Email-Id", "e-1") == []  # refused: nothing went out


def test_quota_resets_at_midnight_pacific() -> None:
    noon_utc = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)  # 04:00 in Los Angeles (PST, UTC-8)
    assert seconds_until_quota_reset(noon_utc) == pytest.approx(20 * 3600 + 5)


def test_accept_then_fail_is_found_in_sent_and_not_sent_twice(
    provider: GmailProvider,
    gmail: GmailServer,
) -> None:
    for n in range(3):  # decoys to the same person, one with a near-identical subject
        provider.send(
            _message(f"d-{n}", subject=f"Grüße aus Rotterdam — a quick question {n}"), email_id=f"d-{n}"
        )
    message = _message("e-1")
    assert provider.find_sent(email_id="e-1", message_id="<e-1@acme.test>", message=message) is None
    gmail.inject_fault("send", status=500, apply=True)
    with pytest.raises(TransientProviderError) as caught:
        provider.send(message, email_id="e-1")
    assert caught.value.uncertain
    found = provider.find_sent(email_id="e-1", message_id="<e-1@acme.test>", message=message)
    [stored] = gmail.with_header("X-Lumina-Email-Id", "e-1")
    assert found is not None and found.provider_message_id == stored.id
    assert found.thread_id == stored.thread_id and found.sent_message_id == stored.header("Message-ID")
    query = [r.arg("q") for r in gmail.requests if r.op == "list"][-1]
    assert query is not None and "in:sent" in query and "to:ana@brightwave.example" in query


def test_a_timeout_is_uncertain_and_the_message_is_found(
    oauth: OAuthServer,
    gmail: GmailServer,
    oauth_env: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LUMINA_GOOGLE__TIMEOUT_SECONDS", "1")
    provider = GmailProvider(gmail_config(oauth), load_settings().google)
    # Gmail takes it and holds its answer until the server closes: only the 1 s timeout ends it.
    gmail.inject_fault("send", delay=600, apply=True)
    message = _message("e-1")
    with pytest.raises(TransientProviderError, match="did not answer in time") as caught:
        provider.send(message, email_id="e-1")
    assert caught.value.uncertain
    found = provider.find_sent(email_id="e-1", message_id="<e-1@acme.test>", message=message)
    assert found is not None and len(gmail.with_header("X-Lumina-Email-Id", "e-1")) == 1
    provider.close()


def test_connection_refused_is_transient_and_certain(
    oauth: OAuthServer, oauth_env, monkeypatch, refused_port: int
) -> None:
    monkeypatch.setenv("LUMINA_GOOGLE__API_URL", f"http://127.0.0.1:{refused_port}/")
    provider = GmailProvider(gmail_config(oauth), load_settings().google)
    with pytest.raises(TransientProviderError, match="refused") as caught:
        provider.send(_message("e-1"), email_id="e-1")
    assert not caught.value.uncertain


def test_check_reads_the_profile(provider: GmailProvider, oauth: OAuthServer) -> None:
    assert provider.check().startswith(f"Gmail: signed in as {oauth.user}")


def test_a_token_endpoint_that_echoes_the_refresh_token_is_scrubbed(
    oauth: OAuthServer, gmail: GmailServer, oauth_env: dict[str, str]
) -> None:
    config = gmail_config(oauth)
    refresh_token = json.loads(config.secret or "{}")["refresh_token"]
    oauth.inject_fault(
        "token", status=400, reason="invalid_grant", message=f"refresh_token={refresh_token} was revoked"
    )
    provider = GmailProvider(config, load_settings().google)
    with pytest.raises(SignInRequired) as caught:
        provider.send(_message("e-1"), email_id="e-1")
    assert refresh_token not in caught.value.reason and refresh_token not in str(caught.value)
    assert "invalid_grant" in caught.value.reason
