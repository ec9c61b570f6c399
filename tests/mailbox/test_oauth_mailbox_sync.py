"""Gmail and Outlook mailbox sync end to end: `lumina accounts add gmail|outlook` against the local
OAuth server, a real `lumina worker` that sends through the Gmail / Graph fakes and syncs every
0.5 s: a prospect's reply becomes `replied`, a bounce ends BOUNCED with the address suppressed, and
after the stored historyId (Gmail, 404) or delta token (Graph, 410) expires, the worker's resync
records nothing twice. No token or client secret is in the data folder, the logs or the output."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fakes.fixtures import fake_tls, gmail, graph, oauth, oauth_env  # noqa: F401
from fakes.gmail_server import GmailServer
from fakes.graph_server import GraphServer
from fakes.oauth_server import OAuthServer, browser_env
from mailbox_support import event_count, events_of, outcomes, send_to, status_of, suppression_for
from polling import wait_until
from secret_grep import assert_no_secrets
from sending_support import WorkerProcess, lumina_command

from lumina_tui.config import Settings
from lumina_tui.services import mailbox_sync
from lumina_tui.services.actors import Actor
from lumina_tui.services.email_state import EmailStatus
from lumina_tui.store import Database


def lumina(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        lumina_command(*args),
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )


@pytest.mark.parametrize("kind", ["gmail", "outlook"])
def test_the_worker_syncs_replies_and_bounces_and_resyncs_an_expired_cursor_without_duplicates(
    kind: str,
    db: Database,
    actor: Actor,
    settings: Settings,
    start_worker: Callable[..., WorkerProcess],
    oauth: OAuthServer,  # noqa: F811
    gmail: GmailServer,  # noqa: F811
    graph: GraphServer,  # noqa: F811
    oauth_env: dict[str, str],  # noqa: F811
    lumina_home: Path,
    tmp_path: Path,
) -> None:
    oauth.device_interval = 0
    env = browser_env(tmp_path, oauth)
    added = lumina("accounts", "add", kind, "--default", "--json", env=env)
    assert added.returncode == 0, added.stderr
    account = json.loads(added.stdout)

    def sent_copy(email_id: str) -> Any:
        if kind == "gmail":
            return gmail.with_header("X-Lumina-Email-Id", email_id)[0]
        return next(m for m in graph.sent() if m.header("x-lumina-email-id") == email_id)

    server: Any = gmail if kind == "gmail" else graph
    worker = start_worker({"LUMINA_WORKER__MAILBOX_SYNC_INTERVAL_SECONDS": "0.5"})
    answered = send_to(db, actor, settings, "ana@brightwave.example")
    bounced = send_to(db, actor, settings, "ben@brightwave.example")
    for email in (answered, bounced):
        wait_until(lambda e=email: status_of(db, e.id) == EmailStatus.SENT, timeout=60)

    server.reply(sent_copy(answered.id), text="Sounds good, Thursday works.")
    server.bounce(sent_copy(bounced.id), recipient="ben@brightwave.example")

    wait_until(lambda: status_of(db, bounced.id) == EmailStatus.BOUNCED, timeout=60)
    wait_until(lambda: events_of(db, answered.id, "replied"), timeout=60)
    (replied,) = events_of(db, answered.id, "replied")
    assert replied.provider == kind
    assert replied.event_data["snippet"] == "Sounds good, Thursday works."
    assert replied.event_data["matched_by"] == "in-reply-to"  # the provider's Message-ID, not ours
    assert suppression_for(db, "ben@brightwave.example") is not None
    recorded = event_count(db)

    def cursor() -> dict[str, Any]:
        return mailbox_sync.cursor_status(db, actor, account["id"]).get(kind, {})

    if kind == "gmail":
        gmail.expire_history()
        current = str(gmail.mailbox().history_id)
        # The stored historyId now answers 404; the worker lists the inbox again and moves on.
        wait_until(lambda: cursor().get("cursor", {}).get("history_id") == current, timeout=60)
    else:
        before = cursor()["cursor"]["delta_link"]
        graph.expire_delta_tokens()
        wait_until(lambda: cursor().get("cursor", {}).get("delta_link") not in (None, before), timeout=60)
    assert cursor()["last_error"] is None
    assert event_count(db) == recorded
    assert outcomes(db, answered.id) == ["sent", "replied"]
    assert outcomes(db, bounced.id) == ["sent", "bounced"]

    worker.stop()
    assert "full resync" in (settings.log_dir / "worker.log").read_text()
    assert_no_secrets(oauth.issued_secrets(), lumina_home, added.stdout, added.stderr)
