"""End to end, as a rep does it: the demo workspace, pick a prospect, personalize (offline engine),
accept, send; a real `lumina worker` process delivers to a real SMTP server on 127.0.0.1; the
outbox (f4) shows SENT.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from compose_support import (
    WIDE,
    composer,
    make_app,
    seeded_runtime,
    type_text,
)
from polling import pilot_wait_until
from pty_session import lumina_argv
from smtp_sink import SmtpSink
from textual.widgets import DataTable

from lumina_tui.services import accounts, worker_status
from lumina_tui.services import outbox as outbox_service
from lumina_tui.tui.screens.outbox import OutboxScreen
from lumina_tui.tui.screens.send_review import SendReviewScreen
from lumina_tui.tui.widgets.prospect_picker import ProspectPicker

pytestmark = pytest.mark.anyio

WORKER_ENV = {
    "LUMINA_UNDO_WINDOW_SECONDS": "1",
    "LUMINA_WORKER__HEARTBEAT_INTERVAL_SECONDS": "0.2",
    "LUMINA_WORKER__HEARTBEAT_STALE_SECONDS": "3",
    "LUMINA_WORKER__POLLING_DELAY_SECONDS": "0.01",
    "LUMINA_WORKER__SWEEP_INTERVAL_SECONDS": "0.5",
    "LUMINA_WORKER__BACKOFF_BASE_SECONDS": "0.2",
}


@pytest.fixture
def sink() -> Iterator[SmtpSink]:
    with SmtpSink() as server:
        yield server


@pytest.fixture
def worker_env(monkeypatch: pytest.MonkeyPatch, offline_ai: None) -> dict[str, str]:
    for name, value in WORKER_ENV.items():
        monkeypatch.setenv(name, value)
    return dict(os.environ)


@pytest.fixture
def worker(worker_env: dict[str, str], lumina_home: Path) -> Iterator[subprocess.Popen[bytes]]:
    log = lumina_home / "worker-e2e.out"
    with open(log, "wb") as output:
        process = subprocess.Popen(
            lumina_argv("worker"), env=worker_env, stdin=subprocess.DEVNULL, stdout=output, stderr=output
        )
    try:
        yield process
    finally:
        process.terminate()
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


async def test_pick_personalize_accept_send_deliver_outbox(
    sink: SmtpSink, worker: subprocess.Popen[bytes]
) -> None:
    runtime = seeded_runtime()
    account = accounts.add_account(
        runtime.db,
        runtime.actor,
        provider="smtp",
        email="sam@acme.test",
        name="Acme SMTP",
        settings={"host": sink.host, "port": sink.port, "security": "plain", "timeout": 10},
        make_default=True,
    )
    app = make_app(runtime)
    async with app.run_test(size=WIDE) as pilot:
        screen = composer(app)
        await pilot_wait_until(pilot, lambda: worker_status.read_status(runtime.settings).online)
        assert screen.account_id == account.id  # the default account is the From

        # Pick a prospect (fuzzy), write a few lines.
        await pilot.click("#choose-prospect")
        picker = await pilot_wait_until(
            pilot, lambda: app.screen if isinstance(app.screen, ProspectPicker) else None
        )
        await pilot_wait_until(pilot, lambda: picker.loaded)
        await type_text(pilot, "ana okafor")
        await pilot.press("enter")
        await pilot_wait_until(pilot, lambda: screen.prospect is not None)
        assert screen.prospect.email == "ana.okafor@brightwave.example"
        screen.subject.value = "Weekly reporting"
        screen.body.focus()
        await type_text(pilot, "Hi Ana,\n\nWould a short call about weekly reporting help?\n\nBest,\nSam")

        # Personalize with the offline engine, accept.
        await pilot.press("ctrl+g")
        await pilot_wait_until(pilot, lambda: screen.glow_state == "suggestion_ready")
        accepted = screen.suggestion
        await pilot.press("ctrl+o")
        assert screen.body.text == accepted.suggestion.body

        # Send: review, Enter.
        await pilot.press("ctrl+s")
        review_screen = await pilot_wait_until(
            pilot, lambda: app.screen if isinstance(app.screen, SendReviewScreen) else None
        )
        assert review_screen.review.to_email == "ana.okafor@brightwave.example"
        assert review_screen.review.account_id == account.id
        await pilot.press("enter")
        # The email as stored, not the composer's undo countdown: with a 1 s window on a loaded
        # machine the countdown can be over before this line looks at it.
        queued = await pilot_wait_until(
            pilot, lambda: outbox_service.list_emails(runtime.db, runtime.actor).items
        )
        email_id = queued[0].id

        # The worker delivers it to the SMTP server.
        await pilot_wait_until(pilot, lambda: len(sink.messages) >= 1, timeout=60)
        message = sink.messages[0].parsed()
        assert message["To"].addresses[0].addr_spec == "ana.okafor@brightwave.example"
        assert message["X-Lumina-Email-Id"] == email_id
        assert "Ana" in message.get_body(("plain",)).get_content()
        email = outbox_service.get_email(runtime.db, runtime.actor, email_id)
        assert accepted.suggestion_id in email.accepted_suggestion_ids
        await pilot_wait_until(
            pilot, lambda: outbox_service.get_email(runtime.db, runtime.actor, email_id).status == "SENT"
        )

        # The outbox shows it as SENT.
        await pilot.press("f4")
        outbox = await pilot_wait_until(
            pilot, lambda: app.screen if isinstance(app.screen, OutboxScreen) else None
        )
        table = outbox.query_one("#outbox-table", DataTable)

        def rows() -> list[list[str]]:
            return [[str(cell) for cell in table.get_row_at(i)] for i in range(table.row_count)]

        try:
            # The status cell reads "✓ Sent": a mark and the word.
            await pilot_wait_until(
                pilot, lambda: any(row[0].split()[-1].upper() == "SENT" for row in rows())
            )
        except AssertionError:
            raise AssertionError(f"no SENT row in the outbox: {rows()}") from None
        [row] = rows()
        assert "ana.okafor@brightwave.example" in " ".join(row) or "Ana" in " ".join(row)
