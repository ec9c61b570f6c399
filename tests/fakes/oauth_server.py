"""A local OAuth 2.0 authorization server on 127.0.0.1 (HTTPS, a throw-away CA) playing both Google's
and Microsoft's identity platform, for the real google-auth / google-auth-oauthlib / msal clients.

Why HTTPS: oauthlib refuses a token endpoint over plain HTTP and msal refuses an authority that is
not https. Trust it with `REQUESTS_CA_BUNDLE=server.ca_file` (requests, hence google-auth and msal)
and `SSL_CERT_FILE` (httpx).

Google endpoints (point `token_uri` / `auth_uri` at them):
    GET  {url}o/oauth2/auth      the consent page: redirects at once to redirect_uri?code=..&state=..
    POST {url}token               grant_type authorization_code (PKCE S256 checked) | refresh_token
Microsoft endpoints (authority `{url}{tenant}`, msal with instance_discovery=False):
    GET  {url}{tenant}/v2.0/.well-known/openid-configuration
    GET  {url}{tenant}/oauth2/v2.0/authorize        like Google's consent page
    POST {url}{tenant}/oauth2/v2.0/devicecode       the device-code flow's first step
    POST {url}{tenant}/oauth2/v2.0/token            authorization_code | refresh_token | device_code
Operation names for `inject_fault`: "authorize", "token", "devicecode", "openid".

The "browser": `open_in_browser(url)` does what a person's browser would (GET the consent page and
follow the redirect to the app's loopback server). For a child process, `browser_env(dir, oauth)`
sets BROWSER to an executable stand-in script: Python's webbrowser module, which both
InstalledAppFlow and msal's interactive flow use, then runs it with the URL.

Test API:
    oauth = OAuthServer(tls_files, user="rep@acme.test").start()
    oauth.client_id, oauth.client_secret         what the app must present (set in Lumina's config)
    oauth.google_token_uri, oauth.google_auth_uri, oauth.authority   URLs for the clients
    oauth.user_for(access_token) -> email | None  (Gmail and Graph fakes call it)
    oauth.issue_tokens(user=None) -> dict         a token response without any flow (seed an account)
    oauth.expire_access_tokens()                  every issued access token now answers 401
    oauth.access_token_lifetime = 2               seconds for tokens issued from now on
    oauth.revoke(refresh_token=None)              one, or all, refresh tokens -> invalid_grant
    oauth.approve_device(user_code) / deny_device(user_code); oauth.auto_approve_device = True
    oauth.device_codes -> list of issued user codes; oauth.grants -> Counter of grant types served
    oauth.issued_secrets() -> every token issued and the client secret (grep for them: secret_grep)
Refresh tokens are rotated on Microsoft's endpoint (a new one with each refresh, the old one still
valid, as Entra does) and kept on Google's. Access tokens and refresh tokens are random per issue.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import secrets
import sys
import threading
import time
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from fakes.http_base import FakeHttpServer, Request, Response, b64url

GOOGLE_SCOPES_DEFAULT = (
    "https://www.googleapis.com/auth/gmail.send https://www.googleapis.com/auth/gmail.readonly"
)


@dataclass
class _Grant:
    user: str
    client_id: str
    scope: str
    redirect_uri: str = ""
    code_challenge: str | None = None
    nonce: str | None = None


@dataclass
class _Device:
    device_code: str
    user_code: str
    client_id: str
    scope: str
    state: str = "pending"  # pending | approved | denied | used
    user: str = ""
    polls: int = 0


@dataclass
class _Token:
    user: str
    scope: str
    expires_at: float
    kind: str = "access"
    revoked: bool = False
    issued: float = field(default_factory=time.time)


def _jwt(claims: dict[str, Any]) -> str:
    """An unsigned JWT: msal reads the id token's claims without checking a signature."""
    header = b64url(json.dumps({"alg": "none", "typ": "JWT"}).encode()).rstrip("=")
    payload = b64url(json.dumps(claims).encode()).rstrip("=")
    return f"{header}.{payload}."


class OAuthServer(FakeHttpServer):
    label = "oauth"

    def __init__(
        self,
        tls_files: Any,
        *,
        user: str = "rep@acme.test",
        client_id: str = "lumina-test-client",
        client_secret: str | None = "lumina-test-client-secret-0000",
        tenant: str = "common",
    ) -> None:
        super().__init__(tls=tls_files.server_context())
        self.ca_file: Path = tls_files.ca_cert
        self.user = user
        self.client_id = client_id
        self.client_secret = client_secret
        self.tenant = tenant
        self.tenant_id = "9188040d-6c67-4c5b-b112-36a304b66dad"
        self.access_token_lifetime = 3600
        self.auto_approve_device = True
        self.device_interval = 1
        self._codes: dict[str, _Grant] = {}
        self._devices: dict[str, _Device] = {}
        self._tokens: dict[str, _Token] = {}
        self.grants: Counter[str] = Counter()
        self._state_lock = threading.Lock()

    # -- URLs -------------------------------------------------------------------------------------

    @property
    def google_token_uri(self) -> str:
        return f"{self.url}token"

    @property
    def google_auth_uri(self) -> str:
        return f"{self.url}o/oauth2/auth"

    @property
    def authority(self) -> str:
        return f"{self.url}{self.tenant}"

    # -- test API ---------------------------------------------------------------------------------

    def user_for(self, access_token: str | None) -> str | None:
        if not access_token:
            return None
        with self._state_lock:
            token = self._tokens.get(access_token)
            if token is None or token.kind != "access" or token.revoked or token.expires_at <= time.time():
                return None
            return token.user

    def issue_tokens(self, user: str | None = None, scope: str = GOOGLE_SCOPES_DEFAULT) -> dict[str, Any]:
        return self._token_response(user or self.user, scope, refresh=True, microsoft=False)

    def expire_access_tokens(self) -> None:
        with self._state_lock:
            for token in self._tokens.values():
                if token.kind == "access":
                    token.expires_at = 0

    def revoke(self, refresh_token: str | None = None) -> None:
        with self._state_lock:
            for value, token in self._tokens.items():
                if token.kind == "refresh" and (refresh_token is None or value == refresh_token):
                    token.revoked = True

    def refresh_tokens(self, *, live: bool = True) -> list[str]:
        with self._state_lock:
            return [v for v, t in self._tokens.items() if t.kind == "refresh" and (not live or not t.revoked)]

    def issued_secrets(self) -> list[str]:
        """Every access and refresh token issued so far, and the client secret (for secret greps)."""
        with self._state_lock:
            values = list(self._tokens)
        return [*values, *([self.client_secret] if self.client_secret else [])]

    @property
    def device_codes(self) -> list[str]:
        with self._state_lock:
            return [d.user_code for d in self._devices.values()]

    def approve_device(self, user_code: str, user: str | None = None) -> None:
        with self._state_lock:
            for device in self._devices.values():
                if device.user_code == user_code:
                    device.state, device.user = "approved", user or self.user
                    return
        raise KeyError(user_code)

    def deny_device(self, user_code: str) -> None:
        with self._state_lock:
            for device in self._devices.values():
                if device.user_code == user_code:
                    device.state = "denied"
                    return
        raise KeyError(user_code)

    def open_in_browser(self, url: str, timeout: float = 30) -> int:
        """What a person's browser does with the consent URL: follow it to the app's loopback page."""
        context = __import__("ssl").create_default_context(cafile=str(self.ca_file))
        with urllib.request.urlopen(url, timeout=timeout, context=context) as answer:
            answer.read()
            return answer.status

    # -- routing ----------------------------------------------------------------------------------

    def route(self, request: Request) -> tuple[str, Any]:
        path = request.path
        tenant = f"/{self.tenant}"
        if path == "/o/oauth2/auth" or path == f"{tenant}/oauth2/v2.0/authorize":
            return "authorize", self._authorize
        if path == "/token":
            return "token", lambda r: self._token(r, microsoft=False)
        if path == f"{tenant}/oauth2/v2.0/token":
            return "token", lambda r: self._token(r, microsoft=True)
        if path == f"{tenant}/oauth2/v2.0/devicecode":
            return "devicecode", self._devicecode
        if path == f"{tenant}/v2.0/.well-known/openid-configuration":
            return "openid", self._openid
        raise LookupError(f"no route for {request.method} {path}")

    def error_response(
        self, status: int, message: str, *, reason: str | None = None, retry_after: float | None = None
    ) -> Response:
        headers = {"Retry-After": str(int(retry_after))} if retry_after is not None else {}
        error = reason or ("server_error" if status >= 500 else "invalid_request")
        return Response.json({"error": error, "error_description": message}, status, headers)

    def _oauth_error(self, error: str, description: str, status: int = 400) -> Response:
        return Response.json({"error": error, "error_description": description}, status)

    # -- endpoints --------------------------------------------------------------------------------

    def _openid(self, request: Request) -> Response:
        base = f"{self.url}{self.tenant}"
        return Response.json(
            {
                "issuer": f"{self.url}{self.tenant_id}/v2.0",
                "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
                "token_endpoint": f"{base}/oauth2/v2.0/token",
                "device_authorization_endpoint": f"{base}/oauth2/v2.0/devicecode",
                "response_types_supported": ["code"],
                "scopes_supported": ["openid", "profile", "email", "offline_access"],
            }
        )

    def _authorize(self, request: Request) -> Response:
        client_id = request.arg("client_id") or ""
        redirect_uri = request.arg("redirect_uri") or ""
        if client_id != self.client_id:
            return self._oauth_error("invalid_client", f"unknown client {client_id!r}", 401)
        host = urlsplit(redirect_uri).hostname
        if host not in ("localhost", "127.0.0.1"):
            return self._oauth_error("invalid_request", "only loopback redirect URIs are allowed")
        challenge = request.arg("code_challenge")
        if challenge is not None and request.arg("code_challenge_method") != "S256":
            return self._oauth_error("invalid_request", "code_challenge_method must be S256")
        code = secrets.token_urlsafe(24)
        with self._state_lock:
            self._codes[code] = _Grant(
                user=self.user,
                client_id=client_id,
                scope=request.arg("scope") or "",
                redirect_uri=redirect_uri,
                code_challenge=challenge,
                nonce=request.arg("nonce"),
            )
        params = {"code": code}
        if request.arg("state") is not None:
            params["state"] = request.arg("state") or ""
        if request.path.endswith("/authorize"):
            params["client_info"] = self._client_info(self.user)
        if request.arg("response_mode") == "form_post":  # msal asks for this: Entra posts an HTML form
            fields = "".join(
                f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
                for k, v in params.items()
            )
            page = (
                f'<html><body onload="document.forms[0].submit()"><form method="post" '
                f'action="{html.escape(redirect_uri)}">{fields}</form></body></html>'
            )
            return Response(200, page.encode(), {"Content-Type": "text/html; charset=utf-8"})
        separator = "&" if "?" in redirect_uri else "?"
        return Response.redirect(f"{redirect_uri}{separator}{urlencode(params)}")

    def _devicecode(self, request: Request) -> Response:
        form = request.form()
        if form.get("client_id") != self.client_id:
            return self._oauth_error("invalid_client", "unknown client", 401)
        device = _Device(
            device_code=secrets.token_urlsafe(32),
            user_code=secrets.token_hex(4).upper(),
            client_id=form["client_id"],
            scope=form.get("scope", ""),
        )
        with self._state_lock:
            self._devices[device.device_code] = device
        verification = f"{self.url}{self.tenant}/devicelogin"
        return Response.json(
            {
                "device_code": device.device_code,
                "user_code": device.user_code,
                "verification_uri": verification,
                "expires_in": 900,
                "interval": self.device_interval,
                "message": f"To sign in, use a web browser to open the page {verification} and enter "
                f"the code {device.user_code} to authenticate.",
            }
        )

    def _check_client(self, form: dict[str, str], request: Request) -> Response | None:
        client_id = form.get("client_id")
        secret = form.get("client_secret")
        basic = request.basic_auth()
        if basic is not None:
            client_id, secret = basic
        if client_id != self.client_id:
            return self._oauth_error("invalid_client", f"unknown client {client_id!r}", 401)
        if secret is not None and self.client_secret is not None and secret != self.client_secret:
            return self._oauth_error("invalid_client", "the client secret is wrong", 401)
        return None

    def _token(self, request: Request, *, microsoft: bool) -> Response:
        form = request.form()
        refused = self._check_client(form, request)
        if refused is not None:
            return refused
        grant_type = form.get("grant_type", "")
        self.grants[grant_type] += 1
        if grant_type == "authorization_code":
            with self._state_lock:
                grant = self._codes.pop(form.get("code", ""), None)
            if grant is None:
                return self._oauth_error("invalid_grant", "the authorization code is unknown or used")
            if form.get("redirect_uri") != grant.redirect_uri:
                return self._oauth_error("invalid_grant", "redirect_uri does not match the authorization")
            if grant.code_challenge is not None:
                verifier = form.get("code_verifier", "")
                digest = b64url(hashlib.sha256(verifier.encode()).digest()).rstrip("=")
                if digest != grant.code_challenge:
                    return self._oauth_error("invalid_grant", "PKCE verification failed")
            scope = form.get("scope") or grant.scope
            return Response.json(
                self._token_response(grant.user, scope, refresh=True, microsoft=microsoft, nonce=grant.nonce)
            )
        if grant_type == "refresh_token":
            value = form.get("refresh_token", "")
            with self._state_lock:
                token = self._tokens.get(value)
            if token is None or token.kind != "refresh" or token.revoked:
                return self._oauth_error(
                    "invalid_grant",
                    "AADSTS70000: the refresh token was revoked"
                    if microsoft
                    else "Token has been expired or revoked.",
                )
            scope = form.get("scope") or token.scope
            answer = self._token_response(token.user, scope, refresh=microsoft, microsoft=microsoft)
            return Response.json(answer)
        if grant_type in ("urn:ietf:params:oauth:grant-type:device_code", "device_code"):
            with self._state_lock:
                device = self._devices.get(form.get("device_code", ""))
                if device is None or device.state == "used":
                    return self._oauth_error("expired_token", "the device code is unknown or used")
                device.polls += 1
                if device.state == "pending" and self.auto_approve_device:
                    device.state, device.user = "approved", self.user
                state = device.state
                if state == "approved":
                    device.state = "used"
            if state == "pending":
                return self._oauth_error("authorization_pending", "the user has not signed in yet")
            if state == "denied":
                return self._oauth_error("authorization_declined", "the user declined")
            return Response.json(
                self._token_response(device.user, device.scope, refresh=True, microsoft=True)
            )
        return self._oauth_error("unsupported_grant_type", f"grant_type {grant_type!r}")

    # -- tokens -----------------------------------------------------------------------------------

    def _client_info(self, user: str) -> str:
        uid = hashlib.sha1(user.encode()).hexdigest()[:32]
        return b64url(json.dumps({"uid": uid, "utid": self.tenant_id}).encode()).rstrip("=")

    def _token_response(
        self, user: str, scope: str, *, refresh: bool, microsoft: bool, nonce: str | None = None
    ) -> dict[str, Any]:
        now = time.time()
        access = (
            "ya29." + secrets.token_urlsafe(32) if not microsoft else "eyJ0eXAi." + secrets.token_urlsafe(40)
        )
        lifetime = self.access_token_lifetime
        with self._state_lock:
            self._tokens[access] = _Token(user, scope, now + lifetime)
        answer: dict[str, Any] = {
            "access_token": access,
            "token_type": "Bearer",
            "expires_in": lifetime,
            "scope": scope,
        }
        if refresh:
            value = ("1//" if not microsoft else "0.AX") + secrets.token_urlsafe(40)
            with self._state_lock:
                self._tokens[value] = _Token(user, scope, now + 90 * 86400, kind="refresh")
            answer["refresh_token"] = value
        if microsoft:
            answer["ext_expires_in"] = lifetime
            answer["client_info"] = self._client_info(user)
            uid = hashlib.sha1(user.encode()).hexdigest()[:32]
            claims = {
                "iss": f"{self.url}{self.tenant_id}/v2.0",
                "aud": self.client_id,
                "sub": uid,
                "oid": uid,
                "tid": self.tenant_id,
                "iat": int(now),
                "nbf": int(now),
                "exp": int(now + 3600),
                "preferred_username": user,
                "name": user.split("@")[0].title(),
            }
            if nonce:
                claims["nonce"] = nonce
            answer["id_token"] = _jwt(claims)
        return answer


# -- the "browser" for child processes ---------------------------------------------------------------

_BROWSER_SCRIPT = '''\
#!{python}
"""A stand-in browser for tests: GET the consent URL and follow its redirect to the loopback page.

Like a real browser launched by xdg-open it returns at once (Python's webbrowser waits for the
command, while the app's loopback server only starts answering after that): the visit happens in a
detached child process.
"""
import os, ssl, subprocess, sys, urllib.request
if os.environ.get("LUMINA_FAKE_BROWSER_CHILD") != "1":
    child = {**os.environ, "LUMINA_FAKE_BROWSER_CHILD": "1"}
    subprocess.Popen([sys.executable, __file__, *sys.argv[1:]], env=child, start_new_session=True,
                     stdin=subprocess.DEVNULL)
    sys.exit(0)
import html, re, urllib.parse
context = ssl.create_default_context(cafile=os.environ.get("REQUESTS_CA_BUNDLE"))
with urllib.request.urlopen(sys.argv[1], timeout=60, context=context) as answer:
    page = answer.read().decode("utf-8", "replace")
form = re.search(r'<form method="post" action="([^"]+)">(.*?)</form>', page, re.S)
if form:  # an auto-submitting form (response_mode=form_post): submit it, as the page's script would
    pairs = re.findall(r'name="([^"]*)" value="([^"]*)"', form.group(2))
    data = urllib.parse.urlencode({html.unescape(n): html.unescape(v) for n, v in pairs}).encode()
    target = html.unescape(form.group(1))
    with urllib.request.urlopen(target, data=data, timeout=60, context=context) as answer:
        answer.read()
'''


def browser_script(directory: Path) -> Path:
    """Write the stand-in browser (an executable script) into `directory`; use it as BROWSER=SCRIPT.

    Python's webbrowser runs BROWSER as one executable with the URL as its argument.
    """
    path = directory / "fake_browser"
    path.write_text(_BROWSER_SCRIPT.replace("{python}", sys.executable), encoding="utf-8")
    path.chmod(0o755)
    return path


def browser_env(directory: Path, oauth: OAuthServer) -> dict[str, str]:
    """Environment for a child process whose OAuth flow should 'open a browser' against `oauth`."""
    return {
        "BROWSER": str(browser_script(directory)),
        "REQUESTS_CA_BUNDLE": str(oauth.ca_file),
        "SSL_CERT_FILE": str(oauth.ca_file),
    }


def parse_redirect(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def basic(client_id: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()
