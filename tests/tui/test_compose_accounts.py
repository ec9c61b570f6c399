"""The composer and a Gmail account whose sign-in Google revoked: "Check the sending account" (palette)
says what is wrong and which command fixes it, marks the account, and the From selector then shows
"needs sign-in". The account's provider runs for real against the Gmail and OAuth fakes.
"""

from __future__ import annotations

import pytest
from compose_support import (
    WIDE,
    composer,
    draft_for,
    make_app,
    prospect_by_email,
    seeded_runtime,
)
from fakes.oauth_server import OAuthServer
from polling import pilot_wait_until

from lumina_tui.providers.google_oauth import GoogleGrant
from lumina_tui.services import accounts
from lumina_tui.store.models import Account
from lumina_tui.tui.palette import COMMANDS

pytestmark = pytest.mark.anyio

ANA = "ana.okafor@brightwave.example"


async def test_checking_a_revoked_gmail_account_says_sign_in_again(
    oauth: OAuthServer, oauth_env: dict[str, str]
) -> None:
    assert any(command.action == "check_account" for command in COMMANDS)
    runtime = seeded_runtime()
    grant = GoogleGrant(oauth.issue_tokens()["refresh_token"])
    account = accounts.add_account(
        runtime.db,
        runtime.actor,
        provider="gmail",
        email=oauth.user,
        name="Work Gmail",
        secret=grant.dumps(),
        make_default=True,
    )
    draft = draft_for(runtime, prospect_by_email(runtime, ANA), "hello")
    app = make_app(runtime, draft_id=draft.id)
    async with app.run_test(size=WIDE) as pilot:
        screen = composer(app)
        await pilot_wait_until(pilot, lambda: screen.account_id == account.id)

        await app.run_action("check_account", screen)
        await pilot_wait_until(
            pilot, lambda: any("signed in as" in str(n.message) for n in app._notifications)
        )

        oauth.revoke()
        oauth.expire_access_tokens()
        await app.run_action("check_account", screen)
        await pilot_wait_until(
            pilot, lambda: any("lumina accounts signin" in str(n.message) for n in app._notifications)
        )
        assert any("or f9 (Accounts)" in str(n.message) for n in app._notifications)
        with runtime.db.read() as session:
            stored = session.get(Account, account.id)
            assert stored is not None and stored.status == accounts.NEEDS_SIGN_IN

        screen._refresh_choices()
        await pilot_wait_until(
            pilot,
            lambda: any(
                a.id == account.id and accounts.choice_label(a).endswith("needs sign-in")
                for a in getattr(screen, "_accounts", [])
            ),
        )
