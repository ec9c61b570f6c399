"""Signing in to Google and keeping a Gmail access token fresh.

Sign-in is google-auth-oauthlib's `InstalledAppFlow` with a loopback redirect (the browser comes back
to http://localhost:PORT/ on this machine; PKCE protects the code), asking for `gmail.send` (to send)
and `gmail.readonly` (to find a sent message by its X-Lumina-Email-Id header after an interruption,
and for mailbox sync). Not `gmail.metadata`: it forbids the `q` search that both need.

What is kept: the refresh token, as a small JSON document in the OS keyring (the account's secret).
Access tokens live only in memory and are refreshed by google-auth when they expire. A refresh that
Google answers with `invalid_grant` (revoked, expired, password changed) raises `SignInRequired`:
the account then waits for the rep to sign in again. Every token read or issued is registered with
the log scrubber.
"""

from __future__ import annotations

import contextlib
import json
import logging
import sys
import threading
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from lumina_tui.config import GoogleSettings
from lumina_tui.logs import register_secret
from lumina_tui.providers.base import (
    PermanentProviderError,
    SignInRequired,
    TransientProviderError,
)

log = logging.getLogger(__name__)

#: How often the cancel watcher looks at the rep's "cancel" while the browser sign-in waits.
CANCEL_POLL_SECONDS = 0.2

SCOPES = (
    "https://www.googleapis.com/auth/gmail.send",
    "https://www.googleapis.com/auth/gmail.readonly",
)


@dataclass(frozen=True, slots=True)
class GoogleGrant:
    """What Lumina keeps of a Google sign-in (the account's secret, as JSON)."""

    refresh_token: str
    scopes: tuple[str, ...] = SCOPES

    def dumps(self) -> str:
        return json.dumps(
            {"kind": "google", "refresh_token": self.refresh_token, "scopes": list(self.scopes)}
        )

    @classmethod
    def loads(cls, text: str | None) -> GoogleGrant:
        try:
            data = json.loads(text or "")
            grant = cls(str(data["refresh_token"]), tuple(data.get("scopes") or SCOPES))
        except (ValueError, KeyError, TypeError):
            raise SignInRequired("the stored Google sign-in is unreadable") from None
        register_secret(grant.refresh_token)
        return grant


def require_client(google: GoogleSettings) -> None:
    """A Google OAuth client id is configuration, not something a rep types each time."""
    if not google.client_id:
        raise PermanentProviderError(
            "no Google OAuth client is configured: set [google] client_id (and client_secret) in "
            "config.toml, or LUMINA_GOOGLE__CLIENT_ID; the README says how to register one"
        )
    register_secret(google.client_secret)


class _TimedRequest:
    """google-auth's requests transport with our timeout (its default is 120 s)."""

    def __init__(self, timeout: float) -> None:
        from google.auth.transport.requests import Request

        self._request = Request()
        self._timeout = timeout

    def __call__(
        self, url: str, method: str = "GET", body: Any = None, headers: Any = None, **kwargs: Any
    ) -> Any:
        kwargs["timeout"] = kwargs.get("timeout") or self._timeout
        return self._request(url, method=method, body=body, headers=headers, **kwargs)


def refresh_error(exc: Exception) -> Exception:
    """google-auth's refresh failure as the kind of failure the worker acts on."""
    from google.auth import exceptions

    text = str(exc.args[0]) if exc.args else str(exc)
    details = exc.args[1] if len(exc.args) > 1 and isinstance(exc.args[1], dict) else {}
    error = str(details.get("error") or "")
    if isinstance(exc, exceptions.RefreshError) and (
        error in ("invalid_grant", "unauthorized_client") or "invalid_grant" in text
    ):
        return SignInRequired(
            f"Google refused the saved sign-in ({error or 'invalid_grant'}: "
            f"{details.get('error_description') or 'revoked or expired'})"
        )
    if isinstance(exc, exceptions.RefreshError) and error == "invalid_client":
        return PermanentProviderError(
            f"Google refused Lumina's OAuth client ({text}); check [google] client_id"
        )
    return TransientProviderError(f"could not refresh the Google access token: {text}")


class GoogleTokens:
    """A Gmail access token on demand, refreshed (google-auth) when missing, expired, or refused."""

    def __init__(self, grant: GoogleGrant, google: GoogleSettings) -> None:
        from google.oauth2.credentials import Credentials

        require_client(google)
        self._credentials = Credentials(
            None,
            refresh_token=grant.refresh_token,
            token_uri=google.token_uri,
            client_id=google.client_id,
            client_secret=google.client_secret,
            scopes=list(grant.scopes),
        )
        self._timeout = google.timeout_seconds

    def access_token(self, *, force_refresh: bool = False) -> str:
        from google.auth import exceptions

        if force_refresh or not self._credentials.valid:
            try:
                self._credentials.refresh(_TimedRequest(self._timeout))
            except (exceptions.RefreshError, exceptions.TransportError) as exc:
                raise refresh_error(exc) from None
        token = str(self._credentials.token)
        register_secret(token)
        return token


@dataclass(frozen=True, slots=True)
class GoogleSignIn:
    grant: GoogleGrant
    access_token: str


def sign_in(
    google: GoogleSettings,
    *,
    open_browser: bool = True,
    timeout_seconds: float = 300,
    say: Callable[[str], object] | None = None,
    cancel: threading.Event | None = None,
) -> GoogleSignIn:
    """The rep signs in in a browser; Google sends the browser back to a loopback page Lumina serves.

    The page's address and any instructions go to `say` when given (the composer shows them), else
    to stderr (stdout may be a JSON document). Setting `cancel` ends the wait for the browser: the
    loopback page is sent a refusal, so the flow stops at once with "the sign-in was cancelled".
    """
    from google_auth_oauthlib.flow import InstalledAppFlow

    require_client(google)
    client = {
        "installed": {
            "client_id": google.client_id,
            "client_secret": google.client_secret or "",
            "auth_uri": google.auth_uri,
            "token_uri": google.token_uri,
            "redirect_uris": ["http://localhost"],
        }
    }
    flow = InstalledAppFlow.from_client_config(client, scopes=list(SCOPES))
    prompt = (
        "Sign in to Google in your browser (it should open by itself); if it does not, open:\n{url}"
        if open_browser
        else "Open this address in a browser on this machine and sign in to Google:\n{url}"
    )
    if say is not None:
        _announce_url(flow, lambda url: say(prompt.format(url=url)))
    finished = threading.Event()
    if cancel is not None:
        threading.Thread(
            target=_refuse_when_cancelled,
            args=(flow, cancel, finished),
            name="gmail-sign-in-cancel",
            daemon=True,
        ).start()
    try:
        with contextlib.redirect_stdout(sys.stderr):
            credentials = flow.run_local_server(
                host="localhost",
                bind_addr="127.0.0.1",
                port=0,
                open_browser=open_browser,
                authorization_prompt_message=None if say is not None else prompt,
                success_message="Lumina is signed in to Gmail. You can close this tab.",
                timeout_seconds=int(timeout_seconds),
                access_type="offline",
                prompt="consent",  # Google returns a refresh token only on consent
            )
    except Exception as exc:
        if cancel is not None and cancel.is_set():
            raise PermanentProviderError("the sign-in was cancelled") from None
        raise _sign_in_error(exc) from None
    finally:
        finished.set()
    if cancel is not None and cancel.is_set():
        raise PermanentProviderError("the sign-in was cancelled")
    if not credentials.refresh_token:
        raise PermanentProviderError("Google returned no refresh token; sign in again")
    register_secret(credentials.refresh_token)
    register_secret(credentials.token)
    granted = tuple(credentials.granted_scopes or credentials.scopes or SCOPES)
    missing = [s for s in SCOPES if s not in granted]
    if missing:
        names = ", ".join(s.rsplit("/", 1)[-1] for s in missing)
        raise PermanentProviderError(f"Lumina needs every permission it asked for; not granted: {names}")
    return GoogleSignIn(GoogleGrant(credentials.refresh_token, SCOPES), str(credentials.token))


def _announce_url(flow: Any, show: Callable[[str], object]) -> None:
    """Show the consent page's address as soon as the flow makes it (inside `run_local_server`)."""
    make_url = flow.authorization_url

    def announced(**kwargs: Any) -> tuple[str, str]:
        url, state = make_url(**kwargs)
        show(url)
        return url, state

    flow.authorization_url = announced


def _refuse_when_cancelled(flow: Any, cancel: threading.Event, finished: threading.Event) -> None:
    """Once `cancel` is set, answer the waiting loopback page with an OAuth refusal, so the flow ends."""
    while not finished.wait(CANCEL_POLL_SECONDS):
        if cancel.is_set():
            redirect = getattr(flow, "redirect_uri", None)
            if redirect and redirect.startswith("http://localhost:"):
                page = redirect.replace("localhost", "127.0.0.1", 1)  # where the page is bound
                with contextlib.suppress(OSError):
                    urllib.request.urlopen(f"{page}?error=access_denied", timeout=5).close()
            return


def _sign_in_error(exc: Exception) -> Exception:
    name = exc.__class__.__name__
    if name == "WSGITimeoutError":
        return TransientProviderError("the Google sign-in was not finished in time; run the command again")
    if name in ("AccessDeniedError", "MismatchingStateError") or "access_denied" in str(exc):
        return PermanentProviderError(f"the Google sign-in was refused: {exc}")
    if isinstance(exc, OSError):
        return TransientProviderError(f"the Google sign-in could not reach Google: {exc}")
    return PermanentProviderError(f"the Google sign-in failed: {name}: {exc}")
