"""Every delivery step is an event: `queued` at send, then one event per attempt with its outcome.

A real `lumina worker` delivers to a real SMTP server that answers 451 twice to one recipient and
550 to another; `lumina emails show --json` (the outbox timeline's source) must then list each step
in order, with the attempt number, the result and, for failures, the server's reason.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from click.testing import CliRunner
from polling import wait_until
from sending_support import TimedSink, WorkerProcess

from lumina_tui.cli import main
from lumina_tui.config import Settings
from lumina_tui.services import outbox, sending
from lumina_tui.services.actors import Actor
from lumina_tui.services.email_state import EmailStatus
from lumina_tui.store import Database
from lumina_tui.store.models import Account, EmailDraft


def timeline(email_id: str) -> list[dict]:
    result = CliRunner().invoke(main, ["emails", "show", email_id, "--json"], catch_exceptions=False)
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)["events"]


def steps(events: list[dict]) -> list[tuple]:
    return [(e["event_type"], e["data"].get("attempt"), e["data"].get("result")) for e in events]


def test_each_attempt_is_an_event_with_its_outcome(
    db: Database,
    actor: Actor,
    settings: Settings,
    sink: TimedSink,
    smtp_account: Account,
    make_draft: Callable[..., EmailDraft],
    start_worker: Callable[..., WorkerProcess],
) -> None:
    sink.fail_rcpt("busy@later.example", "451 4.3.0 Mailbox busy, try again later", times=2)
    sink.fail_rcpt("gone@nowhere.example", "550 5.1.1 No such user here")
    busy, gone = (
        sending.send(db, actor, draft_id=make_draft().id, to_email=address, settings=settings)
        for address in ("busy@later.example", "gone@nowhere.example")
    )
    # The queued event is written by the send transaction itself, before any worker runs.
    assert steps(timeline(busy.email.id)) == [("queued", None, None)]
    start_worker()
    wait_until(lambda: outbox.get_email(db, actor, busy.email.id).status == EmailStatus.SENT, timeout=30)
    wait_until(lambda: outbox.get_email(db, actor, gone.email.id).status == EmailStatus.FAILED, timeout=30)

    busy_events = timeline(busy.email.id)
    assert steps(busy_events) == [
        ("queued", None, None),
        ("deferred", 1, "transient_failure"),
        ("deferred", 2, "transient_failure"),
        ("sent", 3, "sent"),
    ]
    for deferred in busy_events[1:3]:
        assert "451 4.3.0 Mailbox busy" in deferred["data"]["reason"]
        assert deferred["data"]["code"] == 451 and deferred["data"]["next_attempt_at"]
    assert busy_events[0]["data"]["provider"] == "smtp"
    assert len({e["provider_event_id"] for e in busy_events}) == 4

    gone_events = timeline(gone.email.id)
    assert steps(gone_events) == [("queued", None, None), ("failed", 1, "permanent_failure")]
    assert "550 5.1.1 No such user here" in gone_events[1]["data"]["reason"]
    # The human view shows the same steps.
    human = CliRunner().invoke(main, ["emails", "show", busy.email.id], catch_exceptions=False)
    assert [line.split()[2] for line in human.stdout.splitlines() if line.startswith("  20")] == [
        "queued", "deferred", "deferred", "sent",
    ]  # fmt: skip
