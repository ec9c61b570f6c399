"""Signing in to Microsoft (msal `PublicClientApplication`) and keeping a Graph access token fresh.

Sign-in is the device-code flow by default (the rep opens microsoft.com/devicelogin anywhere and types
a code: works over SSH and in any terminal), or the interactive flow (a browser on this machine, a
loopback redirect) with `--interactive`. Lumina asks for `Mail.Send` and `Mail.ReadWrite` (create a
message, send it, find it again in Sent Items, and for mailbox sync); msal adds `offline_access` (a
refresh token), `openid` and `profile` by itself, and refuses them if asked explicitly.

What is kept: msal's serialized token cache, Fernet-encrypted in the data folder, its key in the OS
keyring (`token_cache.py`), and the account's `home_account_id` (not a secret) in the account's
settings. `acquire_token_silent_with_error` refreshes an expired access token from the cache; an
`invalid_grant` (revoked, expired) or `interaction_required` answer raises `SignInRequired`. Every
token in the cache is registered with the log scrubber as soon as it is loaded or issued.
"""

from __future__ import annotations

import contextlib
import json
import logging
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lumina_tui.config import MicrosoftSettings
from lumina_tui.logs import register_secret
from lumina_tui.providers.base import (
    PermanentProviderError,
    SignInRequired,
    TransientProviderError,
)
from lumina_tui.providers.token_cache import EncryptedTokenCache, new_key

log = logging.getLogger(__name__)

SCOPES = ("Mail.Send", "Mail.ReadWrite")  # + offline_access, openid, profile, added by msal
SIGN_IN_ERRORS = {"invalid_grant", "interaction_required", "consent_required", "login_required"}


def require_client(microsoft: MicrosoftSettings) -> None:
    if not microsoft.client_id:
        raise PermanentProviderError(
            "no Microsoft app is configured: set [microsoft] client_id in config.toml, or "
            "LUMINA_MICROSOFT__CLIENT_ID; the README says how to register one"
        )


def cache_path(token_dir: Path, account_id: str) -> Path:
    return token_dir / f"{account_id}.msal"


@dataclass(frozen=True, slots=True)
class MicrosoftKey:
    """What the keyring keeps for an Outlook account: the key of its encrypted token cache."""

    cache_key: str

    def dumps(self) -> str:
        return json.dumps({"kind": "microsoft", "cache_key": self.cache_key})

    @classmethod
    def loads(cls, text: str | None) -> MicrosoftKey:
        try:
            key = cls(str(json.loads(text or "")["cache_key"]))
        except (ValueError, KeyError, TypeError):
            raise SignInRequired("the stored Microsoft sign-in key is unreadable") from None
        register_secret(key.cache_key)
        return key

    @classmethod
    def new(cls) -> MicrosoftKey:
        key = cls(new_key())
        register_secret(key.cache_key)
        return key


def register_cache_secrets(cache: Any) -> None:
    """Every refresh, access and id token in an msal cache, registered with the log scrubber."""
    for kind in ("RefreshToken", "AccessToken", "IdToken"):
        section = getattr(cache, "_cache", {}).get(kind, {})
        for entry in section.values():
            register_secret(entry.get("secret"))


def _app(microsoft: MicrosoftSettings, cache: Any) -> Any:
    import msal

    require_client(microsoft)
    try:
        return msal.PublicClientApplication(
            microsoft.client_id,
            authority=microsoft.authority,
            token_cache=cache,
            instance_discovery=False,  # known Microsoft hosts need none; a private authority must not get one
            timeout=microsoft.timeout_seconds,
        )
    except ValueError as exc:
        raise PermanentProviderError(
            f"the Microsoft authority {microsoft.authority} was refused: {exc}"
        ) from None
    except Exception as exc:  # requests' errors reaching the authority's metadata
        raise TransientProviderError(
            f"could not reach the Microsoft authority: {exc.__class__.__name__}"
        ) from None


def _result_error(result: dict[str, Any], what: str) -> Exception:
    error = str(result.get("error") or "unknown_error")
    description = str(result.get("error_description") or "").splitlines()[0:1]
    said = f"{error}: {description[0]}" if description else error
    if error in SIGN_IN_ERRORS:
        return SignInRequired(f"Microsoft refused the saved sign-in ({said})")
    if error in ("invalid_client", "unauthorized_client"):
        return PermanentProviderError(
            f"Microsoft refused Lumina's app registration ({said}); check [microsoft] client_id"
        )
    return TransientProviderError(f"{what} failed ({said})")


class MicrosoftTokens:
    """A Graph access token on demand from the encrypted msal cache; refreshed tokens are saved back."""

    def __init__(
        self,
        microsoft: MicrosoftSettings,
        store: EncryptedTokenCache,
        *,
        home_account_id: str | None,
        email: str,
    ) -> None:
        import msal

        self._store = store
        self._cache = msal.SerializableTokenCache()
        blob = store.load()
        if not blob:
            raise SignInRequired(f"no Microsoft sign-in is stored for {email}")
        self._cache.deserialize(blob)
        register_cache_secrets(self._cache)
        self._microsoft = microsoft
        self._app_instance: Any = None
        self._home_account_id = home_account_id
        self._email = email

    def _application(self) -> Any:
        if self._app_instance is None:
            self._app_instance = _app(self._microsoft, self._cache)
        return self._app_instance

    def _account(self) -> dict[str, Any]:
        accounts = self._application().get_accounts()
        for account in accounts:
            if self._home_account_id and account.get("home_account_id") == self._home_account_id:
                return account
        for account in accounts:
            if str(account.get("username", "")).lower() == self._email.lower():
                return account
        if len(accounts) == 1:
            return accounts[0]
        raise SignInRequired(f"the saved Microsoft sign-in has no account for {self._email}")

    def access_token(self, *, force_refresh: bool = False) -> str:
        import requests

        try:
            result = self._application().acquire_token_silent_with_error(
                list(SCOPES), account=self._account(), force_refresh=force_refresh
            )
        except requests.RequestException as exc:
            raise TransientProviderError(
                f"could not reach Microsoft to refresh the access token: {exc.__class__.__name__}"
            ) from None
        if not result:
            raise SignInRequired(f"the saved Microsoft sign-in for {self._email} has no usable token")
        if "access_token" not in result:
            raise _result_error(result, "refreshing the Microsoft access token")
        register_secret(result["access_token"])
        register_secret(result.get("refresh_token"))
        if self._cache.has_state_changed:
            register_cache_secrets(self._cache)
            self._store.save(self._cache.serialize())
            self._cache.has_state_changed = False
        return str(result["access_token"])


@dataclass(frozen=True, slots=True)
class MicrosoftSignIn:
    cache_text: str
    home_account_id: str
    username: str
    access_token: str


def sign_in(
    microsoft: MicrosoftSettings,
    *,
    interactive: bool = False,
    say: Callable[[str], object],
    timeout_seconds: float = 900,
    cancel: threading.Event | None = None,
) -> MicrosoftSignIn:
    """Device-code flow (default: `say` shows the code and where to type it) or a browser on this machine.

    Setting `cancel` stops the device flow's polling (msal checks it between polls, every second).
    """
    import msal
    import requests

    cache = msal.SerializableTokenCache()
    app = _app(microsoft, cache)
    try:
        if interactive:
            say("Sign in to Microsoft in your browser (it should open by itself).")
            with contextlib.redirect_stdout(sys.stderr):
                result = app.acquire_token_interactive(
                    list(SCOPES),
                    prompt="select_account",
                    timeout=int(timeout_seconds),
                    success_template="Lumina is signed in to Outlook. You can close this tab.",
                )
        else:
            flow = app.initiate_device_flow(scopes=list(SCOPES))
            if "user_code" not in flow:
                raise _result_error(flow, "starting the Microsoft device sign-in")
            say(
                str(
                    flow.get("message")
                    or f"Open {flow.get('verification_uri')} and enter {flow['user_code']}"
                )
            )
            flow["expires_at"] = min(
                float(flow.get("expires_at") or 0) or time.time() + 900, time.time() + timeout_seconds
            )
            deadline = float(flow["expires_at"])
            result = app.acquire_token_by_device_flow(
                flow,
                exit_condition=lambda _flow: (
                    time.time() > deadline or (cancel is not None and cancel.is_set())
                ),
            )
            if cancel is not None and cancel.is_set() and "access_token" not in result:
                raise PermanentProviderError("the sign-in was cancelled")
    except requests.RequestException as exc:
        raise TransientProviderError(
            f"the Microsoft sign-in could not reach Microsoft: {exc.__class__.__name__}"
        ) from None
    if "access_token" not in result:
        error = _result_error(result, "the Microsoft sign-in")
        if isinstance(error, SignInRequired):  # during a sign-in, "sign in again" is no answer
            raise PermanentProviderError(f"the Microsoft sign-in failed ({result.get('error')})")
        raise error
    register_secret(result["access_token"])
    register_secret(result.get("refresh_token"))
    register_cache_secrets(cache)
    claims = result.get("id_token_claims") or {}
    username = str(claims.get("preferred_username") or "")
    accounts = app.get_accounts(username=username or None) or app.get_accounts()
    if not accounts:
        raise PermanentProviderError("Microsoft returned no account for this sign-in")
    account = accounts[0]
    return MicrosoftSignIn(
        cache_text=cache.serialize(),
        home_account_id=str(account.get("home_account_id") or ""),
        username=username or str(account.get("username") or ""),
        access_token=str(result["access_token"]),
    )
