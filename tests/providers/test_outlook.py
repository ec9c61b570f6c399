"""The Outlook provider against the Graph and OAuth fakes: msal's cache (encrypted on disk, key in the
keyring), Graph over httpx, create-then-send with an immutable id, and the check before a retry.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from fakes.graph_server import GraphServer
from fakes.oauth_server import OAuthServer
from oauth_support import outlook_config

from lumina_tui.config import load_settings
from lumina_tui.providers.base import (
    AccountConfig,
    AuthError,
    PermanentProviderError,
    SignInRequired,
    TransientProviderError,
)
from lumina_tui.providers.microsoft_oauth import cache_path
from lumina_tui.providers.mime_builder import build_message
from lumina_tui.providers.outlook import OutlookProvider


def _message(email_id: str, html: str = "<p>Hi Ána,</p><p>Would Tuesday work?</p>"):
    return build_message(
        from_email="rep@acme.test",
        from_name="Sam Müller",
        to_email="ana@brightwave.example",
        to_name="Ána Okafor",
        subject="Grüße aus Rotterdam",
        body_text="Hi Ána,\n\nWould Tuesday work?\n",
        body_html=html,
        message_id=f"<{email_id}@acme.test>",
        email_id=email_id,
        date=datetime.now(UTC).replace(tzinfo=None),
        cc=["cc@brightwave.example"],
    )


@pytest.fixture
def config(oauth: OAuthServer, oauth_env: dict[str, str]) -> AccountConfig:
    return outlook_config(oauth, load_settings())


@pytest.fixture
def provider(config: AccountConfig):
    settings = load_settings()
    outlook = OutlookProvider(config, settings.microsoft, token_dir=settings.data_dir / "tokens")
    yield outlook
    outlook.close()


def test_create_then_send_with_an_immutable_id_and_our_header(
    provider: OutlookProvider,
    graph: GraphServer,
    config: AccountConfig,
) -> None:
    receipt = provider.send(_message("e-1"), email_id="e-1")
    [sent] = graph.sent()
    assert graph.drafts() == []
    assert receipt.provider_message_id == sent.immutable_id  # known before it went, unchanged by the move
    assert receipt.thread_id == sent.data["conversationId"]
    assert receipt.sent_message_id == sent.data["internetMessageId"]
    assert sent.header("x-lumina-email-id") == "e-1"
    assert sent.data["body"] == {
        "contentType": "HTML",
        "content": "<p>Hi Ána,</p><p>Would Tuesday work?</p>\n",
    }
    assert [r["emailAddress"]["address"] for r in sent.data["ccRecipients"]] == ["cc@brightwave.example"]
    create = next(r for r in graph.requests if r.op == "create")
    assert create.headers["Prefer"] == 'IdType="ImmutableId"'
    # The token cache on disk is encrypted: no token, no address in clear.
    data = cache_path(load_settings().data_dir / "tokens", config.account_id).read_bytes()
    assert b"refresh" not in data.lower() and b"rep@acme.test" not in data


def test_429_and_503_honour_retry_after(provider: OutlookProvider, graph: GraphServer) -> None:
    graph.inject_fault("send", status=429, retry_after=3)
    with pytest.raises(TransientProviderError) as throttled:
        provider.send(_message("e-1"), email_id="e-1")
    assert throttled.value.retry_after == 3 and not throttled.value.uncertain
    assert graph.drafts() == []  # certainly not sent: the draft is not left behind

    graph.inject_fault("send", status=503, retry_after=5)
    with pytest.raises(TransientProviderError) as unavailable:
        provider.send(_message("e-2"), email_id="e-2")
    assert unavailable.value.retry_after == 5 and unavailable.value.uncertain
    # Before the retry: not in Sent Items, but its draft is there and is the one sent next.
    assert provider.find_sent(email_id="e-2", message_id="<e-2@acme.test>") is None
    provider.send(_message("e-2"), email_id="e-2")
    assert [m.header("x-lumina-email-id") for m in graph.sent()] == ["e-2"]
    assert graph.drafts() == [] and graph.calls("create") == 2


def test_accept_then_fail_is_found_in_sent_items(provider: OutlookProvider, graph: GraphServer) -> None:
    graph.inject_fault("send", status=500, apply=True)
    with pytest.raises(TransientProviderError) as caught:
        provider.send(_message("e-1"), email_id="e-1")
    assert caught.value.uncertain
    found = provider.find_sent(email_id="e-1", message_id="<e-1@acme.test>")
    [sent] = graph.sent()
    assert found is not None and found.provider_message_id == sent.immutable_id
    assert found.thread_id == sent.data["conversationId"]


def test_a_timeout_on_send_is_uncertain(
    oauth: OAuthServer,
    graph: GraphServer,
    config: AccountConfig,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LUMINA_MICROSOFT__TIMEOUT_SECONDS", "1")
    settings = load_settings()
    provider = OutlookProvider(config, settings.microsoft, token_dir=settings.data_dir / "tokens")
    # Applied, then the answer held until the server closes: only the 1 s client timeout ends it.
    graph.inject_fault("send", delay=600, apply=True)
    with pytest.raises(TransientProviderError, match="did not answer in time") as caught:
        provider.send(_message("e-1"), email_id="e-1")
    assert caught.value.uncertain
    assert provider.find_sent(email_id="e-1", message_id="<e-1@acme.test>") is not None
    provider.close()


def test_refresh_once_then_auth_error_and_revoked_means_sign_in(
    provider: OutlookProvider,
    graph: GraphServer,
    oauth: OAuthServer,
    config: AccountConfig,
) -> None:
    provider.send(_message("e-1"), email_id="e-1")
    refreshes = oauth.grants["refresh_token"]
    oauth.expire_access_tokens()
    provider.send(_message("e-2"), email_id="e-2")
    assert oauth.grants["refresh_token"] == refreshes + 1
    # The refreshed tokens were saved back, encrypted: a new provider (a restarted worker) uses them.
    settings = load_settings()
    again = OutlookProvider(config, settings.microsoft, token_dir=settings.data_dir / "tokens")
    again.send(_message("e-3"), email_id="e-3")
    assert oauth.grants["refresh_token"] == refreshes + 1
    again.close()

    graph.inject_fault("create", status=401, times=2)
    with pytest.raises(AuthError) as refused:
        provider.send(_message("e-4"), email_id="e-4")
    assert not isinstance(refused.value, SignInRequired)

    oauth.revoke()
    oauth.expire_access_tokens()
    with pytest.raises(SignInRequired, match="invalid_grant"):
        provider.send(_message("e-5"), email_id="e-5")
    assert [m.header("x-lumina-email-id") for m in graph.sent()] == ["e-1", "e-2", "e-3"]


def test_a_bad_request_is_permanent(provider: OutlookProvider, graph: GraphServer) -> None:
    graph.inject_fault(
        "send", status=400, reason="ErrorInvalidRecipients", message="At least one recipient isn't valid."
    )
    with pytest.raises(PermanentProviderError, match="ErrorInvalidRecipients"):
        provider.send(_message("e-1"), email_id="e-1")
    assert graph.drafts() == [] and graph.sent() == []


def test_check_and_a_missing_cache(
    provider: OutlookProvider,
    config: AccountConfig,
    oauth: OAuthServer,
) -> None:
    assert provider.check() == f"Microsoft Graph: signed in as {oauth.user}"
    settings = load_settings()
    cache_path(settings.data_dir / "tokens", config.account_id).unlink()
    with pytest.raises(SignInRequired, match="no Microsoft sign-in"):
        OutlookProvider(config, settings.microsoft, token_dir=settings.data_dir / "tokens")
