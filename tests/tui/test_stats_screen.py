"""The stats screen (f5): snapshots at 120x40 and 80x24 on a fixed workspace and clock."""

from __future__ import annotations

import sys
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from polling import pilot_wait_until
from snapshot_sizes import snapshot_sizes
from textual.pilot import Pilot

from lumina_tui.services import accounts, consumers, events
from lumina_tui.services.outcome_consumers import default_consumers
from lumina_tui.services.runtime import Runtime, open_runtime
from lumina_tui.store.models import Template
from lumina_tui.tui.app import LuminaApp

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "outcomes"))
from outcome_support import insert_emails

DAY0 = datetime(2026, 11, 2, 9, 0)


@pytest.fixture
def stats_runtime(settings) -> Runtime:
    rt = open_runtime(settings)
    account = accounts.add_account(
        rt.db, rt.actor, provider="maildir", email="rep@stats.test", make_default=True
    )
    names = ["Freight intro", "Demo follow-up", "Case study <b>[bold]"]
    ids = [f"00000000-0000-4000-8000-00000000000{i}" for i in range(len(names))]
    with rt.db.write() as s:  # the store has no template editor yet: plain rows
        for template_id, name in zip(ids, names, strict=True):
            s.add(Template(id=template_id, workspace_id=rt.actor.workspace_id, name=name))
    seeded = insert_emails(
        rt.db, rt.actor.workspace_id, rt.actor.user_id, 60, seed=3, template_ids=ids, account_ids=[account.id]
    )
    with rt.db.write() as s:
        for i, email_id in enumerate(seeded.email_ids):
            sent_at = DAY0 + timedelta(days=i % 12, minutes=i)
            events.append_event(
                s,
                workspace_id=rt.actor.workspace_id,
                email_id=email_id,
                event_type="sent",
                provider_event_id=f"{email_id}:sent",
                occurred_at=sent_at,
            )
            if i % 3 == 0:
                events.append_event(
                    s,
                    workspace_id=rt.actor.workspace_id,
                    email_id=email_id,
                    event_type="replied",
                    provider="imap",
                    provider_event_id=f"{email_id}:r",
                    data={"from": f"p{i}@example.com", "subject": f"Re: note {i}"},
                    occurred_at=sent_at + timedelta(hours=5),
                )
            if i % 17 == 5:
                events.append_event(
                    s,
                    workspace_id=rt.actor.workspace_id,
                    email_id=email_id,
                    event_type="bounced",
                    provider="imap",
                    provider_event_id=f"{email_id}:b",
                    data={"status": "5.1.1", "recipient": f"p{i}@example.com", "diagnostic": "user unknown"},
                    occurred_at=sent_at + timedelta(minutes=2),
                )
    consumers.run_until_caught_up(rt.db, default_consumers())
    return rt


def lumina(runtime: Runtime) -> LuminaApp:
    app = LuminaApp(runtime, handle_signals=False, clock=lambda: 1000.0)
    app.stats_today = date(2026, 11, 15)  # type: ignore[attr-defined]
    return app


@snapshot_sizes((120, 40), (80, 24))
def test_snapshot_stats(stats_runtime, snap_compare, size):
    async def run_before(pilot: Pilot) -> None:
        from lumina_tui.tui.screens.stats import StatsScreen

        await pilot.press("f5")
        await pilot_wait_until(
            pilot, lambda: isinstance(pilot.app.screen, StatsScreen) and pilot.app.screen.loads > 0
        )
        await pilot.pause()

    assert snap_compare(lumina(stats_runtime), terminal_size=size, run_before=run_before)


@pytest.mark.anyio
async def test_stats_screen_marks_alerts_read(stats_runtime):
    from lumina_tui.services import stats
    from lumina_tui.tui.screens.stats import StatsScreen

    before = stats.unread_alerts(stats_runtime.db, stats_runtime.actor)["unread"]
    assert before > 0
    app = lumina(stats_runtime)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("f5")
        await pilot_wait_until(pilot, lambda: isinstance(app.screen, StatsScreen) and app.screen.loads > 0)
        screen = app.screen
        assert screen.doc is not None and screen.doc["alerts"]["unread"] == before
        loads = screen.loads
        await pilot.press("r")
        await pilot_wait_until(pilot, lambda: screen.loads > loads and screen.doc["alerts"]["unread"] == 0)
    assert stats.unread_alerts(stats_runtime.db, stats_runtime.actor)["unread"] == 0


@pytest.mark.anyio
async def test_an_alert_arrives_in_the_composer(settings):
    from lumina_tui.tui.widgets.status_bar import StatusBar

    rt = open_runtime(settings)
    seeded = insert_emails(rt.db, rt.actor.workspace_id, rt.actor.user_id, 2, seed=5)
    with rt.db.write() as s:  # a reply from before the app started: counted, not announced
        events.append_event(
            s,
            workspace_id=rt.actor.workspace_id,
            email_id=seeded.email_ids[0],
            event_type="replied",
            provider="imap",
            provider_event_id="old-reply",
            data={"from": "old@example.com", "subject": "Re: old"},
        )
    consumers.run_until_caught_up(rt.db, default_consumers())
    app = LuminaApp(rt, handle_signals=False, clock=lambda: 1000.0)
    async with app.run_test(size=(100, 30)) as pilot:
        watch = app.alert_watch
        await pilot_wait_until(pilot, lambda: watch.polls >= 1 and app.composer is not None)
        bar = app.composer.query_one(StatusBar)
        await pilot_wait_until(pilot, lambda: bar.alerts == 1)
        assert not list(app._notifications)
        with rt.db.write() as s:  # mailbox sync finds a reply while the rep is composing
            events.append_event(
                s,
                workspace_id=rt.actor.workspace_id,
                email_id=seeded.email_ids[1],
                event_type="replied",
                provider="imap",
                provider_event_id="new-reply",
                data={"from": "ana@brightwave.example", "subject": "Re: [b]freight[/b]"},
            )
        consumers.run_until_caught_up(rt.db, default_consumers())
        await pilot_wait_until(pilot, lambda: bar.alerts == 2, timeout=20)
        await pilot_wait_until(
            pilot, lambda: any("ana@brightwave.example" in n.title for n in app._notifications)
        )
        note = next(n for n in app._notifications if "ana@brightwave.example" in n.title)
        assert note.message == "Re: [b]freight[/b]"  # stored text, shown as text
        assert "2 alerts" in str(bar.render())
