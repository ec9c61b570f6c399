"""Gmail and Outlook accounts signed in against the fakes, for the chaos tests that run real worker
processes (one at a time, or several sharing a store), and how many copies of each email the
fake mailbox holds (by our X-Lumina-Email-Id header, as Lumina's own check before a retry finds them).

(A module of its own, not conftest.py, so test files can import these names unambiguously.)
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

from fakes.gmail_server import GmailServer
from fakes.graph_server import GraphServer
from fakes.oauth_server import OAuthServer

from lumina_tui.config import Settings
from lumina_tui.providers.google_oauth import GoogleGrant
from lumina_tui.providers.microsoft_oauth import MicrosoftKey, cache_path, sign_in
from lumina_tui.providers.token_cache import EncryptedTokenCache
from lumina_tui.services import accounts
from lumina_tui.services.actors import Actor
from lumina_tui.store import Database, new_id
from lumina_tui.store.models import Account

#: No per-mailbox send limits: a chaos run sends far more per minute than a real mailbox would.
UNLIMITED_ENV = {
    "LUMINA_SEND_LIMITS__GMAIL__PER_MINUTE": "0",
    "LUMINA_SEND_LIMITS__GMAIL__PER_DAY": "0",
    "LUMINA_SEND_LIMITS__OUTLOOK__PER_MINUTE": "0",
    "LUMINA_SEND_LIMITS__OUTLOOK__PER_DAY": "0",
}


def gmail_account(db: Database, actor: Actor, oauth: OAuthServer) -> Account:
    grant = GoogleGrant(oauth.issue_tokens()["refresh_token"])
    return accounts.add_account(
        db, actor, provider="gmail", email=oauth.user, name="Gmail", secret=grant.dumps(), make_default=True
    )


def outlook_account(db: Database, actor: Actor, oauth: OAuthServer, settings: Settings) -> Account:
    """Signed in by the device-code flow; its MSAL cache lives in this LUMINA_HOME's token folder."""
    oauth.device_interval = 0
    signed = sign_in(settings.microsoft, say=lambda _text: None)
    key, account_id = MicrosoftKey.new(), new_id()
    EncryptedTokenCache(cache_path(settings.data_dir / "tokens", account_id), key.cache_key).save(
        signed.cache_text
    )
    return accounts.add_account(
        db,
        actor,
        provider="outlook",
        email=signed.username,
        name="Outlook",
        settings={"home_account_id": signed.home_account_id},
        secret=key.dumps(),
        make_default=True,
        account_id=account_id,
    )


def mailbox_copies(server: GmailServer | GraphServer) -> Callable[[], Counter[str]]:
    """How many sent messages the fake mailbox holds per Lumina email id."""
    if isinstance(server, GmailServer):
        gmail = server
        return lambda: Counter(m.header("X-Lumina-Email-Id") or "" for m in gmail.sent())
    graph = server
    return lambda: Counter(m.header("x-lumina-email-id") or "" for m in graph.sent())
