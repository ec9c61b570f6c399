"""Gmail and Outlook accounts: sign in (add), sign in again (after a revoked token), and what waits.

A sign-in runs the provider's OAuth flow (`providers.google_oauth`, `providers.microsoft_oauth`),
asks the mailbox which address it is (Gmail's profile, Graph's /me), and stores the result: Gmail's
refresh token in the OS keyring; for Outlook a Fernet key in the keyring and msal's token cache,
encrypted with it, in the data folder. Nothing secret reaches SQLite.

Signing in to an address that already has an account of that kind signs that account in again: its
tokens are replaced, its "needs sign-in" status cleared, and every email that was waiting for it is
made due at once and rung, so it goes out now.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import update
from sqlmodel import col, select

from lumina_tui import queue, secrets
from lumina_tui.config import Settings
from lumina_tui.providers.base import AccountConfig, ProviderError
from lumina_tui.services import accounts, validation
from lumina_tui.services.actors import Actor
from lumina_tui.services.email_state import SIGN_IN_PREFIX, EmailStatus
from lumina_tui.services.errors import NotFoundError, ProviderFailure, StorageError, ValidationError
from lumina_tui.store import Database, new_id, utcnow
from lumina_tui.store.models import Account, Email

Say = Callable[[str], object]  # what it returns is ignored (a posted message says True)


@dataclass(frozen=True, slots=True)
class SignInResult:
    account: Account
    created: bool  # False: an existing account was signed in again
    released: int  # emails that were waiting for this sign-in and are now due


def token_dir(settings: Settings) -> Path:
    return settings.data_dir / "tokens"


def _failure(exc: ProviderError, what: str) -> ProviderFailure:
    return ProviderFailure(f"{what}: {exc.reason}", field="account", kind="auth")


def _same_address(wanted: str | None, actual: str) -> None:
    if wanted and wanted.strip().lower() != actual.lower():
        raise ValidationError(
            f"email: you signed in as {actual}, not {wanted.strip()}; sign in with that account, "
            "or leave out --email",
            field="email",
        )


def _existing(db: Database, actor: Actor, provider: str, address: str) -> Account | None:
    with db.read() as session:
        rows = session.execute(
            select(Account).where(
                Account.workspace_id == actor.workspace_id,
                Account.provider == provider,
            )
        ).scalars()
        return next((a for a in rows if a.email.lower() == address.lower()), None)


def release_waiting(db: Database, settings: Settings, account_id: str) -> int:
    """Emails parked for this account's sign-in: due now, and rung."""
    now = utcnow()
    with db.write() as session:
        waiting = [
            row.id
            for row in session.execute(
                select(Email.id, Email.last_error).where(
                    Email.account_id == account_id,
                    Email.status == EmailStatus.PENDING_SEND,
                )
            )
            if SIGN_IN_PREFIX in (row.last_error or "")
        ]
        if waiting:
            session.execute(
                update(Email)
                .where(col(Email.id).in_(waiting), col(Email.status) == EmailStatus.PENDING_SEND)
                .values(next_attempt_at=now, updated_at=now)
            )
    for email_id in waiting:
        queue.enqueue_send(settings, email_id)
    return len(waiting)


def _signed_in_again(
    db: Database, settings: Settings, account: Account, *, secret: str, extra_settings: dict[str, Any]
) -> SignInResult:
    ref = account.secret_ref or accounts.secret_ref_for(account.id)
    try:
        secrets.set_secret(ref, secret)
    except (secrets.SecretStoreError, OSError) as exc:
        raise StorageError(f"password: could not store the sign-in: {exc}", field="password") from None
    with db.write() as session:
        row = session.get(Account, account.id)
        if row is None:
            raise NotFoundError(f"account {account.id} was removed meanwhile", field="account")
        row.secret_ref = ref
        row.settings = {**dict(row.settings or {}), **extra_settings}
        row.status, row.status_reason, row.updated_at = accounts.OK, None, utcnow()
        session.add(row)
        session.flush()
        account = row
    return SignInResult(account, created=False, released=release_waiting(db, settings, account.id))


# -- Gmail -----------------------------------------------------------------------------------------


def sign_in_gmail(
    db: Database,
    actor: Actor,
    settings: Settings,
    *,
    email: str | None = None,
    name: str | None = None,
    display_name: str = "",
    open_browser: bool = True,
    make_default: bool = False,
    timeout_seconds: float = 300,
    say: Say | None = None,
    cancel: threading.Event | None = None,
) -> SignInResult:
    """Google's consent page in a browser, back to a loopback page; then add (or re-sign-in) the account.

    `say` shows the page's address (else stderr); setting `cancel` stops waiting for the browser.
    """
    from lumina_tui.providers import google_oauth
    from lumina_tui.providers.gmail import GmailProvider

    if email:
        validation.email_address(email, "email")
    try:
        signed = google_oauth.sign_in(
            settings.google,
            open_browser=open_browser,
            timeout_seconds=timeout_seconds,
            say=say,
            cancel=cancel,
        )
        secret = signed.grant.dumps()
        probe = GmailProvider(
            AccountConfig(account_id="sign-in", provider="gmail", email=email or "", secret=secret),
            settings.google,
        )
        try:
            address = probe.profile_email()
        finally:
            probe.close()
    except ProviderError as exc:
        raise _failure(exc, "Gmail sign-in") from None
    address = validation.email_address(address, "email")
    _same_address(email, address)
    existing = _existing(db, actor, "gmail", address)
    if existing is not None:
        return _signed_in_again(db, settings, existing, secret=secret, extra_settings={})
    account = accounts.add_account(
        db,
        actor,
        provider="gmail",
        email=address,
        name=name,
        display_name=display_name,
        secret=secret,
        make_default=make_default,
    )
    return SignInResult(account, created=True, released=0)


# -- Outlook ---------------------------------------------------------------------------------------


def _graph_address(settings: Settings, access_token: str) -> str | None:
    import httpx

    try:
        with httpx.Client(
            base_url=settings.microsoft.graph_url.rstrip("/") + "/",
            timeout=settings.microsoft.timeout_seconds,
        ) as client:
            answer = client.get(
                "me",
                params={"$select": "mail,userPrincipalName"},
                headers={"Authorization": f"Bearer {access_token}"},
            )
        if answer.status_code != 200:
            return None
        me = answer.json()
        return str(me.get("mail") or me.get("userPrincipalName") or "") or None
    except (httpx.HTTPError, ValueError):
        return None


def sign_in_outlook(
    db: Database,
    actor: Actor,
    settings: Settings,
    *,
    say: Say,
    email: str | None = None,
    name: str | None = None,
    display_name: str = "",
    interactive: bool = False,
    make_default: bool = False,
    timeout_seconds: float = 900,
    cancel: threading.Event | None = None,
) -> SignInResult:
    """The device-code flow (or a browser with `interactive`); then add (or re-sign-in) the account."""
    from lumina_tui.providers import microsoft_oauth
    from lumina_tui.providers.token_cache import EncryptedTokenCache

    if email:
        validation.email_address(email, "email")
    try:
        signed = microsoft_oauth.sign_in(
            settings.microsoft,
            interactive=interactive,
            say=say,
            timeout_seconds=timeout_seconds,
            cancel=cancel,
        )
    except ProviderError as exc:
        raise _failure(exc, "Microsoft sign-in") from None
    address = _graph_address(settings, signed.access_token) or signed.username
    address = validation.email_address(address, "email")
    _same_address(email, address)
    key = microsoft_oauth.MicrosoftKey.new()
    extra = {"home_account_id": signed.home_account_id}
    existing = _existing(db, actor, "outlook", address)
    account_id = existing.id if existing is not None else new_id()
    store = EncryptedTokenCache(microsoft_oauth.cache_path(token_dir(settings), account_id), key.cache_key)
    try:
        store.save(signed.cache_text)
    except OSError as exc:
        raise StorageError(
            f"could not save the Microsoft sign-in in {store.path}: {exc}", field="account"
        ) from None
    if existing is not None:
        return _signed_in_again(db, settings, existing, secret=key.dumps(), extra_settings=extra)
    try:
        account = accounts.add_account(
            db,
            actor,
            provider="outlook",
            email=address,
            name=name,
            display_name=display_name,
            settings=extra,
            secret=key.dumps(),
            make_default=make_default,
            account_id=account_id,
        )
    except BaseException:
        store.delete()
        raise
    return SignInResult(account, created=True, released=0)


# -- either ----------------------------------------------------------------------------------------


def sign_in_again(
    db: Database,
    actor: Actor,
    settings: Settings,
    ref: str,
    *,
    say: Say,
    open_browser: bool = True,
    interactive: bool = False,
    say_url: bool = False,
    cancel: threading.Event | None = None,
) -> SignInResult:
    """`lumina accounts signin REF` and the composer's accounts screen: the same flow as `add`, for an
    existing Gmail or Outlook account. With `say_url`, Gmail's consent address goes to `say` too (the
    composer shows it; the CLI prints it on stderr); `cancel` stops waiting for the rep."""
    account = accounts.resolve_account(db, actor, ref)
    if account.provider == "gmail":
        return sign_in_gmail(
            db,
            actor,
            settings,
            email=account.email,
            open_browser=open_browser,
            say=say if say_url else None,
            cancel=cancel,
        )
    if account.provider == "outlook":
        return sign_in_outlook(
            db, actor, settings, say=say, email=account.email, interactive=interactive, cancel=cancel
        )
    raise ValidationError(
        f"account: {account.name} is a {account.provider} account; only Gmail and Outlook accounts sign in "
        "(change an SMTP password by adding the account again)",
        field="account",
    )
