"""The Outbox screen (f4) with the real send service, the real worker handlers and a real SMTP sink."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, timedelta

import pytest
from compose_support import record_notes
from polling import pilot_wait_until
from smtp_sink import SmtpSink
from snapshot_sizes import snapshot_sizes
from textual.app import App
from textual.pilot import Pilot
from textual.widgets import DataTable, Select

from lumina_tui.services import accounts, drafts, outbox, prospects, sending, worker_heartbeat
from lumina_tui.services.runtime import Runtime, open_runtime
from lumina_tui.tui.app import LuminaApp
from lumina_tui.tui.screens.outbox import OutboxScreen
from lumina_tui.worker import tasks
from lumina_tui.worker.provider_pool import ProviderPool

pytestmark = pytest.mark.anyio

T0 = datetime(2026, 3, 2, 9, 30, 0)  # naive UTC, like the store


class OutboxHost(App[None]):
    MODES = {"outbox": OutboxScreen}

    def __init__(self, runtime: Runtime) -> None:
        super().__init__()
        self.runtime = runtime

    def on_mount(self) -> None:
        self.switch_mode("outbox")


class Clock:
    """The one clock the send service, the worker and the screen read in a test."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def utc_zone(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.fixture
def clock(utc_zone: None) -> Clock:
    return Clock(T0)


@pytest.fixture
def runtime(settings, clock: Clock) -> Runtime:
    """The runtime the screen and the services share, on the test's clock (nothing patched)."""
    rt = replace(open_runtime(settings), clock=clock)
    accounts.add_account(rt.db, rt.actor, provider="maildir", email="rep@outbox.test", make_default=True)
    return rt


def _send(rt: Runtime, email: str, first: str, last: str, subject: str, account: str | None = None) -> str:
    prospect = prospects.create(rt.db, rt.actor, email=email, first_name=first, last_name=last)
    draft = drafts.create(
        rt.db, rt.actor, prospect_id=prospect.id, subject=subject, body=f"Hi {first},\nA short note."
    )
    return sending.send(
        rt.db, rt.actor, draft_id=draft.id, from_account=account, settings=rt.settings, clock=rt.clock
    ).email.id


def _deliver(rt: Runtime, email_id: str) -> str:
    """Run the worker's real send handler once, in this process."""
    ctx = tasks.WorkerRuntime(
        settings=rt.settings,
        db=rt.db,
        worker_id=tasks.new_worker_id(),
        providers=ProviderPool(rt.db, rt.settings),
        clock=rt.clock,
    )
    return tasks.send_email(ctx, email_id)


async def loaded(pilot: Pilot, rows: int) -> OutboxScreen:
    screen = pilot.app.screen
    assert isinstance(screen, OutboxScreen)
    await pilot_wait_until(pilot, lambda: screen.loads > 0 and screen.query_one(DataTable).row_count == rows)
    return screen


def status_cells(screen: OutboxScreen) -> list[str]:
    table = screen.query_one(DataTable)
    return [str(table.get_row_at(i)[0]) for i in range(table.row_count)]


def detail(screen: OutboxScreen) -> str:
    return str(screen.query_one("#outbox-detail-text").content)


async def test_emails_newest_first_with_status_labels_and_details(runtime, clock):
    first = _send(runtime, "ana@brightwave.example", "Ana", "Okafor", "Quick question")
    clock.now = T0 + timedelta(seconds=20)
    _send(runtime, "ben@acme.example", "Ben", "Ito", "Following up")
    clock.now = T0 + timedelta(seconds=31)
    assert _deliver(runtime, first) == "sent"
    clock.now = T0 + timedelta(seconds=25)
    app = OutboxHost(runtime)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await loaded(pilot, 2)
        # Ben's is still in its 10 s undo window (5 s left); Ana's went to the local outbox.
        assert status_cells(screen) == ["◷ Queued · 5 s", "✓ Local outbox"]
        assert "Queued — sending in 5 s · u undoes it" in detail(screen)
        await pilot.press("down")
        await pilot_wait_until(pilot, lambda: "Events" in detail(screen))
        text = detail(screen)
        assert "rep@outbox.test (local outbox, not delivered)" in text
        assert "Ana Okafor <ana@brightwave.example>" in text
        assert "sent" in text and "attempt 1" in text
        assert "worker ○ offline" in str(screen.query_one("#outbox-worker").content)


async def test_undo_cancels_within_the_window_only(runtime, clock):
    waiting = _send(runtime, "ana@brightwave.example", "Ana", "Okafor", "Quick question")
    app = OutboxHost(runtime)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await loaded(pilot, 1)
        assert screen.check_action("cancel_send", ()) is True
        await pilot.press("u")
        await pilot_wait_until(
            pilot, lambda: outbox.get_email(runtime.db, runtime.actor, waiting).status == "CANCELLED"
        )
        await pilot_wait_until(pilot, lambda: status_cells(screen) == ["⊘ Cancelled"])
        await pilot_wait_until(pilot, lambda: "undone before it was sent" in detail(screen))

    # After the window, the same key does nothing: the worker may already be sending it.
    clock.now = T0 + timedelta(seconds=1)
    late = _send(runtime, "ben@acme.example", "Ben", "Ito", "Following up")
    clock.now = T0 + timedelta(seconds=12)
    app = OutboxHost(runtime)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await loaded(pilot, 2)
        assert status_cells(screen)[0] == "◷ Queued"
        notes = record_notes(app)
        await pilot.press("u")
        await pilot_wait_until(pilot, lambda: any("Too late to undo" in note for note in notes))
        assert "undo window has closed" in notes[-1]
        assert outbox.get_email(runtime.db, runtime.actor, late).status == "PENDING_SEND"


@pytest.fixture
def refusing_sink() -> Iterator[SmtpSink]:
    with SmtpSink() as sink:
        sink.fail_rcpt("gone@nowhere.example", "550 5.1.1 No such user")
        yield sink


async def test_retry_a_failed_email(runtime, clock, refusing_sink):
    accounts.add_account(
        runtime.db,
        runtime.actor,
        provider="smtp",
        name="acme",
        email="rep@acme.test",
        settings={"host": "127.0.0.1", "port": refusing_sink.port, "security": "plain", "auth": "none"},
    )
    email_id = _send(runtime, "gone@nowhere.example", "Gil", "Gone", "Hello", account="acme")
    clock.now = T0 + timedelta(seconds=11)
    assert _deliver(runtime, email_id) == "failed"
    app = OutboxHost(runtime)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await loaded(pilot, 1)
        table = screen.query_one(DataTable)
        row = [str(cell) for cell in table.get_row_at(0)]
        assert row[0] == "✖ Failed" and row[3] == "1" and row[4].startswith("recipient refused")
        assert "550 5.1.1 No such user" in detail(screen)  # the whole error, below the table
        assert "Failed after 1 attempt(s) · r retries it" in detail(screen)
        assert screen.check_action("retry", ()) is True
        await pilot.press("r")
        await pilot_wait_until(
            pilot, lambda: outbox.get_email(runtime.db, runtime.actor, email_id).status == "PENDING_SEND"
        )
        await pilot_wait_until(pilot, lambda: "retried" in detail(screen))
        assert status_cells(screen) == ["◷ Queued"]


async def test_refreshes_itself_when_the_worker_delivers(runtime, clock):
    email_id = _send(runtime, "ana@brightwave.example", "Ana", "Okafor", "Quick question")
    app = OutboxHost(runtime)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await loaded(pilot, 1)
        assert status_cells(screen) == ["◷ Queued · 10 s"]
        clock.now = T0 + timedelta(seconds=12)
        assert _deliver(runtime, email_id) == "sent"
        # No key pressed: the ~1 s refresh picks it up.
        await pilot_wait_until(pilot, lambda: status_cells(screen) == ["✓ Local outbox"])
        await pilot_wait_until(pilot, lambda: "Sent Mar 02 09:30:12" in detail(screen))


async def test_filter_by_status(runtime, clock):
    kept = _send(runtime, "ana@brightwave.example", "Ana", "Okafor", "One")
    clock.now = T0 + timedelta(seconds=1)
    undone = _send(runtime, "ben@acme.example", "Ben", "Ito", "Two")
    outbox.cancel(runtime.db, runtime.actor, undone, clock=runtime.clock)
    app = OutboxHost(runtime)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await loaded(pilot, 2)
        await pilot.press("f")  # All -> Queued
        await pilot_wait_until(pilot, lambda: screen.query_one(DataTable).row_count == 1)
        assert screen.status_filter == "PENDING_SEND"
        assert screen.selected_email_id == kept
        screen.query_one("#outbox-filter", Select).value = "CANCELLED"
        await pilot_wait_until(pilot, lambda: status_cells(screen) == ["⊘ Cancelled"])
        screen.query_one("#outbox-filter", Select).value = "FAILED"
        await pilot_wait_until(pilot, lambda: screen.query_one(DataTable).row_count == 0)
        await pilot_wait_until(pilot, lambda: "No emails with this status." in detail(screen))


async def test_worker_online_from_its_heartbeat(runtime, clock):
    now = time.time()
    worker_heartbeat.write(
        runtime.settings,
        worker_heartbeat.Heartbeat(
            worker_id="test", pid=os.getpid(), hostname="here", beat_at=now, started_at=now
        ),
    )
    app = OutboxHost(runtime)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await loaded(pilot, 0)
        await pilot_wait_until(
            pilot, lambda: "worker ● online" in str(screen.query_one("#outbox-worker").content)
        )
        worker_heartbeat.remove(runtime.settings, "test")
        await pilot_wait_until(
            pilot, lambda: "worker ○ offline" in str(screen.query_one("#outbox-worker").content)
        )


async def test_an_empty_outbox_says_how_to_fill_it(runtime, clock):
    app = OutboxHost(runtime)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await loaded(pilot, 0)
        assert "No emails yet" in detail(screen)
        assert "0 emails" in str(screen.query_one("#outbox-count").content)


async def test_retry_and_undo_on_a_sent_email_say_why_nothing_happens(runtime, clock):
    """Issue 9.16: r and u on an email they cannot apply to answer with a notification."""
    email_id = _send(runtime, "ana@brightwave.example", "Ana", "Okafor", "Quick question")
    clock.now = T0 + timedelta(seconds=12)
    assert _deliver(runtime, email_id) == "sent"
    app = OutboxHost(runtime)
    notes = record_notes(app)
    async with app.run_test(size=(100, 30)) as pilot:
        await loaded(pilot, 1)
        await pilot.press("r")
        await pilot_wait_until(pilot, lambda: len(notes) == 1)
        assert "Nothing to retry: it was sent already" in notes[0]
        await pilot.press("u")
        await pilot_wait_until(pilot, lambda: len(notes) == 2)
        assert "Too late to undo: it was sent already" in notes[1]
        assert outbox.get_email(runtime.db, runtime.actor, email_id).status == "SENT"


async def test_the_detail_shows_the_whole_message_that_went_out(runtime, clock):
    """Issue 9.15: the body, exactly (blank lines kept), in a pane that scrolls."""
    body = "Hi Ana,\n\n\nFirst paragraph.\n\n" + "\n".join(f"line {n}" for n in range(1, 41)) + "\n\nSam"
    prospect = prospects.create(runtime.db, runtime.actor, email="ana@brightwave.example", first_name="Ana")
    draft = drafts.create(runtime.db, runtime.actor, prospect_id=prospect.id, subject="Long", body=body)
    sending.send(runtime.db, runtime.actor, draft_id=draft.id, settings=runtime.settings, clock=runtime.clock)
    app = OutboxHost(runtime)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await loaded(pilot, 1)
        await pilot_wait_until(pilot, lambda: "Message" in detail(screen))
        assert detail(screen).endswith("Message\n" + body)
        pane = screen.query_one("#outbox-detail")
        await pilot_wait_until(pilot, lambda: pane.max_scroll_y > 0)  # longer than the pane: it scrolls
        pane.scroll_end(animate=False)
        await pilot_wait_until(pilot, lambda: pane.scroll_y == pane.max_scroll_y)


# ---- snapshots -----------------------------------------------------------------------------------


@pytest.fixture
def busy_outbox(runtime, clock, refusing_sink) -> Runtime:
    """Sent (local), failed (SMTP 550), cancelled and queued emails at fixed times."""
    accounts.add_account(
        runtime.db,
        runtime.actor,
        provider="smtp",
        name="acme",
        email="rep@acme.test",
        settings={"host": "127.0.0.1", "port": refusing_sink.port, "security": "plain", "auth": "none"},
    )
    sent = _send(
        runtime, "ana.okafor@brightwave.example", "Ana", "Okafor", "Quick question about Q3 onboarding"
    )
    clock.now = T0 + timedelta(minutes=1)
    failed = _send(runtime, "gone@nowhere.example", "Gil", "Gone", "Hello again", account="acme")
    clock.now = T0 + timedelta(minutes=2)
    undone = _send(runtime, "ben.ito@acme.example", "Ben", "Ito", "Following up on the demo")
    outbox.cancel(runtime.db, runtime.actor, undone, clock=runtime.clock)
    clock.now = T0 + timedelta(minutes=3)
    assert _deliver(runtime, sent) == "sent"
    assert _deliver(runtime, failed) == "failed"
    clock.now = T0 + timedelta(minutes=4)
    _send(runtime, "cara.diaz@brightwave.example", "Cara", "Diaz", "A thought on your freight reporting")
    clock.now = T0 + timedelta(minutes=4, seconds=3)
    return runtime


def lumina(runtime: Runtime) -> LuminaApp:
    return LuminaApp(runtime, handle_signals=False, clock=lambda: 1000.0)


async def test_f4_opens_the_outbox_in_the_lumina_app(runtime, clock):
    _send(runtime, "ana@brightwave.example", "Ana", "Okafor", "Quick question")
    app = lumina(runtime)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("f4")
        await pilot_wait_until(pilot, lambda: isinstance(app.screen, OutboxScreen))
        screen = await loaded(pilot, 1)
        assert status_cells(screen) == ["◷ Queued · 10 s"]
        await pilot.press("f2")
        await pilot_wait_until(pilot, lambda: app.current_mode == "compose")
        await pilot.press("f4")
        await pilot_wait_until(pilot, lambda: app.screen is screen)


@snapshot_sizes((100, 30), (80, 24))
def test_snapshot_outbox(busy_outbox, snap_compare, size):
    async def run_before(pilot: Pilot) -> None:
        await pilot.press("f4")
        await pilot_wait_until(pilot, lambda: isinstance(pilot.app.screen, OutboxScreen))
        screen = await loaded(pilot, 4)
        await pilot.press("down", "down", "down")  # the local-outbox email, with its events
        await pilot_wait_until(
            pilot, lambda: "local outbox, not delivered" in detail(screen) and "Events" in detail(screen)
        )

    assert snap_compare(lumina(busy_outbox), terminal_size=size, run_before=run_before)
