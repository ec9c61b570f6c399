"""The Glow System and the human in the loop, with the real AI service.

idle → thinking → suggestion_ready → (applied → idle) | stale | idle (rejected); accept is one
undoable edit, reject and edit are recorded as feedback, a stale suggestion is never applied
silently, and an AI failure never blocks typing.
"""

from __future__ import annotations

import pytest
from ai_support import feedback_rows, reset_ai_state
from compose_support import (
    WIDE,
    composer,
    draft_for,
    make_app,
    prospect_by_email,
    seeded_runtime,
    stored,
    type_text,
)
from polling import pilot_wait_until
from textual.color import Color

from lumina_tui.tui.screens.dialogs import ConfirmDialog
from lumina_tui.tui.widgets.glow_panel import BLUE, GREEN, YELLOW, glow_colour, opacity_for
from lumina_tui.tui.widgets.score_card import ScoreCard
from lumina_tui.tui.widgets.suggestion_view import FADE_SECONDS

pytestmark = pytest.mark.anyio

ANA = "ana.okafor@brightwave.example"
BODY = (
    "Hi Ana,\n\nWe help operations teams cut the time they spend on weekly reporting. "
    "Would a short call next week be useful?\n\nBest,\nSam"
)


def start(runtime, **kwargs):  # type: ignore[no-untyped-def]
    ana = prospect_by_email(runtime, ANA)
    draft = draft_for(runtime, ana, BODY)
    return draft, make_app(runtime, draft_id=draft.id, **kwargs)


def record_states(app, screen) -> list[str]:  # type: ignore[no-untyped-def]
    states: list[str] = []
    app.watch(screen.panel, "state", lambda state: states.append(state), init=False)
    return states


# ---------------------------------------------------------------- colours (pure)


def test_glow_colours_follow_state_confidence_and_age() -> None:
    background = Color(0, 0, 0)
    thinking_dim = glow_colour("thinking", pulse=0.0, confidence=0, age=0, background=background)
    thinking_bright = glow_colour("thinking", pulse=1.0, confidence=0, age=0, background=background)
    assert thinking_bright == BLUE and thinking_dim != thinking_bright  # the pulse moves the colour
    fresh = glow_colour("suggestion_ready", pulse=0, confidence=1.0, age=0, background=background)
    assert fresh == GREEN
    old = glow_colour("suggestion_ready", pulse=0, confidence=1.0, age=FADE_SECONDS, background=background)
    assert old == YELLOW  # fresh green fades to yellow with age
    halfway = glow_colour(
        "suggestion_ready", pulse=0, confidence=1.0, age=FADE_SECONDS / 2, background=background
    )
    assert halfway not in (GREEN, YELLOW)
    assert glow_colour("stale", pulse=0, confidence=1.0, age=0, background=background) == YELLOW
    weak = glow_colour("suggestion_ready", pulse=0, confidence=0.0, age=0, background=background)
    assert weak == background.blend(GREEN, 0.3)  # intensity follows confidence: opacity 0.3 .. 1.0
    assert opacity_for(0.0) == pytest.approx(0.3) and opacity_for(1.0) == pytest.approx(1.0)


# ---------------------------------------------------------------- offline engine


async def test_personalize_thinks_then_shows_a_suggestion_as_a_diff(offline_ai: None) -> None:
    runtime = seeded_runtime()
    draft, app = start(runtime)
    async with app.run_test(size=WIDE) as pilot:
        screen = composer(app)
        states = record_states(app, screen)
        assert screen.glow_state == "idle" and screen.panel.border_title == "AI · idle"
        await pilot.press("ctrl+g")
        await pilot_wait_until(pilot, lambda: screen.glow_state == "suggestion_ready")
        assert states[:2] == ["thinking", "suggestion_ready"]
        suggestion = screen.suggestion
        assert suggestion.operation == "personalize"
        assert screen.panel.border_title == f"AI · suggestion ready {suggestion.confidence:.2f}"
        assert screen.status.ai == "suggestion_ready"
        view = screen.panel.view
        diff = str(view.query_one("#suggestion-diff").render())
        assert "{+" in diff or "[-" in diff  # changes are marked in the text, not only in colour
        meta = str(view.query_one("#suggestion-meta").render())
        assert f"{suggestion.confidence:.2f}" in meta and "prospect" in meta and "company" in meta
        claims = str(view.query_one("#suggestion-claims").render())
        assert "unsupported" in claims
        assert screen.body.text == BODY  # nothing changes until the rep accepts
        assert stored(runtime, draft.id).body_text == BODY


async def test_accept_applies_one_undoable_edit_and_records_feedback(offline_ai: None) -> None:
    runtime = seeded_runtime()
    draft, app = start(runtime)
    async with app.run_test(size=WIDE) as pilot:
        screen = composer(app)
        states = record_states(app, screen)
        await pilot.press("ctrl+g")
        await pilot_wait_until(pilot, lambda: screen.glow_state == "suggestion_ready")
        suggestion = screen.suggestion
        expected = suggestion.suggestion.body
        await pilot.press("ctrl+o")
        assert screen.body.text == expected
        await pilot_wait_until(pilot, lambda: screen.glow_state == "idle")
        assert states[-2:] == ["applied", "idle"]
        await pilot_wait_until(pilot, lambda: stored(runtime, draft.id).body_text == expected)
        await pilot_wait_until(pilot, lambda: feedback_rows(runtime))
        assert feedback_rows(runtime) == [(suggestion.suggestion_id, "accepted", None)]
        screen.body.focus()
        await pilot.press("ctrl+z")
        assert screen.body.text == BODY  # the whole suggestion is one undo step


async def test_escape_rejects_and_records_feedback(offline_ai: None) -> None:
    runtime = seeded_runtime()
    _draft, app = start(runtime)
    async with app.run_test(size=WIDE) as pilot:
        screen = composer(app)
        await pilot.press("ctrl+g")
        await pilot_wait_until(pilot, lambda: screen.glow_state == "suggestion_ready")
        suggestion_id = screen.suggestion.suggestion_id
        await pilot.press("escape")
        assert screen.glow_state == "idle" and screen.suggestion is None
        assert screen.body.text == BODY
        await pilot_wait_until(pilot, lambda: feedback_rows(runtime))
        assert feedback_rows(runtime) == [(suggestion_id, "rejected", None)]


async def test_a_suggestion_edited_in_the_panel_is_recorded_as_edited(offline_ai: None) -> None:
    runtime = seeded_runtime()
    draft, app = start(runtime)
    async with app.run_test(size=WIDE) as pilot:
        screen = composer(app)
        await pilot.press("ctrl+g")
        await pilot_wait_until(pilot, lambda: screen.glow_state == "suggestion_ready")
        suggestion = screen.suggestion
        screen.panel.view.focus()
        await pilot.press("enter")  # edit the suggestion
        editor = screen.panel.view.query_one("#suggestion-editor")
        assert app.focused is editor
        editor.move_cursor(editor.document.end)
        await type_text(pilot, " PS: my own line.")
        await pilot.press("ctrl+o")
        assert screen.body.text == suggestion.suggestion.body + " PS: my own line."
        await pilot_wait_until(pilot, lambda: feedback_rows(runtime))
        [(suggestion_id, action, note)] = feedback_rows(runtime)
        assert (suggestion_id, action) == (suggestion.suggestion_id, "edited")
        assert note
        await pilot_wait_until(pilot, lambda: stored(runtime, draft.id).body_text == screen.body.text)


async def test_an_edit_makes_the_suggestion_stale_and_accepting_it_asks_first(offline_ai: None) -> None:
    runtime = seeded_runtime()
    _draft, app = start(runtime)
    async with app.run_test(size=WIDE) as pilot:
        screen = composer(app)
        await pilot.press("ctrl+g")
        await pilot_wait_until(pilot, lambda: screen.glow_state == "suggestion_ready")
        suggested = screen.suggestion.suggestion.body
        screen.body.focus()
        await pilot.press("end", "!")
        await pilot_wait_until(pilot, lambda: screen.glow_state == "stale")
        assert screen.panel.border_title.startswith("AI · stale")
        assert screen.status.ai == "stale"
        edited = screen.body.text
        await pilot.press("ctrl+o")
        await pilot_wait_until(pilot, lambda: isinstance(app.screen, ConfirmDialog))
        await pilot.press("escape")  # keep my draft
        await pilot_wait_until(pilot, lambda: app.screen is screen)
        assert screen.body.text == edited and screen.glow_state == "stale"
        await pilot.press("ctrl+o")
        await pilot_wait_until(pilot, lambda: isinstance(app.screen, ConfirmDialog))
        await pilot.press("enter")  # apply it anyway
        await pilot_wait_until(pilot, lambda: screen.body.text == suggested)


async def test_rewrite_asks_for_an_instruction_and_offers_common_ones(offline_ai: None) -> None:
    from lumina_tui.tui.screens.dialogs import ChoiceDialog

    runtime = seeded_runtime()
    _draft, app = start(runtime)
    async with app.run_test(size=WIDE) as pilot:
        screen = composer(app)
        await pilot.press("ctrl+r")
        dialog = await pilot_wait_until(
            pilot, lambda: app.screen if isinstance(app.screen, ChoiceDialog) else None
        )
        offered = [key for key, _label in dialog.choices]
        for common in (
            "shorter",
            "more formal",
            "more casual",
            "friendlier",
            "add a question",
            "remove jargon",
        ):
            assert common in offered
        await pilot.press("down", "down", "enter")  # ↓ into the list, ↓ to the second: more formal
        await pilot_wait_until(pilot, lambda: screen.glow_state == "suggestion_ready")
        assert screen.suggestion.operation == "rewrite"
        assert screen.suggestion.instruction == "more formal"


async def test_a_typed_rewrite_instruction_is_used(offline_ai: None) -> None:
    runtime = seeded_runtime()
    _draft, app = start(runtime)
    async with app.run_test(size=WIDE) as pilot:
        screen = composer(app)
        await pilot.press("ctrl+r")
        await pilot.pause()
        await type_text(pilot, "friendlier")
        await pilot.press("enter")
        await pilot_wait_until(pilot, lambda: screen.glow_state == "suggestion_ready")
        assert screen.suggestion.instruction == "friendlier"


async def test_the_tone_slider_personalizes_once_it_stops(offline_ai: None) -> None:
    runtime = seeded_runtime()
    _draft, app = start(runtime)
    async with app.run_test(size=WIDE) as pilot:
        screen = composer(app)
        await pilot.press("ctrl+t")
        start_value = screen.query_one("#tone").value
        await pilot.press("left", "left", "left")
        assert screen._ai_request == 0  # nothing yet: it waits until the slider stops
        await pilot_wait_until(pilot, lambda: screen.glow_state == "suggestion_ready")
        assert screen._ai_request == 1
        assert screen.suggestion.tone == pytest.approx(max(0.0, start_value - 0.3))


async def test_score_now_and_after_a_pause(offline_ai: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LUMINA_COMPOSER__SCORE_PAUSE_MS", "150")
    runtime = seeded_runtime()
    _draft, app = start(runtime)
    async with app.run_test(size=WIDE) as pilot:
        screen = composer(app)
        card = screen.query_one("#score-card")
        await pilot.press("ctrl+l")
        await pilot_wait_until(pilot, lambda: card.score is not None)
        text = card.text
        assert "spam risk" in text and "reply prob" in text
        assert (
            card.score.advice and card.score.advice[0].message in text.replace("\n", " ")
        ) or "nothing to fix" in text
        first_revision = card.revision
        screen.body.focus()
        await pilot.press("end", "?")
        await pilot_wait_until(pilot, lambda: card.revision > first_revision)  # refreshed by itself


async def test_auto_personalize_after_a_prospect_change(
    offline_ai: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LUMINA_COMPOSER__AUTO_PERSONALIZE_PAUSE_MS", "100")
    runtime = seeded_runtime()
    _draft, app = start(runtime)
    other = prospect_by_email(runtime, "marcus.hale@harborline.example")
    async with app.run_test(size=WIDE) as pilot:
        screen = composer(app)
        screen.set_prospect(other.id)
        await pilot_wait_until(pilot, lambda: screen.glow_state == "suggestion_ready")
        assert screen._ai_request == 1
        assert "Marcus" in screen.suggestion.suggestion.body


async def test_auto_personalize_after_a_substantial_edit_but_not_a_small_one(
    offline_ai: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LUMINA_COMPOSER__AUTO_PERSONALIZE_PAUSE_MS", "100")
    runtime = seeded_runtime()
    _draft, app = start(runtime)
    async with app.run_test(size=WIDE) as pilot:
        screen = composer(app)
        screen.body.focus()
        await pilot.press("end", "!")
        # Wait until the composer has decided about this pause (it clears the flag when it does),
        # rather than sleeping and hoping it has.
        await pilot_wait_until(pilot, lambda: not screen._auto_due)
        assert screen._ai_request == 0  # a typo fix is not a new context
        screen.body.insert(
            " We also shorten month-end close, reconcile carrier invoices and flag late loads" * 2
        )
        await pilot_wait_until(pilot, lambda: screen._ai_request == 1)


async def test_auto_personalize_can_be_turned_off(offline_ai: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LUMINA_COMPOSER__AUTO_PERSONALIZE", "false")
    monkeypatch.setenv("LUMINA_COMPOSER__AUTO_PERSONALIZE_PAUSE_MS", "50")
    runtime = seeded_runtime()
    _draft, app = start(runtime)
    other = prospect_by_email(runtime, "marcus.hale@harborline.example")
    async with app.run_test(size=WIDE) as pilot:
        screen = composer(app)
        screen.set_prospect(other.id)
        screen.body.insert(
            " A whole new paragraph about something else entirely, with many new words in it." * 3
        )
        # The pause was seen through to its end (the automatic score, due after the longer pause,
        # has run): an automatic personalize, if it were on, would have started by then.
        await pilot_wait_until(pilot, lambda: screen.query_one(ScoreCard).score is not None)
        assert screen._ai_request == 0


async def test_ai_calls_name_the_revision_they_saved(offline_ai: None) -> None:
    """Typed text not yet saved is saved by the AI call itself, and the suggestion is about it."""
    runtime = seeded_runtime()
    draft, app = start(runtime)
    async with app.run_test(size=WIDE) as pilot:
        screen = composer(app)
        screen.body.focus()
        await pilot.press("end", "!")
        typed = screen.body.text
        assert typed != BODY
        await pilot.press("ctrl+g")  # within the save interval: the AI worker saves first
        await pilot_wait_until(pilot, lambda: screen.glow_state == "suggestion_ready")
        assert stored(runtime, draft.id).body_text == typed
        assert stored(runtime, draft.id).revision > draft.revision


# ---------------------------------------------------------------- a local OpenAI-protocol server


async def test_a_slow_answer_arriving_after_an_edit_is_stale_and_not_applied(openai_server) -> None:
    openai_server.mode = "slow"
    openai_server.delay = 30
    openai_server.reply = {"subject": None, "body": "Hi Ana,\n\nA slow suggestion.\n\nBest,\nSam"}
    runtime = seeded_runtime()
    draft, app = start(runtime)
    async with app.run_test(size=WIDE) as pilot:
        screen = composer(app)
        await pilot.press("ctrl+g")
        await pilot_wait_until(pilot, lambda: openai_server.arrived.is_set())
        assert screen.glow_state == "thinking"
        screen.body.focus()
        await type_text(pilot, "typed while it thinks ")  # the editor stays interactive
        assert screen.body.text.startswith("typed while it thinks ")
        openai_server.release.set()
        await pilot_wait_until(pilot, lambda: screen.suggestion is not None)
        assert screen.glow_state == "stale"
        assert screen.body.text.startswith("typed while it thinks ")  # never applied silently
        await pilot_wait_until(pilot, lambda: stored(runtime, draft.id).body_text == screen.body.text)


async def test_a_new_request_replaces_the_running_one(openai_server) -> None:
    openai_server.mode = "slow"
    openai_server.delay = 30
    runtime = seeded_runtime()
    _draft, app = start(runtime)
    async with app.run_test(size=WIDE) as pilot:
        screen = composer(app)
        openai_server.reply = {"subject": None, "body": "Hi Ana,\n\nThe FIRST answer.\n\nBest,\nSam"}
        await pilot.press("ctrl+g")
        await pilot_wait_until(pilot, lambda: openai_server.count == 1)
        openai_server.reply = {"subject": None, "body": "Hi Ana,\n\nThe SECOND answer.\n\nBest,\nSam"}
        await pilot.press("ctrl+r")
        await pilot.pause()
        await type_text(pilot, "friendlier")
        await pilot.press("enter")
        await pilot_wait_until(pilot, lambda: openai_server.count == 2)
        openai_server.release.set()
        await pilot_wait_until(pilot, lambda: screen.suggestion is not None)
        await pilot.pause(0.3)  # the first answer comes back too, and must be dropped
        assert "SECOND" in screen.suggestion.suggestion.body
        assert screen.suggestion.operation == "rewrite"


async def test_an_ai_failure_shows_in_the_panel_and_typing_goes_on(openai_server) -> None:
    openai_server.mode = "server_error"
    openai_server.retry_after = None
    runtime = seeded_runtime()
    draft, app = start(runtime)
    async with app.run_test(size=WIDE) as pilot:
        screen = composer(app)
        await pilot.press("ctrl+g")
        note = screen.panel.query_one("#glow-note")
        await pilot_wait_until(pilot, lambda: "AI unavailable" in str(note.render()), timeout=60)
        assert note.has_class("-error")
        assert screen.glow_state == "idle" and screen.suggestion is None
        screen.body.focus()
        await pilot.press("end", "!")
        typed = screen.body.text
        await pilot_wait_until(pilot, lambda: stored(runtime, draft.id).body_text == typed)
        assert screen.check_action("send", ()) is True  # and sending is not blocked


async def test_thinking_pulses_unless_animations_are_off(openai_server) -> None:
    openai_server.mode = "slow"
    openai_server.delay = 30
    runtime = seeded_runtime()
    _draft, app = start(runtime, animations="full")
    async with app.run_test(size=WIDE) as pilot:
        screen = composer(app)
        await app.run_action("personalize", screen)
        await pilot_wait_until(pilot, lambda: screen.glow_state == "thinking")
        seen: set[float] = set()

        def moved() -> bool:
            seen.add(round(screen.panel.pulse, 2))
            return len(seen) > 5

        await pilot_wait_until(pilot, moved)  # the border's pulse value moves
        openai_server.release.set()
        await pilot_wait_until(pilot, lambda: screen.glow_state != "thinking")
    openai_server.release.clear()
    reset_ai_state()  # no cached answer for the same text
    reset = seeded_runtime()
    _draft, app = start(reset, animations="none")
    async with app.run_test(size=WIDE) as pilot:
        screen = composer(app)
        await app.run_action("personalize", screen)
        await pilot_wait_until(pilot, lambda: screen.glow_state == "thinking")
        values = set()
        for _ in range(10):
            await pilot.pause(0.05)
            values.add(screen.panel.pulse)
        assert values == {1.0}  # a steady blue: "thinking" without motion
        openai_server.release.set()
        await pilot_wait_until(pilot, lambda: screen.glow_state != "thinking")
