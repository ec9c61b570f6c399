"""Snapshots of the composer in each glow state, at 100x30 and at 80x24 (UI.md's small terminal).

Synchronous tests (snap_compare runs its own event loop). Everything that moves is pinned: the
display clock is fixed ("saved 0 s ago", "fresh · 0 s"), animations are off, cursors do not
blink, conftest clears NO_COLOR and TEXTUAL_THEME, and the AI is the offline engine (deterministic)
or, for "thinking", a local server that holds its answer until the snapshot is taken.
"""

from __future__ import annotations

from typing import Any

from compose_support import (
    NARROW,
    SNAP_WIDE,
    composer,
    draft_for,
    make_app,
    prospect_by_email,
    seeded_runtime,
)
from polling import pilot_wait_until
from snapshot_sizes import snapshot_sizes
from textual.pilot import Pilot
from textual.widgets import Input, TextArea

SIZES = snapshot_sizes(SNAP_WIDE, NARROW)
BODY = (
    "Hi Ana,\n\nWe help operations teams cut the time they spend on weekly reporting. "
    "Would a short call next week be useful?\n\nBest,\nSam"
)


def composer_app() -> Any:
    runtime = seeded_runtime()
    ana = prospect_by_email(runtime, "ana.okafor@brightwave.example")
    draft = draft_for(runtime, ana, BODY, subject="Weekly reporting at Brightwave")
    return make_app(runtime, draft_id=draft.id)


async def settle(pilot: Pilot[Any]) -> None:
    """Cursors steady, first frame drawn."""
    for widget in pilot.app.screen.query(TextArea):
        widget.cursor_blink = False
    for widget in pilot.app.screen.query(Input):
        widget.cursor_blink = False
    await pilot.pause()


async def laid_out(pilot: Pilot[Any]) -> None:
    """The suggestion view has its final size (its scrollbar depends on it): two frames alike."""
    view = composer(pilot.app).panel.view
    await pilot_wait_until(pilot, lambda: view.virtual_size.height > 0)
    previous = None
    while previous != (view.virtual_size, view.size):
        previous = (view.virtual_size, view.size)
        await pilot.pause()
        await pilot.wait_for_scheduled_animations()


@SIZES
def test_snapshot_compose_idle(snap_compare: Any, size: tuple[int, int]) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        screen = composer(pilot.app)
        await pilot_wait_until(pilot, lambda: screen.status.worker != "")

    assert snap_compare(composer_app(), terminal_size=size, run_before=run_before)


@SIZES
def test_snapshot_compose_thinking(snap_compare: Any, size: tuple[int, int], openai_server: Any) -> None:
    openai_server.mode = "slow"
    openai_server.delay = 5  # released at teardown; the snapshot is taken long before

    async def run_before(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        screen = composer(pilot.app)
        await pilot_wait_until(pilot, lambda: screen.status.worker != "")
        await pilot.press("ctrl+g")
        await pilot_wait_until(pilot, lambda: openai_server.arrived.is_set())
        assert screen.glow_state == "thinking"

    try:
        assert snap_compare(composer_app(), terminal_size=size, run_before=run_before)
    finally:
        openai_server.release.set()


@SIZES
def test_snapshot_compose_suggestion_ready(
    snap_compare: Any, size: tuple[int, int], offline_ai: None
) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        screen = composer(pilot.app)
        await pilot_wait_until(pilot, lambda: screen.status.worker != "")
        await pilot.press("ctrl+g")
        await pilot_wait_until(pilot, lambda: screen.glow_state == "suggestion_ready")
        await laid_out(pilot)

    assert snap_compare(composer_app(), terminal_size=size, run_before=run_before)


@SIZES
def test_snapshot_compose_stale(snap_compare: Any, size: tuple[int, int], offline_ai: None) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        screen = composer(pilot.app)
        await pilot_wait_until(pilot, lambda: screen.status.worker != "")
        await pilot.press("ctrl+g")
        await pilot_wait_until(pilot, lambda: screen.glow_state == "suggestion_ready")
        screen.body.focus()
        await pilot.press("end", "!")
        await pilot_wait_until(pilot, lambda: screen.glow_state == "stale")
        await pilot_wait_until(pilot, lambda: screen.autosave.state == "saved")
        await pilot_wait_until(pilot, lambda: screen.status.saved == "saved 0 s ago")  # the burst is over
        # The stale suggestion is re-diffed against the edited draft once typing pauses.
        await pilot_wait_until(pilot, lambda: screen.panel.view.diffed_against == screen.body.text)
        await laid_out(pilot)

    assert snap_compare(composer_app(), terminal_size=size, run_before=run_before)
