"""Opt-in open and click tracking: HMAC-signed pixel and redirect tokens, no open redirect.

Off by default and per account (`lumina accounts tracking NAME --on`): a pixel and rewritten links
make a cold email look like bulk mail to spam filters and tell the prospect they are watched, so it
hurts deliverability; the rep turns it on knowing that. It needs `api.public_url` (where `lumina
serve` is reachable); without it nothing is rewritten.

A token is `base64url(JSON payload) . base64url(HMAC-SHA256(key, payload part))`, the key kept in
the keyring (`TRACKING_KEY_REF`). The click payload carries the exact URL the rep wrote, so the
redirect can only ever go there: a token whose URL was changed no longer verifies (404), and
only http(s) URLs are signed at all. Recording is idempotent: the first open of an email and the
first click of each link are events; repeats are counted as duplicates, not new rows.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import html
import json
import re
import secrets as random_tokens
from dataclasses import dataclass
from typing import Any

from lumina_tui.config import Settings
from lumina_tui.secrets import get_secret, set_secret
from lumina_tui.services import events
from lumina_tui.services.actors import Actor
from lumina_tui.services.errors import NotFoundError, ValidationError
from lumina_tui.store import Database, utcnow
from lumina_tui.store.models import Account, Email

TRACKING_KEY_REF = "api:tracking-key"
TRACKING_PROVIDER = "lumina-tracking"
MAX_TOKEN_CHARS = 4096
WARNING = (
    "open and click tracking adds a pixel and rewrites links: spam filters treat that as bulk mail, "
    "so it lowers deliverability, and prospects can see they are tracked."
)
_HREF = re.compile(r'<a href="(https?://[^"]+)"')


@dataclass(frozen=True, slots=True)
class TrackingToken:
    kind: str  # "o" (open) | "c" (click)
    email_id: str
    url: str | None = None


def tracking_key() -> str:
    key = get_secret(TRACKING_KEY_REF)
    if key is None:
        set_secret(TRACKING_KEY_REF, random_tokens.token_urlsafe(32))
        key = get_secret(TRACKING_KEY_REF)
    assert key is not None
    return key


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(key: str, payload: str) -> str:
    return _b64(hmac.new(key.encode("utf-8"), payload.encode("ascii"), hashlib.sha256).digest())


def sign(key: str, kind: str, email_id: str, url: str | None = None) -> str:
    if kind not in ("o", "c"):
        raise ValueError("kind is o or c")
    if kind == "c" and (url is None or not url.lower().startswith(("http://", "https://"))):
        raise ValidationError("url: only http(s) links are tracked", field="url")
    body: dict[str, Any] = {"k": kind, "e": email_id}
    if url is not None:
        body["u"] = url
    payload = _b64(json.dumps(body, separators=(",", ":"), sort_keys=True).encode("utf-8"))
    return f"{payload}.{_mac(key, payload)}"


def verify(key: str, token: str, kind: str) -> TrackingToken:
    """The token's content if its MAC is ours and it is of `kind`; NotFoundError otherwise."""
    refused = NotFoundError("no such tracking link", field="token")
    if not isinstance(token, str) or len(token) > MAX_TOKEN_CHARS or token.count(".") != 1:
        raise refused
    payload, mac = token.split(".")
    if not hmac.compare_digest(_mac(key, payload), mac):
        raise refused
    try:
        body = json.loads(_unb64(payload).decode("utf-8"))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise refused from None
    if not isinstance(body, dict) or body.get("k") != kind or not isinstance(body.get("e"), str):
        raise refused
    url = body.get("u")
    if kind == "c" and (not isinstance(url, str) or not url.lower().startswith(("http://", "https://"))):
        raise refused
    return TrackingToken(kind=kind, email_id=body["e"], url=url if kind == "c" else None)


# -- the outgoing HTML -----------------------------------------------------------------------------


def is_enabled(account: Account) -> bool:
    return bool((account.settings or {}).get("tracking"))


def instrument_html(body_html: str, email_id: str, base_url: str, key: str) -> str:
    """Links through the redirect, and the pixel at the end."""
    base = base_url.rstrip("/")

    def through(match: re.Match[str]) -> str:
        url = html.unescape(match.group(1))
        return f'<a href="{base}/t/c/{sign(key, "c", email_id, url)}"'

    rewritten = _HREF.sub(through, body_html)
    pixel = f'<img src="{base}/t/o/{sign(key, "o", email_id)}" width="1" height="1" alt="">'
    return f"{rewritten}\n{pixel}" if rewritten else rewritten


def body_html_for(account: Account, body_html: str, email_id: str, settings: Settings) -> str:
    """The HTML an email is sent with: instrumented only when its account opted in."""
    if not is_enabled(account) or not settings.api.public_url or not body_html:
        return body_html
    return instrument_html(body_html, email_id, settings.api.public_url, tracking_key())


def set_tracking(db: Database, actor: Actor, account_ref: str, enabled: bool) -> Account:
    """Turn tracking on or off for one account of the actor's workspace."""
    from lumina_tui.services import accounts

    with db.write() as session:
        account = accounts._find(session, actor, account_ref)
        if account is None:
            raise NotFoundError(f"account {account_ref} not found", field="account")
        account.settings = {**(account.settings or {}), "tracking": bool(enabled)}
        account.updated_at = utcnow()
        session.add(account)
        session.flush()
        return account


# -- recording -------------------------------------------------------------------------------------


def _record(db: Database, token: TrackingToken, event_type: str, event_id: str, data: dict[str, Any]) -> bool:
    with db.write() as session:
        email = session.get(Email, token.email_id)
        if email is None:
            raise NotFoundError("no such tracking link", field="token")
        return events.append_event(
            session,
            workspace_id=email.workspace_id,
            email_id=email.id,
            event_type=event_type,
            provider=TRACKING_PROVIDER,
            provider_event_id=event_id,
            data=data,
            occurred_at=utcnow(),
        )


def record_open(db: Database, key: str, token: str) -> bool:
    """The first open of the email is recorded; True when this one was it."""
    found = verify(key, token, "o")
    return _record(db, found, "opened", f"{found.email_id}:opened", {})


def record_click(db: Database, key: str, token: str) -> str:
    """The URL signed into the token (the only place the redirect may go); the first click of each
    link of each email is recorded."""
    found = verify(key, token, "c")
    assert found.url is not None
    link = hashlib.sha256(found.url.encode("utf-8")).hexdigest()[:24]
    _record(db, found, "clicked", f"{found.email_id}:clicked:{link}", {"url": found.url[:2000]})
    return found.url
