"""Issue 10 point 9 (start fast): `lumina` draws the composer before the store is open.

The app is started as `lumina` starts it, without a runtime: its first frame is the composer saying
"opening…", and the runtime (settings, store, --draft, the first read) opens in a thread right after.
The opening is held back here until the test lets it go, so that what happens in between is seen:
keys typed meanwhile wait and then land in the draft, in order; clicks do nothing; a bad --draft
closes the app with the error `lumina` reports.
"""

from __future__ import annotations

import threading
from typing import Any

import pytest
from compose_support import composer, draft_for, first_prospect, seeded_runtime
from polling import pilot_wait_until
from textual.widgets import Select

from lumina_tui.services import drafts
from lumina_tui.services.errors import NotFoundError
from lumina_tui.tui import app as app_module
from lumina_tui.tui.app import LuminaApp
from lumina_tui.tui.widgets.glow_panel import GlowPanel
from lumina_tui.tui.widgets.score_card import ScoreCard

pytestmark = pytest.mark.anyio

BODY = "Would a short call next week be useful?\n\nBest,\nSam"


def gate_the_opening(monkeypatch: pytest.MonkeyPatch) -> threading.Event:
    """The real `open_for_composer`, run only once the returned event is set."""
    gate = threading.Event()
    real = app_module.open_for_composer

    def gated(draft_id: str | None, start_worker: bool) -> Any:
        assert gate.wait(60), "the test never let the runtime open"
        return real(draft_id, start_worker)

    monkeypatch.setattr(app_module, "open_for_composer", gated)
    return gate


async def test_keys_typed_while_the_runtime_opens_land_in_the_draft(monkeypatch: pytest.MonkeyPatch) -> None:
    runtime = seeded_runtime()
    draft = draft_for(runtime, first_prospect(runtime), BODY)
    gate = gate_the_opening(monkeypatch)
    app = LuminaApp(draft_id=draft.id, handle_signals=False)
    async with app.run_test() as pilot:
        await pilot_wait_until(pilot, lambda: app.composer is not None and app.composer.is_mounted)
        screen = composer(app)
        assert not app.runtime_ready
        assert screen.status.saved == "opening…"
        assert screen.body.placeholder == "Opening your draft…"
        await pilot.press("H", "i", "comma", "space")
        await pilot.click("#choose-prospect")  # ignored: there is no store to choose from yet
        await pilot.pause()
        assert screen.body.text == ""  # nothing typed into the empty screen
        gate.set()
        await pilot_wait_until(pilot, lambda: screen.body.text.startswith("Hi, "))
        assert screen.body.text == "Hi, " + BODY  # the draft, then the keys, at its start
        assert screen.body.placeholder == ""
        assert screen.draft_id == draft.id
        # The first frame's stand-ins (plain text) have been replaced by the real parts.
        assert isinstance(screen.query_one("#template-select"), Select)
        assert isinstance(screen.query_one("#account-select"), Select)
        assert isinstance(screen.query_one("#ai-panel"), GlowPanel)
        assert isinstance(screen.query_one("#score-card"), ScoreCard)
        await pilot.press("ctrl+q")  # saves what is on screen, then quits
    assert app.start_error is None
    assert drafts.get(runtime.db, runtime.actor, draft.id).body_text == "Hi, " + BODY


async def test_an_unknown_draft_closes_the_app_with_the_error(monkeypatch: pytest.MonkeyPatch) -> None:
    seeded_runtime()
    gate = gate_the_opening(monkeypatch)
    gate.set()
    app = LuminaApp(draft_id="00000000-0000-4000-8000-000000000000", handle_signals=False)
    async with app.run_test() as pilot:
        await pilot_wait_until(pilot, lambda: app.start_error is not None)
    assert isinstance(app.start_error, NotFoundError)
    assert app.return_code == 2
