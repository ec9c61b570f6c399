"""Which provider class carries an account's mail, chosen by the account's `provider` field."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from lumina_tui.config import Settings
from lumina_tui.providers.base import AccountConfig, PermanentProviderError, Provider

KNOWN_PROVIDERS = ("maildir", "smtp", "gmail", "outlook")
AVAILABLE_PROVIDERS = ("maildir", "smtp", "gmail", "outlook")
# Accounts whose secret comes from an OAuth sign-in, never from the rep's keyboard.
OAUTH_PROVIDERS = ("gmail", "outlook")
NOT_YET: dict[str, str] = {}


#: Providers that carry a non-ASCII mailbox name (SMTPUTF8) end to end. SMTP does only when the
#: account says its server offers it (`smtputf8` in its settings: `accounts add smtp --smtputf8`).
SMTPUTF8_PROVIDERS = frozenset({"maildir", "gmail", "outlook"})


def supports_smtputf8(provider: str, settings: Mapping[str, Any] | None) -> bool:
    """Can an account of `provider` with these settings send to or from `üser@example.com`?"""
    if provider in SMTPUTF8_PROVIDERS:
        return True
    return provider == "smtp" and (settings or {}).get("smtputf8") is True


def not_available_message(provider: str) -> str:
    label = NOT_YET.get(provider, provider)
    return (
        f"{label} accounts are not available in this build yet; use an SMTP account "
        f"(e.g. smtp.{provider}.com with an app password) or the local maildir outbox"
    )


def open_provider(config: AccountConfig, *, outbox_dir: Path, settings: Settings | None = None) -> Provider:
    """A ready provider for `config`; maildir writes under `settings["path"]`, else `outbox_dir`.

    Gmail and Outlook read their OAuth client and endpoints from `settings` (default: the process's).
    """
    if config.provider == "maildir":
        from lumina_tui.providers.maildir import MaildirProvider

        path = config.settings.get("path") if config.settings else None
        return MaildirProvider(Path(path) if path else outbox_dir)
    if config.provider == "smtp":
        from lumina_tui.providers.smtp import SmtpProvider

        return SmtpProvider(config)
    if config.provider in OAUTH_PROVIDERS:
        from lumina_tui.config import cached_settings

        settings = settings or cached_settings()
        if config.provider == "gmail":
            from lumina_tui.providers.gmail import GmailProvider

            return GmailProvider(config, settings.google)
        from lumina_tui.providers.outlook import OutlookProvider

        return OutlookProvider(config, settings.microsoft, token_dir=settings.data_dir / "tokens")
    if config.provider in NOT_YET:
        raise PermanentProviderError(not_available_message(config.provider))
    raise PermanentProviderError(
        f"unknown provider {config.provider!r} (known: {', '.join(KNOWN_PROVIDERS)})"
    )
