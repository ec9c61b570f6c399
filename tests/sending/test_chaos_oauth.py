"""Chaos on Gmail and Outlook: real `lumina worker` processes SIGKILLed at random moments while they
send through the Gmail and Graph fakes, restarted, again and again. Unlike SMTP, these providers can
be asked whether they already have a message, so the check before a retry (find_sent, by our
X-Lumina-Email-Id header) closes the window between the provider's acceptance and the SENT commit:
at the end every email is SENT, each reached the mailbox exactly once (0 duplicates), none is lost.

The fakes hold every send's answer a little after accepting it (accept, then answer late), so many
kills land exactly in that window; the test prints kills, emails, duplicates and how many sends the
check found already done.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable

import pytest
from chaos_scale import sized
from fakes.gmail_server import GmailServer
from fakes.graph_server import GraphServer
from fakes.oauth_server import OAuthServer
from mailbox_accounts import UNLIMITED_ENV, gmail_account, mailbox_copies, outlook_account
from polling import wait_until
from sending_support import WorkerProcess
from sqlalchemy import select

from lumina_tui.config import load_settings
from lumina_tui.services import sending
from lumina_tui.services.actors import Actor
from lumina_tui.services.email_state import EmailStatus
from lumina_tui.store import Database
from lumina_tui.store.models import Email, EmailDraft, EmailEvent

pytestmark = pytest.mark.chaos  # make chaos at full size; make test at a smaller one (chaos_scale.py)

EMAILS = sized(80, 40)
MIN_KILLS = sized(8, 5)
MAX_KILLS = sized(16, 12)
HOLD_SECONDS = 0.15  # how long the fake holds its answer after accepting a send
CHAOS_ENV = {
    # Killed workers' claims are taken back by the sweep because their process is gone; a long
    # lease keeps a slow (loaded CI) but living worker's claim its own.
    "LUMINA_WORKER__LEASE_SECONDS": "30",
    "LUMINA_WORKER__SWEEP_INTERVAL_SECONDS": "0.3",
    **UNLIMITED_ENV,
}


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["gmail", "outlook"])
def test_sigkill_chaos_on_oauth_mailboxes_loses_nothing_and_duplicates_nothing(
    kind: str,
    db: Database,
    actor: Actor,
    make_draft: Callable[..., EmailDraft],
    start_worker: Callable[..., WorkerProcess],
    oauth: OAuthServer,
    gmail: GmailServer,
    graph: GraphServer,
    oauth_env: dict[str, str],
    child_readable_secrets: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name, value in CHAOS_ENV.items():
        monkeypatch.setenv(name, value)
    settings = load_settings()
    if kind == "gmail":
        gmail_account(db, actor, oauth)
        server: GmailServer | GraphServer = gmail
    else:
        outlook_account(db, actor, oauth, settings)
        server = graph
    copies = mailbox_copies(server)

    # Accept, then answer late: the window in which a kill leaves a sent message unrecorded.
    server.inject_fault("send", delay=HOLD_SECONDS, apply=True, times=None)
    rng = random.Random(20261203)
    ids = [
        sending.send(
            db, actor, draft_id=make_draft(subject=f"Chaos {n:03d} — Grüße").id, settings=settings
        ).email.id
        for n in range(EMAILS)
    ]

    def statuses() -> dict[str, str]:
        with db.read() as session:
            return dict(session.execute(select(Email.id, Email.status)).all())  # type: ignore[arg-type]

    def unsent() -> int:
        return sum(1 for status in statuses().values() if status != EmailStatus.SENT)

    kills = 0
    caught: set[str] = set()  # emails the mailbox had while their row was not SENT when a kill landed
    started = time.monotonic()
    while unsent() and (kills < MIN_KILLS or (not caught and kills < MAX_KILLS)):
        before = server.calls("send")
        worker = start_worker(env=CHAOS_ENV)
        # Once this worker is sending, a random moment of its life: the chaos itself.
        wait_until(lambda b=before: server.calls("send") > b or unsent() == 0, timeout=120)
        time.sleep(rng.uniform(0.0, 1.0))
        worker.kill()
        kills += 1
        now = statuses()
        caught |= {email_id for email_id in copies() if now.get(email_id) != EmailStatus.SENT}
    final = start_worker(env=CHAOS_ENV)
    wait_until(lambda: unsent() == 0, timeout=180)
    final.stop()
    elapsed = time.monotonic() - started

    with db.read() as session:
        rows = {row.id: row for row in session.execute(select(Email)).scalars()}
        sent_events = list(
            session.execute(select(EmailEvent).where(EmailEvent.event_type == "sent")).scalars()  # type: ignore[arg-type]
        )
    assert set(rows) == set(ids) and {row.status for row in rows.values()} == {EmailStatus.SENT}
    received = copies()
    duplicates = {email_id: n - 1 for email_id, n in received.items() if n > 1}
    lost = [email_id for email_id in ids if received[email_id] == 0]
    recovered = {event.email_id for event in sent_events if event.event_data.get("recovered")}
    interrupted = sum(1 for row in rows.values() if row.attempts > 1)
    print(
        f"\nchaos {kind}: {EMAILS} emails, {kills} SIGKILLs in {elapsed:.1f} s; "
        f"{sum(received.values())} messages in the mailbox, {sum(duplicates.values())} duplicates, "
        f"{len(lost)} lost; {len(caught)} emails accepted but unrecorded when a kill landed, all "
        f"{len(recovered)} found by the check before the retry; {interrupted} emails retried in all"
    )
    assert not lost, f"lost: {lost[:5]}"
    assert not duplicates, f"duplicates: {duplicates}"
    assert set(received) == set(ids)
    assert caught, "no kill landed between acceptance and the SENT commit: the window was not tested"
    assert caught <= recovered  # each one was finished by asking the mailbox, not by sending again
    for row in rows.values():  # what reply matching needs is on every row
        assert row.provider_message_id and row.provider_thread_id and row.sent_message_id
    assert kills >= MIN_KILLS
