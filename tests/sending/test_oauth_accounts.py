"""Gmail and Outlook accounts end to end: `lumina accounts add gmail|outlook` signs in against the
local OAuth server (a stand-in browser follows Google's consent page to the loopback redirect; msal's
device-code flow polls the local authority), a real `lumina worker` sends through the Gmail and Graph
fakes, a revoked refresh token (invalid_grant) leaves the account "needs sign-in" and its email
PENDING_SEND with that reason (the CLI shows it), and after `lumina accounts signin` it goes out,
once. No token, refresh token or client secret is ever in the data folder, the logs or the output.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from fakes.gmail_server import GmailServer
from fakes.graph_server import GraphServer
from fakes.oauth_server import OAuthServer, browser_env
from polling import wait_until
from secret_grep import assert_no_secrets
from sending_support import WorkerProcess, lumina_command

from lumina_tui.config import Settings
from lumina_tui.services import email_state, sending
from lumina_tui.services.actors import Actor
from lumina_tui.services.email_state import EmailStatus
from lumina_tui.store import Database
from lumina_tui.store.models import Account, Email, EmailDraft


def lumina(*args: str, env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        lumina_command(*args),
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )


def _email(db: Database, email_id: str) -> Email:
    with db.read() as session:
        row = session.get(Email, email_id)
        assert row is not None
        return row


@pytest.mark.parametrize("kind", ["gmail", "outlook"])
def test_a_revoked_sign_in_waits_and_sends_after_signing_in_again(
    kind: str,
    db: Database,
    actor: Actor,
    settings: Settings,
    make_draft: Callable[..., EmailDraft],
    start_worker: Callable[..., WorkerProcess],
    oauth: OAuthServer,
    gmail: GmailServer,
    graph: GraphServer,
    oauth_env: dict[str, str],
    lumina_home: Path,
    tmp_path: Path,
) -> None:
    oauth.device_interval = 0
    env = browser_env(tmp_path, oauth)
    outputs: list[str] = []

    added = lumina("accounts", "add", kind, "--default", "--json", env=env)
    outputs += [added.stdout, added.stderr]
    assert added.returncode == 0, added.stderr
    account = json.loads(added.stdout)
    assert (account["provider"], account["email"], account["status"]) == (kind, oauth.user, "ok")
    if kind == "outlook":
        assert oauth.device_codes[-1] in added.stderr  # the device code is shown (on stderr)
        assert oauth.grants["urn:ietf:params:oauth:grant-type:device_code"] >= 1
    else:
        assert oauth.grants["authorization_code"] == 1  # the browser came back to the loopback page

    def sent_copies(email_id: str) -> int:
        if kind == "gmail":
            return len(gmail.with_header("X-Lumina-Email-Id", email_id))
        return len([m for m in graph.sent() if m.header("x-lumina-email-id") == email_id])

    start_worker()
    first = sending.send(db, actor, draft_id=make_draft(subject="First").id, settings=settings).email
    wait_until(lambda: _email(db, first.id).status == EmailStatus.SENT, timeout=60)
    row = _email(db, first.id)
    assert sent_copies(first.id) == 1
    assert row.provider_thread_id and row.sent_message_id and row.sent_message_id != row.message_id

    oauth.revoke()
    oauth.expire_access_tokens()
    second = sending.send(db, actor, draft_id=make_draft(subject="Second").id, settings=settings).email
    wait_until(lambda: email_state.status_note(_email(db, second.id)) == "needs sign-in", timeout=60)
    waiting = _email(db, second.id)
    assert waiting.status == EmailStatus.PENDING_SEND and "invalid_grant" in (waiting.last_error or "")
    with db.read() as session:
        stored = session.get(Account, account["id"])
        assert stored is not None and stored.status == "needs_sign_in"
    assert sent_copies(second.id) == 0

    listed = lumina("emails", "list", "--json", env=env)
    outputs += [listed.stdout, listed.stderr]
    [shown] = [item for item in json.loads(listed.stdout)["items"] if item["id"] == second.id]
    assert (shown["status"], shown["status_note"]) == ("PENDING_SEND", "needs sign-in")
    text = lumina("emails", "list", env=env)
    outputs += [text.stdout, text.stderr]
    assert "needs sign-in" in text.stdout
    accounts_text = lumina("accounts", "list", env=env)
    outputs += [accounts_text.stdout]
    assert "needs sign-in" in accounts_text.stdout

    again = lumina("accounts", "signin", account["name"], "--json", env=env)
    outputs += [again.stdout, again.stderr]
    assert again.returncode == 0, again.stderr
    signed = json.loads(again.stdout)
    assert (signed["signed_in_again"], signed["released_emails"], signed["status"]) == (True, 1, "ok")
    wait_until(lambda: _email(db, second.id).status == EmailStatus.SENT, timeout=60)
    assert sent_copies(second.id) == 1

    tested = lumina("accounts", "test", account["name"], "--json", env=env)
    outputs += [tested.stdout, tested.stderr]
    assert tested.returncode == 0 and json.loads(tested.stdout)["ok"] is True

    secrets = oauth.issued_secrets()
    assert len(secrets) >= 4
    assert_no_secrets(secrets, lumina_home, *outputs)


def test_outlook_interactive_sign_in_through_a_browser(
    oauth: OAuthServer, graph: GraphServer, oauth_env: dict[str, str], tmp_path: Path
) -> None:
    added = lumina(
        "accounts",
        "add",
        "outlook",
        "--interactive",
        "--name",
        "Work",
        "--json",
        env=browser_env(tmp_path, oauth),
    )
    assert added.returncode == 0, added.stderr
    account = json.loads(added.stdout)
    assert (account["name"], account["email"], account["provider"]) == ("Work", oauth.user, "outlook")
    assert oauth.grants["authorization_code"] == 1 and "user_code" not in added.stderr
    wrong = lumina(
        "accounts", "add", "outlook", "--interactive", "--email", "someone@else.test", "--json",
        env=browser_env(tmp_path, oauth),
    )  # fmt: skip
    assert wrong.returncode == 2
    # stderr: the sign-in instructions, then the error document (its last line)
    assert json.loads(wrong.stderr.strip().splitlines()[-1])["error"]["field"] == "email"
    assert_no_secrets(
        oauth.issued_secrets(), Path(os.environ["LUMINA_HOME"]), added.stdout, added.stderr, wrong.stderr
    )
