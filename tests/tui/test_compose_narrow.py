"""At 80x24 the AI panel is a drawer over the body: it opens when a suggestion is ready or on
request, and closes on accept or reject; the tone slider shows while it has focus."""

from __future__ import annotations

import pytest
from compose_support import (
    NARROW,
    composer,
    draft_for,
    make_app,
    prospect_by_email,
    seeded_runtime,
)
from polling import pilot_wait_until

pytestmark = pytest.mark.anyio

BODY = "Hi Ana,\n\nWould a short call about weekly reporting help?\n\nBest,\nSam"


def narrow_app():  # type: ignore[no-untyped-def]
    runtime = seeded_runtime()
    draft = draft_for(runtime, prospect_by_email(runtime, "ana.okafor@brightwave.example"), BODY)
    return make_app(runtime, draft_id=draft.id)


async def test_the_drawer_opens_with_a_suggestion_and_closes_on_accept(offline_ai: None) -> None:
    app = narrow_app()
    async with app.run_test(size=NARROW) as pilot:
        screen = composer(app)
        panel = screen.query_one("#ai-panel")
        assert screen.has_class("-narrow") and panel.region.height == 0
        await pilot.press("ctrl+g")
        await pilot_wait_until(pilot, lambda: screen.glow_state == "suggestion_ready")
        await pilot.pause()
        assert screen.has_class("-drawer-open")
        assert panel.region.height > 5  # over the body
        assert screen.status.ai == "suggestion_ready"  # and the status line says it too
        await pilot.press("ctrl+o")
        await pilot.pause()
        assert not screen.has_class("-drawer-open")
        assert panel.region.height == 0


async def test_the_drawer_opens_on_request_from_the_palette(offline_ai: None) -> None:
    app = narrow_app()
    async with app.run_test(size=NARROW) as pilot:
        screen = composer(app)
        await pilot.press("ctrl+p")
        await pilot.pause()
        for key in "ai panel":
            await pilot.press("space" if key == " " else key)
        await pilot.press("enter")
        await pilot_wait_until(pilot, lambda: screen.has_class("-drawer-open"))
        assert screen.query_one("#ai-panel").region.height > 5


async def test_the_tone_slider_shows_while_focused(offline_ai: None) -> None:
    app = narrow_app()
    async with app.run_test(size=NARROW) as pilot:
        screen = composer(app)
        slider = screen.query_one("#tone")
        assert slider.region.height == 0
        await pilot.press("ctrl+t")
        await pilot.pause()
        assert app.focused is slider and slider.region.height == 1
        screen.body.focus()
        await pilot.pause()
        assert slider.region.height == 0
