"""The UI thread rule: no service call runs on the event loop while the app runs (docs/invariants.md).

Every I/O-doing service function is wrapped by `ui_thread_guard.guard_services`, which records a
call made on the event loop's thread from UI code. The real app (real SQLite file, the offline AI
engine, the demo's Maildir outbox) is then driven through the composer's flows: open, type,
personalize, accept, reject, rewrite, score, template, prospect, the drafts list, new draft,
duplicate, the account check, send review, send, undo, and through the other screens (prospects,
outbox, stats, accounts, help). Nothing may be recorded. A first test shows the checker does see such a call.
"""

from __future__ import annotations

import pytest
from compose_support import (
    WIDE,
    composer,
    draft_for,
    make_app,
    prospect_by_email,
    seeded_runtime,
    type_text,
)
from polling import pilot_wait_until
from textual.widgets import Input, OptionList, Select
from ui_thread_guard import guard_services

from lumina_tui.services import templates
from lumina_tui.tui.compose import reads
from lumina_tui.tui.screens.dialogs import ChoiceDialog
from lumina_tui.tui.screens.prospect_form import ProspectFormScreen
from lumina_tui.tui.screens.send_review import SendReviewScreen
from lumina_tui.tui.widgets.prospect_picker import ProspectPicker
from lumina_tui.tui.widgets.score_card import ScoreCard

pytestmark = pytest.mark.anyio

ANA = "ana.okafor@brightwave.example"
MARCUS = "marcus.hale@harborline.example"
BODY = (
    "Hi Ana,\n\nWe help operations teams cut the time they spend on weekly reporting. "
    "Would a short call next week be useful?\n\nBest,\nSam"
)


def loads(screen: object) -> int:
    """Completed loads of the outbox, stats or accounts screen (each counts them for tests)."""
    return int(getattr(screen, "loads", 0))


async def test_the_checker_sees_a_service_call_on_the_event_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    runtime = seeded_runtime()
    seen = guard_services(monkeypatch)
    assert seen.wrapped > 50  # every I/O-doing service function, not a handful
    app = make_app(runtime)
    async with app.run_test(size=WIDE):
        assert seen.calls == []
        reads.open_composer(runtime, None)  # what `on_mount` did before: on the loop, from UI code
        called = {name for name, _where in seen.calls}
        assert {"drafts.latest_unsent", "accounts.list_accounts", "templates.list_templates"} <= called
        assert all(where.startswith("compose/reads.py") for _name, where in seen.calls)


async def test_no_service_call_on_the_event_loop_in_any_flow(
    offline_ai: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LUMINA_COMPOSER__AUTO_PERSONALIZE_PAUSE_MS", "600000")
    runtime = seeded_runtime()
    ana, marcus = prospect_by_email(runtime, ANA), prospect_by_email(runtime, MARCUS)
    older = draft_for(runtime, ana, "the older one", subject="Older subject")
    draft = draft_for(runtime, ana, BODY, subject="Weekly reporting at Brightwave")
    rows = templates.list_templates(runtime.db, runtime.actor)
    template = next(t for t in rows if t.name.startswith("Hook"))
    seen = guard_services(monkeypatch)
    app = make_app(runtime, draft_id=draft.id)

    async with app.run_test(size=WIDE) as pilot:
        screen = composer(app)
        assert screen.draft_id == draft.id  # opened (its reads ran in a thread)

        async def suggestion_shown() -> None:
            await pilot_wait_until(pilot, lambda: screen.glow_state in ("suggestion_ready", "stale"))

        # Type, personalize, accept; personalize, reject; rewrite; score.
        screen.body.focus()
        await pilot.press("end")
        await type_text(pilot, " Thanks")
        await pilot.press("ctrl+g")
        await suggestion_shown()
        await pilot.press("ctrl+o")
        await pilot_wait_until(pilot, lambda: screen._accepted_ids)
        await pilot.press("ctrl+z")  # the accepted suggestion undone
        await pilot.press("ctrl+g")
        await suggestion_shown()
        await pilot.press("escape")
        await pilot_wait_until(pilot, lambda: screen.suggestion is None)
        await pilot.press("ctrl+r")
        dialog = await pilot_wait_until(
            pilot, lambda: app.screen if isinstance(app.screen, ChoiceDialog) else None
        )
        await pilot.press("down", "enter")
        await suggestion_shown()
        await pilot.press("escape")
        await pilot.press("ctrl+l")
        await pilot_wait_until(pilot, lambda: screen.query_one(ScoreCard).score is not None)

        # A template, another prospect, the From account check.
        screen.query_one("#template-select", Select).value = template.id
        await pilot_wait_until(pilot, lambda: screen.template_id == template.id)
        screen.set_prospect(marcus.id)
        await pilot_wait_until(pilot, lambda: screen.prospect_id == marcus.id)
        await app.run_action("check_account", screen)
        await pilot_wait_until(pilot, lambda: len(app._notifications) > 0)

        # The drafts list, then duplicate for another prospect, then a new draft.
        await app.run_action("open_draft", screen)
        dialog = await pilot_wait_until(
            pilot, lambda: app.screen if isinstance(app.screen, ChoiceDialog) else None
        )
        await pilot_wait_until(pilot, lambda: dialog.query("#choice-list"))  # composed, not just pushed
        options = dialog.query_one("#choice-list", OptionList)
        options.highlighted = next(
            i for i in range(options.option_count) if options.get_option_at_index(i).id == older.id
        )
        await pilot.press("enter")
        await pilot_wait_until(pilot, lambda: screen.draft_id == older.id)
        await app.run_action("duplicate_for_prospect", screen)
        picker = await pilot_wait_until(
            pilot, lambda: app.screen if isinstance(app.screen, ProspectPicker) else None
        )
        await pilot_wait_until(pilot, lambda: picker.loaded)
        await type_text(pilot, "marcus hale")
        await pilot.press("enter")
        await pilot_wait_until(pilot, lambda: screen.draft_id not in (older.id, draft.id))
        await pilot.press("ctrl+n")
        await pilot_wait_until(pilot, lambda: screen.body.text == "")

        # Back to the first draft: review, send, undo.
        screen.drafts.open_by_id(draft.id)
        await pilot_wait_until(pilot, lambda: screen.draft_id == draft.id)
        await pilot.press("ctrl+s")
        await pilot_wait_until(pilot, lambda: isinstance(app.screen, SendReviewScreen))
        await pilot.press("enter")
        await pilot_wait_until(pilot, lambda: screen._pending_send is not None)
        await pilot.press("f8")
        await pilot_wait_until(pilot, lambda: screen._pending_send is None and screen.subject.value != "")

        # The other screens: prospects (search, the edit form), outbox (select, sync), stats (mark
        # read), accounts, help; then back to the composer.
        await pilot.press("f3")
        prospects = app.screen
        await pilot_wait_until(pilot, lambda: len(getattr(prospects, "shown_prospect_ids", [])) > 0)
        await pilot.press("e")
        await pilot_wait_until(pilot, lambda: isinstance(app.screen, ProspectFormScreen))
        form = app.screen
        await pilot_wait_until(
            pilot, lambda: [f for f in form.query("#field-email").results(Input) if f.value]
        )
        await pilot.press("escape")
        await pilot_wait_until(pilot, lambda: app.screen is prospects)
        await pilot.press("f4")
        outbox = app.screen
        await pilot_wait_until(pilot, lambda: loads(outbox) > 0)
        before = loads(outbox)
        await pilot.press("down", "up", "s")  # sync the mailboxes (the Maildir account has none)
        await pilot_wait_until(pilot, lambda: loads(outbox) > before)
        await pilot.press("f5")
        stats = app.screen
        await pilot_wait_until(pilot, lambda: loads(stats) > 0)
        before = loads(stats)
        await pilot.press("r")  # mark alerts read, then it reloads
        await pilot_wait_until(pilot, lambda: loads(stats) > before)
        await pilot.press("f9")
        await pilot_wait_until(pilot, lambda: loads(app.screen) > 0)
        await pilot.press("escape")
        await pilot.press("f1")
        await pilot.press("escape")
        await pilot.press("f2")
        await pilot_wait_until(pilot, lambda: app.screen is screen)
        await pilot.pause()

    assert seen.calls == [], "service calls on the event loop:\n" + "\n".join(
        f"  {name} from {where}" for name, where in seen.calls
    )
