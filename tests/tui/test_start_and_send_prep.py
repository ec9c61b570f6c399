"""Issue 10 point 9 (start and send fast): what the composer does ahead of time, shown to happen.

bench/bench_tui.py measures the times; these tests show the mechanisms that the figures rest on:
the send's queue is opened while the rep reads the review (not between Enter and "Queued"), and
the collector, off while `lumina` starts, is back on once the app has drawn its first frame.
"""

from __future__ import annotations

import gc

import pytest
from compose_support import (
    composer,
    draft_for,
    first_prospect,
    make_app,
    seeded_runtime,
)
from polling import pilot_wait_until

from lumina_tui import queue
from lumina_tui.services.errors import NotFoundError
from lumina_tui.tui.screens.send_review import SendReviewScreen

pytestmark = pytest.mark.anyio

BODY = "Hi there,\n\nWould a short call next week be useful?\n\nBest,\nSam"


async def test_the_queue_is_open_before_enter_is_pressed() -> None:
    runtime = seeded_runtime()
    draft = draft_for(runtime, first_prospect(runtime), BODY)
    queue.close_all()  # as in a fresh `lumina`: no queue opened yet
    location = queue.queue_location(runtime.settings)
    app = make_app(runtime, draft_id=draft.id)
    async with app.run_test() as pilot:
        screen = composer(app)
        assert location not in queue._instances
        await pilot.press("ctrl+s")
        await pilot_wait_until(pilot, lambda: isinstance(app.screen, SendReviewScreen))
        # Opened by the review's thread while the rep reads it: Enter finds it ready.
        await pilot_wait_until(pilot, lambda: location in queue._instances)
        assert screen._pending_send is None  # nothing was sent to open it
        await pilot.press("enter")
        await pilot_wait_until(pilot, lambda: screen._pending_send is not None)
        assert str(screen.query_one("#send-banner").render()).startswith("Queued")
    queue.close_all()


async def test_the_app_turns_the_collector_back_on_after_its_first_frame() -> None:
    runtime = seeded_runtime()
    gc.disable()  # as `lumina` starts (cli/tui_entry.py)
    try:
        app = make_app(runtime)
        async with app.run_test() as pilot:
            await pilot_wait_until(pilot, gc.isenabled)
    finally:
        gc.enable()
        gc.unfreeze()


def test_start_up_leaves_the_collector_on_when_it_fails_early() -> None:
    from lumina_tui.cli.tui_entry import run_composer

    assert gc.isenabled()
    with pytest.raises(NotFoundError):
        run_composer(draft_id="00000000-0000-4000-8000-000000000000", start_worker=False)
    assert gc.isenabled()
