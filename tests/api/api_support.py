"""Shared pieces of the API tests: an app over the test's real store, signed-in workspaces, a send
through the endpoints, access-token claims. The fixtures built from them are in conftest.py."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi.testclient import TestClient

from lumina_tui.api.app import create_app
from lumina_tui.services import accounts, team
from lumina_tui.services.actors import Actor

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


@dataclass
class Sent:
    """What `send_through_api` made: the prospect, the sent draft and the queued email."""

    prospect_id: str
    draft_id: str
    email: dict[str, Any]


def send_through_api(
    api: TestClient,
    ws: Workspace,
    *,
    to: str = "ana@bright.test",
    subject: str = "Hi",
    body: str = "Hi Ana",
) -> Sent:
    """A prospect, a draft to them from the workspace's account and its send, all through the
    endpoints (each step must succeed: a failure shows the endpoint's answer, not a KeyError)."""
    prospect = api.post("/prospects", headers=ws.headers, json={"email": to, "first_name": "Ana"})
    assert prospect.status_code == 201, prospect.text
    draft = api.post(
        "/emails/draft",
        headers=ws.headers,
        json={
            "prospect_id": prospect.json()["id"],
            "subject": subject,
            "body": body,
            "account_id": ws.account_id,
        },
    )
    assert draft.status_code == 201, draft.text
    email = api.post("/emails/send", headers=ws.headers, json={"draft_id": draft.json()["id"]})
    assert email.status_code == 202, email.text
    return Sent(prospect.json()["id"], draft.json()["id"], email.json())


def access_claims(actor: Actor, **changes: Any) -> dict[str, Any]:
    """The claims of a valid five-minute access token for `actor`, with `changes` applied (an
    expired, foreign or malformed token is these claims with one thing changed)."""
    from datetime import UTC, datetime, timedelta

    now = datetime.now(UTC)
    claims: dict[str, Any] = {
        "iss": team.ISSUER,
        "aud": team.AUDIENCE,
        "sub": actor.user_id,
        "wid": actor.workspace_id,
        "iat": now,
        "exp": now + timedelta(minutes=5),
    }
    return {**claims, **changes}


# -- a real `lumina serve` process -----------------------------------------------------------------

import os  # noqa: E402
import signal  # noqa: E402
import socket  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import httpx  # noqa: E402


def lumina_command(*args: str) -> list[str]:
    script = Path(sys.executable).with_name("lumina")
    if script.exists():
        return [str(script), *args]
    return [sys.executable, "-c", "from lumina_tui.cli import main; main(prog_name='lumina')", *args]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def run_cli(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(lumina_command(*args), input=stdin, capture_output=True, text=True, timeout=120)


class ServerProcess:
    """`lumina serve` on 127.0.0.1 and a free port, in the test's LUMINA_HOME; ready when /healthz is."""

    def __init__(self, *extra: str) -> None:
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.extra = extra
        self.proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> ServerProcess:
        self.proc = subprocess.Popen(
            lumina_command("serve", "--port", str(self.port), *self.extra),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env=dict(os.environ),
        )
        deadline = time.monotonic() + 90
        while True:
            if self.proc.poll() is not None:
                output = self.proc.stdout.read().decode(errors="replace") if self.proc.stdout else ""
                raise AssertionError(f"lumina serve exited with {self.proc.returncode}: {output}")
            try:
                if httpx.get(f"{self.base_url}/healthz", timeout=5).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError("lumina serve did not answer /healthz within 90 s")
            time.sleep(0.05)  # polling a condition with a generous deadline, not a timing assumption

    def __exit__(self, *exc: object) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=30)


def rows_snapshot(db: Any) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every Lumina table, read through the store's own engine (SQLite or PostgreSQL),
    so "nothing changed" is checked the same way on both."""
    from sqlalchemy import select
    from sqlmodel import SQLModel

    with db.read() as session:
        return {
            table.name: sorted((tuple(row) for row in session.execute(select(table))), key=repr)
            for table in SQLModel.metadata.sorted_tables
        }
