"""The outbox's `s` key reads the mailboxes (real Postfix + Dovecot) in a thread worker: a real bounce
turns the row into "Bounced" and a reply shows its words, as text (never as markup)."""

from __future__ import annotations

import pytest
from mail_servers import PROSPECT_USER, MailServers
from mailbox_support import reply_to, send_to, tag
from polling import pilot_wait_until, wait_until
from test_real_mail_servers import DOMAIN, append_to_inbox
from textual.app import App
from textual.widgets import DataTable

from lumina_tui.services import outbox
from lumina_tui.services.email_state import EmailStatus
from lumina_tui.services.runtime import Runtime, open_runtime
from lumina_tui.store.models import Account
from lumina_tui.tui.screens.outbox import OutboxScreen
from lumina_tui.worker import tasks
from lumina_tui.worker.provider_pool import ProviderPool

pytestmark = pytest.mark.anyio


class OutboxHost(App[None]):
    MODES = {"outbox": OutboxScreen}

    def __init__(self, runtime: Runtime) -> None:
        super().__init__()
        self.runtime = runtime

    def on_mount(self) -> None:
        self.switch_mode("outbox")


async def test_s_syncs_a_real_bounce_and_a_reply_into_the_outbox(
    settings, mail_servers: MailServers, rep_account: Account
) -> None:
    rt = open_runtime(settings)
    ctx = tasks.WorkerRuntime(
        settings=rt.settings,
        db=rt.db,
        worker_id=tasks.new_worker_id(),
        providers=ProviderPool(rt.db, settings),
    )
    bounced = send_to(rt.db, rt.actor, settings, f"nobody-{tag()}@{DOMAIN}", subject="Bounce me")
    answered = send_to(rt.db, rt.actor, settings, f"{PROSPECT_USER}+{tag()}@{DOMAIN}", subject="Answer me")
    assert tasks.send_email(ctx, bounced.id) == tasks.send_email(ctx, answered.id) == "sent"
    ctx.providers.close_all()
    append_to_inbox(mail_servers, reply_to(answered, "[bold]Yes[/bold], Tuesday works.\n\n> Hi Ana\n"))
    # Postfix's bounce reaches the Maildir on its own time: wait for the file, not for a guess.
    wait_until(
        lambda: any(
            bounced.id in p.read_text(errors="replace") for p in (mail_servers.maildir / "new").iterdir()
        ),
        timeout=60,
    )

    async with OutboxHost(rt).run_test(size=(120, 32)) as pilot:
        screen = pilot.app.screen
        assert isinstance(screen, OutboxScreen)
        table = screen.query_one(DataTable)
        await pilot_wait_until(pilot, lambda: table.row_count == 2)
        await pilot.press("s")
        await pilot_wait_until(pilot, lambda: "↩ Bounced" in [str(table.get_row_at(i)[0]) for i in range(2)])
        assert outbox.get_email(rt.db, rt.actor, bounced.id).status == EmailStatus.BOUNCED

        # Newest first: the reply's email is the top row; its events show the prospect's words.
        table.move_cursor(row=0)
        await pilot_wait_until(
            pilot, lambda: "replied" in str(screen.query_one("#outbox-detail-text").content)
        )
        text = str(screen.query_one("#outbox-detail-text").content)
        assert "[bold]Yes[/bold], Tuesday works." in text
        assert "> Hi Ana" not in text
        table.move_cursor(row=1)
        await pilot_wait_until(
            pilot, lambda: "hard bounce · 5.1.1" in str(screen.query_one("#outbox-detail-text").content)
        )
        assert "suppression list" in str(screen.query_one("#outbox-detail-text").content)
