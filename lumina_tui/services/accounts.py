"""Sending accounts: add, list, resolve (`--from`), test, remove; and the provider for an account.

An account row holds what a provider needs to connect except the secret: the password or token goes
to the OS keyring (`secrets.py`) under `account:<id>`, never into SQLite. The demo account is a
Maildir — a local outbox, not delivered — so a misconfigured demo can never mail a real person.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from sqlalchemy import func, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from lumina_tui import secrets
from lumina_tui.config import Settings
from lumina_tui.providers.base import (
    AccountConfig,
    AuthError,
    Provider,
    ProviderError,
    SignInRequired,
    TransientProviderError,
)
from lumina_tui.providers.imap_inbox import ImapInbox
from lumina_tui.providers.maildir import LABEL as MAILDIR_LABEL
from lumina_tui.providers.registry import (
    AVAILABLE_PROVIDERS,
    KNOWN_PROVIDERS,
    not_available_message,
    open_provider,
)
from lumina_tui.services import email_state, validation
from lumina_tui.services.actors import Actor
from lumina_tui.services.errors import (
    InvalidStateError,
    NotFoundError,
    ProviderFailure,
    StorageError,
    ValidationError,
)
from lumina_tui.services.jsonable import iso
from lumina_tui.store import Database, new_id, utcnow
from lumina_tui.store.db import rows_changed
from lumina_tui.store.models import Account, EmailDraft, UserPreferences
from lumina_tui.store.models import Email as EmailRow

NAME_LIMIT = 100
DEFAULT_MAILDIR_EMAIL = "rep@outbox.test"
SMTP_SECURITY = ("starttls", "ssl", "plain")
SMTP_AUTH = ("password", "xoauth2", "none")
# Every kind may override its mailbox send limits (config: [send_limits.KIND]) per account.
LIMIT_KEYS = {"per_minute", "per_day"}
SETTINGS_KEYS = {
    "maildir": {"path"} | LIMIT_KEYS,
    "smtp": {
        "host",
        "port",
        "security",
        "username",
        "auth",
        "timeout",
        "ca_file",
        "local_hostname",
        "imap",
        "insecure_plaintext",
        "smtputf8",
    }
    | LIMIT_KEYS,
    "gmail": set(LIMIT_KEYS),
    "outlook": {"home_account_id"} | LIMIT_KEYS,
}
IMAP_SECURITY = ("ssl", "starttls", "plain")
IMAP_DEFAULT_PORTS = {"ssl": 993, "starttls": 143, "plain": 143}
IMAP_KEYS = {"host", "port", "security", "username", "folder"}
# Statuses that still need the account: removing it would strand these emails.
# Account statuses: "needs_sign_in" after the provider refused the refresh token (OAuth invalid_grant).
OK = "ok"
NEEDS_SIGN_IN = "needs_sign_in"


def secret_ref_for(account_id: str) -> str:
    return f"account:{account_id}"


def imap_secret_ref_for(account_id: str) -> str:
    """The IMAP password's keyring entry (mailbox sync of an SMTP account): never in SQLite."""
    return f"account:{account_id}:imap"


def label(account: Account) -> str:
    """How the account is shown everywhere: the demo's Maildir says plainly that nothing is delivered."""
    if account.provider == "maildir":
        return MAILDIR_LABEL
    if account.provider == "smtp":
        s = account.settings or {}
        return f"SMTP {s.get('host', '?')}:{s.get('port', '?')} ({s.get('security', '?')})"
    if account.provider == "gmail":
        return "Gmail API (OAuth)"
    if account.provider == "outlook":
        return "Microsoft Graph (OAuth)"
    return account.provider


def as_json(account: Account) -> dict[str, Any]:
    """The account as the CLI prints it. The secret is never included, only whether one is stored."""
    return {
        "id": account.id,
        "name": account.name,
        "provider": account.provider,
        "email": account.email,
        "display_name": account.display_name,
        "label": label(account),
        "delivers": account.provider != "maildir",
        "settings": dict(account.settings or {}),
        "has_secret": account.secret_ref is not None,
        "status": account.status,
        "status_reason": account.status_reason,
        "is_default": account.is_default,
        "is_demo": account.is_demo,
        "created_at": iso(account.created_at),
        "updated_at": iso(account.updated_at),
    }


# -- validation ------------------------------------------------------------------------------------


def _clean_name(name: str | None, email: str) -> str:
    text = validation.header_text((name or "").strip() or email, "name", max_chars=NAME_LIMIT).strip()
    if not text:
        raise ValidationError("name: an account name is required", field="name")
    return text


def _clean_smtp(raw: dict[str, Any], has_secret: bool) -> dict[str, Any]:
    host = str(raw.get("host") or "").strip()
    if not host:
        raise ValidationError("host: an SMTP account needs a host", field="host")
    if any(ch.isspace() for ch in host) or "/" in host or len(host) > 253:
        raise ValidationError(f"host: {host!r} is not a host name or address", field="host")
    port = raw.get("port")
    if port is None or port == "":
        raise ValidationError("port: an SMTP account needs a port (587, 465, 25, ...)", field="port")
    try:
        port_number = int(port)
    except (TypeError, ValueError):
        raise ValidationError(f"port: {port!r} is not a number", field="port") from None
    if isinstance(port, bool) or not 1 <= port_number <= 65535:
        raise ValidationError(f"port: {port!r} is outside 1..65535", field="port")
    security = str(raw.get("security") or "").strip().lower()
    if security not in SMTP_SECURITY:
        raise ValidationError("security: choose starttls, ssl (implicit TLS) or plain", field="security")
    auth = str(raw.get("auth") or ("password" if has_secret else "none")).strip().lower()
    if auth not in SMTP_AUTH:
        raise ValidationError("auth: choose password, xoauth2 or none", field="auth")
    if auth != "none" and not has_secret:
        what = "password" if auth == "password" else "XOAUTH2 token"
        raise ValidationError(f"password: this account logs in, so it needs a {what}", field="password")
    if auth == "none" and has_secret:
        raise ValidationError("auth: a secret was given but auth is none", field="auth")
    clean: dict[str, Any] = {"host": host, "port": port_number, "security": security, "auth": auth}
    if plaintext_login_risk(host, security, auth):
        if raw.get("insecure_plaintext") is not True:
            raise ValidationError(
                f"security: --plain would send the {_secret_word(auth)} unencrypted to {host}, which is "
                "not this machine: anyone on the network path could read it. Use --starttls or --ssl; "
                "pass --insecure-plaintext only if you accept that risk",
                field="security",
            )
        clean["insecure_plaintext"] = True  # the rep's explicit consent, kept with the account
    if raw.get("smtputf8") not in (None, False):
        if raw["smtputf8"] is not True:
            raise ValidationError("smtputf8: must be true or false", field="smtputf8")
        clean["smtputf8"] = True  # the server carries non-ASCII mailbox names
    username = raw.get("username")
    if username not in (None, ""):
        clean["username"] = validation.header_text(str(username).strip(), "username", max_chars=320)
    if raw.get("timeout") not in (None, ""):
        try:
            timeout = float(raw["timeout"])
        except (TypeError, ValueError):
            raise ValidationError("timeout: must be a number of seconds", field="timeout") from None
        if not math.isfinite(timeout) or not 0 < timeout <= 600:
            raise ValidationError("timeout: must be between 0 and 600 seconds", field="timeout")
        clean["timeout"] = timeout
    if raw.get("ca_file") not in (None, ""):
        ca_file = Path(str(raw["ca_file"])).expanduser()
        if not ca_file.is_file():
            raise ValidationError(f"ca_file: {ca_file} is not a file", field="ca_file")
        clean["ca_file"] = str(ca_file.resolve())
    if raw.get("local_hostname") not in (None, ""):
        clean["local_hostname"] = validation.header_text(
            str(raw["local_hostname"]).strip(), "local_hostname", max_chars=253
        )
    if raw.get("imap") not in (None, {}):
        clean["imap"] = _clean_imap(raw["imap"])
        imap_host = clean["imap"]["host"]
        if clean["imap"]["security"] == "plain" and plaintext_login_risk(imap_host, "plain", "password"):
            if raw.get("insecure_plaintext") is not True:  # IMAP always logs in with a password
                raise ValidationError(
                    f"imap_security: plain IMAP would send the password unencrypted to {imap_host}, "
                    "which is not this machine: anyone on the network path could read it. Use ssl "
                    "or starttls; pass --insecure-plaintext only if you accept that risk",
                    field="imap_security",
                )
            clean["insecure_plaintext"] = True
    return clean


def _clean_imap(raw: Any) -> dict[str, Any]:
    """Where an SMTP account's replies and bounces arrive: an IMAP server (mailbox sync reads it)."""
    if not isinstance(raw, dict):
        raise ValidationError("imap_host: IMAP settings must be a table", field="imap_host")
    unknown = sorted(set(raw) - IMAP_KEYS)
    if unknown:
        raise ValidationError(f"imap_{unknown[0]}: not an IMAP setting", field=f"imap_{unknown[0]}")
    host = str(raw.get("host") or "").strip()
    if not host or any(ch.isspace() for ch in host) or "/" in host or len(host) > 253:
        raise ValidationError(f"imap_host: {host!r} is not a host name or address", field="imap_host")
    security = str(raw.get("security") or "ssl").strip().lower()
    if security not in IMAP_SECURITY:
        raise ValidationError("imap_security: choose ssl, starttls or plain", field="imap_security")
    port = raw.get("port")
    try:
        port_number = IMAP_DEFAULT_PORTS[security] if port in (None, "") else int(port)
    except (TypeError, ValueError):
        raise ValidationError(f"imap_port: {port!r} is not a number", field="imap_port") from None
    if isinstance(port, bool) or not 1 <= port_number <= 65535:
        raise ValidationError(f"imap_port: {port!r} is outside 1..65535", field="imap_port")
    clean: dict[str, Any] = {"host": host, "port": port_number, "security": security}
    if raw.get("username") not in (None, ""):
        clean["username"] = validation.header_text(
            str(raw["username"]).strip(), "imap_username", max_chars=320
        )
    folder = str(raw.get("folder") or "INBOX").strip()
    clean["folder"] = validation.header_text(folder, "imap_folder", max_chars=200)
    return clean


def _secret_word(auth: str) -> str:
    return "password" if auth == "password" else "XOAUTH2 token"


def plaintext_login_risk(host: str, security: str, auth: str) -> bool:
    """A login (password or token) without TLS toward a host that is not this machine."""
    from lumina_tui.providers.smtp import is_loopback  # smtplib/ssl only when an SMTP account is added

    return security == "plain" and auth != "none" and not is_loopback(host)


def _clean_limits(raw: dict[str, Any]) -> dict[str, Any]:
    clean: dict[str, Any] = {}
    for key in sorted(LIMIT_KEYS):
        if raw.get(key) in (None, ""):
            continue
        value = raw[key]
        if isinstance(value, bool) or not isinstance(value, int | str):
            raise ValidationError(f"{key}: must be a whole number (0 = no limit)", field=key)
        try:
            number = int(value)
        except ValueError:
            raise ValidationError(f"{key}: {value!r} is not a whole number", field=key) from None
        if number < 0:
            raise ValidationError(f"{key}: cannot be negative (0 = no limit)", field=key)
        clean[key] = number
    return clean


def _clean_settings(provider: str, settings: dict[str, Any] | None, has_secret: bool) -> dict[str, Any]:
    raw = dict(settings or {})
    unknown = sorted(set(raw) - SETTINGS_KEYS[provider])
    if unknown:
        name = unknown[0]
        hint = " (secrets go in `secret`, never in settings)" if "pass" in name or "token" in name else ""
        raise ValidationError(f"{name}: not a {provider} account setting{hint}", field=name)
    limits = _clean_limits(raw)
    if provider == "smtp":
        return {**_clean_smtp({k: v for k, v in raw.items() if k not in LIMIT_KEYS}, has_secret), **limits}
    if provider in ("gmail", "outlook"):
        if not has_secret:
            raise ValidationError(f"secret: a {provider} account needs a sign-in", field="secret")
        clean = dict(limits)
        if raw.get("home_account_id"):
            clean["home_account_id"] = validation.header_text(
                str(raw["home_account_id"]), "home_account_id", max_chars=200
            )
        return clean
    if has_secret:
        raise ValidationError("secret: a maildir account has no password", field="secret")
    clean = dict(limits)
    if raw.get("path") not in (None, ""):
        clean["path"] = str(Path(str(raw["path"])).expanduser().resolve())
    return clean


def _clean_provider(provider: str) -> str:
    name = (provider or "").strip().lower()
    if name not in KNOWN_PROVIDERS:
        raise ValidationError(
            f"provider: {provider!r} is not a provider (choose {', '.join(AVAILABLE_PROVIDERS)})",
            field="provider",
        )
    if name not in AVAILABLE_PROVIDERS:
        raise ValidationError(f"provider: {not_available_message(name)}", field="provider")
    return name


# -- queries ---------------------------------------------------------------------------------------


def _in_workspace(session: Session, actor: Actor) -> list[Account]:
    rows = session.execute(
        select(Account)
        .where(Account.workspace_id == actor.workspace_id)
        .order_by(col(Account.is_default).desc(), func.lower(Account.name))
    ).scalars()
    return list(rows.all())


def _find(session: Session, actor: Actor, ref: str) -> Account | None:
    """By id, then by name (ignoring case), then by email; an email shared by accounts is ambiguous."""
    if not (ref or "").strip():
        return None
    return choose_by_ref(_in_workspace(session, actor), ref)


def choose_by_ref(accounts: list[Account], ref: str) -> Account | None:
    """`_find`'s rule over the workspace's accounts (`_in_workspace`'s order): by id, then by name
    (ignoring case), then by email; an email shared by accounts is ambiguous. Shared with the send's
    sqlite3 path (services/sending.py), which reads the same list its own way."""
    ref = (ref or "").strip()
    if not ref:
        return None
    try:
        account_id: str | None = validation.uuid_text(ref, "account")
    except ValidationError:
        account_id = None
    if account_id is not None:
        by_id = [a for a in accounts if a.id == account_id]
        if by_id:
            return by_id[0]
    by_name = [a for a in accounts if a.name.lower() == ref.lower()]
    if by_name:
        return by_name[0]
    by_email = [a for a in accounts if a.email.lower() == ref.lower()]
    if len(by_email) > 1:
        names = ", ".join(a.name for a in by_email)
        raise ValidationError(f"from: several accounts send as {ref} ({names}); name one", field="from")
    return by_email[0] if by_email else None


def list_accounts(db: Database, actor: Actor) -> list[Account]:
    """Every account of the workspace, the default first, then by name."""
    with db.read() as session:
        return _in_workspace(session, actor)


@validation.checked_arguments
def get_account(db: Database, actor: Actor, account_id: str) -> Account:
    account_id = validation.uuid_text(account_id, "account")
    with db.read() as session:
        account = session.get(Account, account_id)
    if account is None or account.workspace_id != actor.workspace_id:
        raise NotFoundError(f"account {account_id} not found", field="account")
    return account


def choose_default(accounts: list[Account], default_account_id: str | None) -> Account:
    """The account a send uses without `--from`: the rep's chosen default, else the one marked
    default, else the only one; `accounts` in `_in_workspace`'s order."""
    if default_account_id:
        chosen = [a for a in accounts if a.id == default_account_id]
        if chosen:
            return chosen[0]
    defaults = [a for a in accounts if a.is_default]
    if defaults:
        return defaults[0]
    if len(accounts) == 1:
        return accounts[0]
    if not accounts:
        raise ValidationError(
            "from: there is no sending account; add one with `lumina accounts add smtp ...` "
            "(or `lumina demo` for a local outbox)",
            field="from",
        )
    names = ", ".join(a.name for a in accounts)
    raise ValidationError(
        f"from: {len(accounts)} accounts and none is the default ({names}); pass --from NAME "
        "or add one with --default",
        field="from",
    )


def choose_account(accounts: list[Account], default_account_id: str | None, ref: str | None) -> Account:
    """`resolve_account`'s rule over the workspace's accounts, whichever way they were read."""
    if ref is None or not str(ref).strip():
        return choose_default(accounts, default_account_id)
    account = choose_by_ref(accounts, str(ref))
    if account is None:
        raise NotFoundError(f"from: no account {ref!r} (see `lumina accounts list`)", field="from")
    return account


def resolve_account(db: Database, actor: Actor, ref: str | None) -> Account:
    """The account `--from` names (id, name or email), or the default one when `ref` is None."""
    with db.read() as session:
        preferences = session.get(UserPreferences, actor.user_id)
        accounts = _in_workspace(session, actor)
    return choose_account(accounts, preferences.default_account_id if preferences else None, ref)


# -- changes ---------------------------------------------------------------------------------------


def _make_default(session: Session, actor: Actor, account_id: str) -> None:
    session.execute(
        update(Account)
        .where(col(Account.workspace_id) == actor.workspace_id, col(Account.id) != account_id)
        .values(is_default=False, updated_at=utcnow())
    )
    preferences = session.get(UserPreferences, actor.user_id)
    if preferences is None:
        preferences = UserPreferences(user_id=actor.user_id, workspace_id=actor.workspace_id)
    preferences.default_account_id = account_id
    preferences.updated_at = utcnow()
    session.add(preferences)


@validation.checked_arguments
def add_account(
    db: Database,
    actor: Actor,
    *,
    provider: str,
    email: str | None,
    name: str | None = None,
    display_name: str = "",
    settings: dict[str, Any] | None = None,
    secret: str | None = None,
    imap_secret: str | None = None,
    is_demo: bool = False,
    make_default: bool = False,
    account_id: str | None = None,
) -> Account:
    """Validate, store the secret in the keyring (never SQLite), then insert the row.

    An SMTP account with IMAP settings logs in to IMAP with `imap_secret`, or with the SMTP
    password when none is given (the usual case: one mailbox, one password).

    `account_id` lets a caller that must write files named after the account (an Outlook token
    cache) choose the id first.
    """
    provider = _clean_provider(provider)
    if provider == "maildir" and not (email or "").strip():
        email = DEFAULT_MAILDIR_EMAIL
    address = validation.email_address(email, "email")
    account_name = _clean_name(name, address)
    shown_name = validation.header_text((display_name or "").strip(), "display_name", max_chars=NAME_LIMIT)
    if secret is not None and not isinstance(secret, str):
        raise ValidationError("secret: must be text", field="secret")
    secret = secret or None
    if secret is not None and ("\r" in secret or "\n" in secret):
        raise ValidationError(
            "password: a line break is not allowed in a password or token", field="password"
        )
    clean_settings = _clean_settings(provider, settings, secret is not None)
    imap_secret = _imap_secret(clean_settings, imap_secret or None, secret)

    account_id = account_id or new_id()
    ref = secret_ref_for(account_id) if secret is not None else None
    imap_ref = imap_secret_ref_for(account_id) if imap_secret is not None else None
    stored: list[str] = []
    try:
        for key, value in ((ref, secret), (imap_ref, imap_secret)):
            if key is not None and value is not None:
                secrets.set_secret(key, value)
                stored.append(key)
    except (secrets.SecretStoreError, OSError) as exc:
        for key in stored:
            secrets.delete_secret(key)
        raise StorageError(f"password: could not store the secret: {exc}", field="password") from None
    try:
        with db.write() as session:
            if any(a.name.lower() == account_name.lower() for a in _in_workspace(session, actor)):
                raise ValidationError(
                    f"name: an account named {account_name!r} already exists; pass --name", field="name"
                )
            now = utcnow()
            account = Account(
                id=account_id,
                workspace_id=actor.workspace_id,
                user_id=actor.user_id,
                provider=provider,
                name=account_name,
                email=address,
                display_name=shown_name,
                settings=clean_settings,
                secret_ref=ref,
                is_default=make_default,
                is_demo=is_demo,
                created_at=now,
                updated_at=now,
            )
            session.add(account)
            session.flush()
            if make_default:
                _make_default(session, actor, account_id)
            return account
    except IntegrityError:
        for key in stored:
            secrets.delete_secret(key)
        raise ValidationError(
            f"name: an account named {account_name!r} already exists; pass --name", field="name"
        ) from None
    except BaseException:
        for key in stored:
            secrets.delete_secret(key)
        raise


def _imap_secret(settings: dict[str, Any], imap_secret: str | None, secret: str | None) -> str | None:
    """The IMAP password to store: only for an account that has IMAP, which always logs in."""
    if "imap" not in settings:
        if imap_secret is not None:
            raise ValidationError(
                "imap_host: an IMAP password was given without --imap-host", field="imap_host"
            )
        return None
    value = imap_secret if imap_secret is not None else secret
    if not value:
        raise ValidationError(
            "imap_password: IMAP logs in, so it needs a password (--password-stdin, or "
            "--imap-password-stdin when SMTP needs none)",
            field="imap_password",
        )
    if "\r" in value or "\n" in value:
        raise ValidationError(
            "imap_password: a line break is not allowed in a password", field="imap_password"
        )
    return value


@validation.checked_arguments
def remove_account(db: Database, actor: Actor, ref: str) -> Account:
    """Delete the account and its secret; refused while emails from it are still waiting to go."""
    with db.write() as session:
        account = _find(session, actor, ref)
        if account is None:
            raise NotFoundError(f"account {ref!r} not found", field="account")
        pending = session.execute(
            select(func.count())
            .select_from(EmailRow)
            .where(
                EmailRow.workspace_id == actor.workspace_id,
                EmailRow.account_id == account.id,
                col(EmailRow.status).in_(sorted(email_state.UNFINISHED)),
            )
        ).scalar_one()
        if pending:
            raise InvalidStateError(
                f"account: {pending} email(s) from {account.name} are still waiting to send; "
                "cancel them or let them finish first",
                field="account",
            )
        session.execute(
            update(EmailDraft)
            .where(col(EmailDraft.account_id) == account.id)
            .values(account_id=None)
        )
        session.execute(
            update(UserPreferences)
            .where(col(UserPreferences.default_account_id) == account.id)
            .values(default_account_id=None, updated_at=utcnow())
        )
        session.delete(account)
        session.flush()
    if account.provider == "outlook":  # its encrypted token cache (the key goes with the secret below)
        from lumina_tui.config import data_dir
        from lumina_tui.providers.microsoft_oauth import cache_path

        path = cache_path(data_dir() / "tokens", account.id)
        path.unlink(missing_ok=True)
        Path(str(path) + ".lock").unlink(missing_ok=True)
    refs = [account.secret_ref] if account.secret_ref else []
    if (account.settings or {}).get("imap"):
        refs.append(imap_secret_ref_for(account.id))
    for ref in refs:
        try:
            secrets.delete_secret(ref)
        except (secrets.SecretStoreError, OSError) as exc:
            raise StorageError(
                f"account removed, but its secret could not be deleted from the keyring: {exc}",
                field="password",
            ) from None
    return account


def make_default(db: Database, actor: Actor, ref: str) -> Account:
    """New drafts send from this account (`lumina accounts default`, the composer's accounts screen)."""
    with db.write() as session:
        account = _find(session, actor, ref)
        if account is None:
            raise NotFoundError(f"account {ref!r} not found", field="account")
        _make_default(session, actor, account.id)
        account.is_default, account.updated_at = True, utcnow()
        session.add(account)
        session.flush()
    return account


def limits_text(settings: Settings, account: Account) -> str:
    """The account's send limits in words ("20/min · 2000/day", "no limit"): its own, else its kind's."""
    from lumina_tui.services.mailbox_limits import limits_for

    limits = limits_for(settings, account.provider, account)
    parts = [f"{limits.per_minute}/min"] if limits.per_minute else []
    parts += [f"{limits.per_day}/day"] if limits.per_day else []
    return " · ".join(parts) or "no limit"


def status_text(account: Account) -> str:
    """The account's status in a rep's words ("" when all is well)."""
    if account.status == NEEDS_SIGN_IN:
        return "needs sign-in"
    return ""


def choice_label(account: Account) -> str:
    """How the composer lists an account to send from: address, where mail goes, and any trouble."""
    trouble = status_text(account)
    return f"{account.email} · {label(account)}" + (f" · {trouble}" if trouble else "")


def sign_in_hint(account: Account) -> str:
    """The command that fixes a "needs sign-in" account, in the words the outbox and the CLI show."""
    return f"{account.email} must sign in again: `lumina accounts signin {_shell_word(account.name)}`"


def _shell_word(text: str) -> str:
    import shlex

    return shlex.quote(text)


def mark_needs_sign_in(db: Database, account_id: str | None, reason: str) -> bool:
    """The provider refused the account's refresh token: nothing sends until the rep signs in again."""
    if not account_id:
        return False
    with db.write() as session:
        result = session.execute(
            update(Account)
            .where(col(Account.id) == account_id)
            .values(status=NEEDS_SIGN_IN, status_reason=reason, updated_at=utcnow())
        )
        return bool(rows_changed(result))


# -- providers -------------------------------------------------------------------------------------


def account_config(db: Database, account_id: str) -> AccountConfig:
    """What a provider needs, by account id alone (the worker acts in the email's own workspace).

    A keyring that cannot be read right now (locked, busy) is a transient failure: the worker retries.
    """
    with db.read() as session:
        account = session.get(Account, account_id)
    if account is None:
        raise NotFoundError(f"account {account_id} not found", field="account")
    secret: str | None = None
    if account.secret_ref:
        try:
            secret = secrets.get_secret(account.secret_ref)
        except (secrets.SecretStoreError, OSError) as exc:
            raise TransientProviderError(f"cannot read the account's secret: {exc}") from None
    return AccountConfig(
        account_id=account.id,
        provider=account.provider,
        email=account.email,
        display_name=account.display_name,
        settings=dict(account.settings or {}),
        secret=secret,
    )


def open_provider_for(db: Database, settings: Settings, account_id: str) -> Provider:
    """A ready provider for the account; the caller closes it (SMTP keeps its connection open)."""
    return open_provider(account_config(db, account_id), outbox_dir=settings.outbox_dir, settings=settings)


def test_account(db: Database, actor: Actor, ref: str | None, settings: Settings) -> dict[str, Any]:
    """Maildir: the folder is writable. SMTP: connect, EHLO, TLS, login, NOOP (and with IMAP: log
    in and open the folder read-only). Gmail and Outlook:
    refresh the sign-in and read the mailbox's profile (a refused refresh token marks the account
    "needs sign-in", as a send would). Nothing is sent."""
    account = resolve_account(db, actor, ref)
    provider: Provider | None = None
    try:
        provider = open_provider_for(db, settings, account.id)
        check = getattr(provider, "check", None)
        detail = check() if callable(check) else "this provider has no connection test"
        if account.provider == "smtp" and (account.settings or {}).get("imap"):
            inbox = imap_inbox_for(account)
            try:
                detail = f"{detail}; {inbox.check()}"
            finally:
                inbox.close()
    except SignInRequired as exc:
        mark_needs_sign_in(db, account.id, exc.reason)
        raise ProviderFailure(
            f"{account.name}: {exc.reason}; {sign_in_hint(account)}",
            field="account",
            account_id=account.id,
            kind="auth",
        ) from None
    except ProviderError as exc:
        kind = (
            "auth"
            if isinstance(exc, AuthError)
            else "transient"
            if isinstance(exc, TransientProviderError)
            else "permanent"
        )
        raise ProviderFailure(
            f"{account.name}: {exc.reason}", field="account", account_id=account.id, kind=kind
        ) from None
    finally:
        if provider is not None:
            provider.close()
    offers = getattr(provider, "offers_smtputf8", None)
    if account.provider == "smtp" and offers is not None:
        account = _remember_smtputf8(db, account, offers)
    return {"account": as_json(account), "ok": True, "detail": detail}


def imap_inbox_for(account: Account) -> ImapInbox:
    """The IMAP reader of an SMTP account with IMAP settings; its password from the keyring."""
    from lumina_tui.providers.imap_inbox import DEFAULT_TIMEOUT_SECONDS, ImapInbox

    settings = dict(account.settings or {})
    imap = dict(settings.get("imap") or {})
    try:
        password = secrets.get_secret(imap_secret_ref_for(account.id))
    except (secrets.SecretStoreError, OSError) as exc:
        raise TransientProviderError(f"cannot read the IMAP password from the keyring: {exc}") from None
    if not password:
        raise AuthError("no IMAP password is stored for this account; add the account again")
    return ImapInbox(
        host=imap["host"],
        port=imap.get("port"),
        security=imap.get("security", "ssl"),
        username=imap.get("username") or settings.get("username") or account.email,
        password=password,
        folder=imap.get("folder") or "INBOX",
        timeout=float(settings.get("timeout") or DEFAULT_TIMEOUT_SECONDS),
        ca_file=settings.get("ca_file"),
    )


def _remember_smtputf8(db: Database, account: Account, offers: bool) -> Account:
    """Keep what the test found: only a server seen offering SMTPUTF8 gets non-ASCII mailbox names."""
    current = dict(account.settings or {})
    if bool(current.get("smtputf8")) == offers:
        return account
    if offers:
        current["smtputf8"] = True
    else:
        current.pop("smtputf8", None)
    with db.write() as session:
        session.execute(
            update(Account)
            .where(col(Account.id) == account.id)
            .values(settings=current, updated_at=utcnow())
        )
        return session.get(Account, account.id, populate_existing=True) or account


# Not a pytest test, although its name says so (tests import it by name).
test_account.__test__ = False  # type: ignore[attr-defined]  # pytest reads __test__ on any callable
