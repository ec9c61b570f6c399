"""Gmail and Outlook provider configs signed in against the wire-format fakes (tests/fakes).

config = gmail_config(oauth)                       # a refresh token issued by the OAuth fake
config = outlook_config(oauth, settings, "acct")   # msal's device flow run against the fake,
                                                   # its cache encrypted under data/tokens/
"""

from __future__ import annotations

from fakes.oauth_server import OAuthServer

from lumina_tui.config import Settings
from lumina_tui.providers.base import AccountConfig
from lumina_tui.providers.google_oauth import GoogleGrant
from lumina_tui.providers.microsoft_oauth import MicrosoftKey, cache_path, sign_in
from lumina_tui.providers.token_cache import EncryptedTokenCache


def gmail_config(oauth: OAuthServer, account_id: str = "gmail-account") -> AccountConfig:
    tokens = oauth.issue_tokens()
    return AccountConfig(
        account_id=account_id,
        provider="gmail",
        email=oauth.user,
        secret=GoogleGrant(tokens["refresh_token"]).dumps(),
    )


def outlook_config(
    oauth: OAuthServer, settings: Settings, account_id: str = "outlook-account"
) -> AccountConfig:
    oauth.device_interval = 0
    said: list[str] = []
    signed = sign_in(settings.microsoft, say=said.append)
    assert said and oauth.device_codes[-1] in said[0]
    key = MicrosoftKey.new()
    EncryptedTokenCache(cache_path(settings.data_dir / "tokens", account_id), key.cache_key).save(
        signed.cache_text
    )
    return AccountConfig(
        account_id=account_id,
        provider="outlook",
        email=signed.username,
        settings={"home_account_id": signed.home_account_id},
        secret=key.dumps(),
    )
