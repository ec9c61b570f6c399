"""Open providers, kept per worker thread and account, so an SMTP connection is reused between sends.

A provider is reopened when its account row changed (new password, new host) and dropped after a
failure, because a failing connection is rarely worth keeping.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from datetime import datetime

from sqlmodel import col, select

from lumina_tui.config import Settings
from lumina_tui.providers.base import Provider, SignInRequired
from lumina_tui.services import accounts
from lumina_tui.services.errors import NotFoundError
from lumina_tui.store import Database
from lumina_tui.store.models import Account

log = logging.getLogger(__name__)


#: An account row's version and status, as read in the caller's transaction.
AccountSeen = tuple[datetime, str]


class AccountGone(Exception):
    """The email's sending account was removed after the email was queued."""


class ProviderPool:
    def __init__(self, db: Database, settings: Settings) -> None:
        self.db = db
        self.settings = settings
        self._local = threading.local()
        self._all: list[Provider] = []
        self._lock = threading.Lock()

    def _cache(self) -> dict[str, tuple[datetime, Provider]]:
        cache = getattr(self._local, "cache", None)
        if cache is None:
            cache = self._local.cache = {}
        return cache

    def get(self, account_id: str | None, *, seen: AccountSeen | None = None) -> Provider:
        """This thread's open provider for the account, reopened if the account row changed.

        `seen`: the account's (updated_at, status) as the caller just read them in its own
        transaction (the drain's batch claim does), so no read is made here; else two columns by
        a plain read (the whole row through a Session cost ~9% of a worker's time per email, and
        the plain read itself ~12% before the claim carried it: issue 14 point 3).
        """
        if not account_id:
            raise AccountGone("the email has no sending account")
        found: tuple[datetime, str] | None = seen
        if found is None:
            with self.db.reader.connect() as conn:
                row = conn.execute(
                    select(Account.updated_at, Account.status).where(col(Account.id) == account_id)
                ).first()
            found = None if row is None else (row[0], row[1])
        if found is None:
            raise AccountGone(f"the sending account {account_id} was removed")
        updated_at, status = found
        if status == accounts.NEEDS_SIGN_IN:
            with self.db.read() as session:
                account = session.get(Account, account_id)
            if account is None:
                raise AccountGone(f"the sending account {account_id} was removed")
            raise SignInRequired(account.status_reason or accounts.sign_in_hint(account))
        cache = self._cache()
        cached = cache.get(account_id)
        if cached is not None and cached[0] == updated_at:
            return cached[1]
        if cached is not None:
            self._close(cached[1])
        try:
            provider = accounts.open_provider_for(self.db, self.settings, account_id)
        except NotFoundError as exc:
            raise AccountGone(exc.message) from None
        cache[account_id] = (updated_at, provider)
        with self._lock:
            self._all.append(provider)
        return provider

    def discard(self, account_id: str | None) -> None:
        """Forget this thread's provider for the account (after a failure)."""
        if not account_id:
            return
        cached = self._cache().pop(account_id, None)
        if cached is not None:
            self._close(cached[1])

    def _close(self, provider: Provider) -> None:
        with contextlib.suppress(Exception):
            provider.close()
        with self._lock, contextlib.suppress(ValueError):
            self._all.remove(provider)

    def close_all(self) -> None:
        with self._lock:
            providers, self._all = self._all, []
        for provider in providers:
            with contextlib.suppress(Exception):
                provider.close()
