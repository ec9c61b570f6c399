"""Shared pieces of the API tests: an app over the test's real SQLite store, signed-in workspaces."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi.testclient import TestClient

from lumina_tui.api.app import create_app
from lumina_tui.services import accounts, team
from lumina_tui.services.context import Actor

PASSWORD = "api-test-password-1"


@dataclass
class Workspace:
    actor: Actor
    email: str
    token: str
    refresh_token: str
    account_id: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def team_workspace(db: Any, name: str, email: str) -> Workspace:
    """A team workspace with its owner signed in and a local (maildir) sending account."""
    actor, _user = team.new_team(db, name=name, owner_email=email, password=PASSWORD)
    pair = team.sign_in(db, email=email, password=PASSWORD, key=team.signing_key())
    account = accounts.add_account(db, actor, provider="maildir", name="outbox", email=email)
    return Workspace(actor, email, pair.access_token, pair.refresh_token, account.id)


def client_for(settings: Any, db: Any) -> TestClient:
    return TestClient(create_app(settings, db=db), raise_server_exceptions=False)
