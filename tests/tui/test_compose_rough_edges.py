"""What a rep hit in the composer (issue 9, points 10, 16, 19): crashes, keys that did nothing, clutter.

Real app, real services, a real SQLite file; the editor is a real program run by the composer.
"""

from __future__ import annotations

import re
import stat
from pathlib import Path

import pytest
from compose_support import (
    NARROW,
    SNAP_WIDE,
    WIDE,
    composer,
    draft_for,
    make_app,
    only_explicit_saves,
    prospect_by_email,
    record_notes,
    seeded_runtime,
    stored,
    type_text,
)
from polling import pilot_wait_until
from textual.widgets import Label
from textual.widgets._footer import FooterKey

from lumina_tui.ai.orchestrator import UNGROUNDED_CAP
from lumina_tui.services import drafts, outbox, prospects, sending
from lumina_tui.tui.compose.reads import retarget
from lumina_tui.tui.screens.dialogs import QuitWhileSendingDialog
from lumina_tui.tui.screens.send_review import SendReviewScreen
from lumina_tui.tui.widgets.key_footer import keys_that_fit
from lumina_tui.tui.widgets.prospect_picker import ProspectPicker
from lumina_tui.tui.widgets.score_card import ScoreCard
from lumina_tui.tui.widgets.tone_slider import ToneSlider
from lumina_tui.tui.widgets.word_count import WordCount

pytestmark = pytest.mark.anyio

ANA = "ana.okafor@brightwave.example"


def fake_editor(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, script: str) -> Path:
    editor = tmp_path / "fake-editor"
    editor.write_text("#!/bin/sh\n" + script)
    editor.chmod(editor.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("EDITOR", str(editor))
    monkeypatch.delenv("VISUAL", raising=False)
    return editor


# ---------------------------------------------------------------- 10: crashes


def test_retarget_takes_backslashes_in_names_as_text() -> None:
    class P:
        def __init__(self, first: str, last: str, company: str) -> None:
            self.first_name, self.last_name, self.company, self.email = first, last, company, "x@y.example"

    old = P("Ana", "Okafor", "Brightwave Logistics")
    new = P("Jo\\g<0>", "D\\1", "Back\\slash \\N Co")
    text = retarget("Hi Ana,\nHow is Brightwave Logistics? Ana Okafor", old, None, new, None)
    assert text == "Hi Jo\\g<0>,\nHow is Back\\slash \\N Co? Jo\\g<0> D\\1"
    # And an old name that starts or ends with a non-word character is still found.
    back = retarget(text, new, None, old, None)
    assert back == "Hi Ana,\nHow is Brightwave Logistics? Ana Okafor"


async def test_duplicate_for_a_prospect_with_a_backslash_in_the_name() -> None:
    runtime = seeded_runtime()
    ana = prospect_by_email(runtime, ANA)
    odd = prospects.create(
        runtime.db,
        runtime.actor,
        email="odd@slash.example",
        first_name="Zo\\e",
        last_name="Q",
        company="A\\B Ltd",
    )
    draft = draft_for(runtime, ana, "Hi Ana,\n\nHow is Brightwave Logistics doing?")
    app = make_app(runtime, draft_id=draft.id)
    async with app.run_test(size=WIDE) as pilot:
        screen = composer(app)
        await app.run_action("duplicate_for_prospect", screen)
        picker = await pilot_wait_until(
            pilot, lambda: app.screen if isinstance(app.screen, ProspectPicker) else None
        )
        await pilot_wait_until(pilot, lambda: picker.loaded)
        await type_text(pilot, "odd@slash")
        await pilot.press("enter")
        await pilot_wait_until(pilot, lambda: screen.draft_id != draft.id)
        assert screen.prospect.id == odd.id
        assert screen.body.text == "Hi Zo\\e,\n\nHow is A\\B Ltd doing?"


async def test_an_editor_writing_non_utf8_keeps_its_file_and_the_draft(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No crash; what was typed before the editor started is stored before it runs; the editor's
    bytes are kept in its file and the rep is told where."""
    seen_at_start = tmp_path / "stored-when-the-editor-started"
    only_explicit_saves(monkeypatch)
    runtime = seeded_runtime()
    fake_editor(
        tmp_path,
        monkeypatch,
        f'cp "$1" "{seen_at_start}.file"\nprintf "caf\\351 cr\\350me\\n" > "$1"\n',
    )
    app = make_app(runtime)
    notes = record_notes(app)
    async with app.run_test(size=WIDE) as pilot:
        screen = composer(app)
        await type_text(pilot, "the last keys before the editor")
        draft_id = screen.draft_id
        await app.run_action("edit_in_editor", screen)
        await pilot_wait_until(pilot, lambda: any("not UTF-8" in note for note in notes))
        # Saved before the editor ran (the editor saw the same text in its file).
        assert stored(runtime, draft_id).body_text == "the last keys before the editor"
        assert Path(f"{seen_at_start}.file").read_text() == "the last keys before the editor\n"
        assert screen.body.text == "the last keys before the editor"  # unchanged
        note = next(note for note in notes if "not UTF-8" in note)
        kept = Path(note.rsplit("kept in ", 1)[1].strip())
        assert kept.read_bytes() == b"caf\xe9 cr\xe8me\n"
        kept.unlink()
        await type_text(pilot, "!")  # and the composer goes on
        assert screen.body.text.endswith("!")


async def test_the_editor_file_ends_with_a_newline_that_does_not_come_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    copy = tmp_path / "what-the-editor-got"
    fake_editor(tmp_path, monkeypatch, f'cp "$1" "{copy}"\nprintf "second line\\n" >> "$1"\n')
    runtime = seeded_runtime()
    app = make_app(runtime)
    async with app.run_test(size=WIDE) as pilot:
        screen = composer(app)
        await type_text(pilot, "first line")
        await app.run_action("edit_in_editor", screen)
        await pilot_wait_until(pilot, lambda: "second line" in screen.body.text)
        assert copy.read_bytes() == b"first line\n"
        assert screen.body.text == "first line\nsecond line"


async def test_a_failing_editor_keeps_its_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake_editor(tmp_path, monkeypatch, 'printf "half-written" > "$1"\nexit 3\n')
    runtime = seeded_runtime()
    app = make_app(runtime)
    notes = record_notes(app)
    async with app.run_test(size=WIDE) as pilot:
        screen = composer(app)
        await type_text(pilot, "mine")
        await app.run_action("edit_in_editor", screen)
        await pilot_wait_until(pilot, lambda: any("exited with 3" in note for note in notes))
        note = next(note for note in notes if "exited with 3" in note)
        kept = Path(note.rsplit("kept in ", 1)[1].strip())
        assert kept.read_text() == "half-written"
        kept.unlink()
        assert screen.body.text == "mine"


# ---------------------------------------------------------------- 16: every key answers


async def test_keys_on_a_sent_draft_say_why_nothing_happens() -> None:
    runtime = seeded_runtime()
    draft = draft_for(runtime, prospect_by_email(runtime, ANA), "Hi Ana, already gone.")
    sending.send(runtime.db, runtime.actor, draft_id=draft.id, settings=runtime.settings)
    app = make_app(runtime, draft_id=draft.id)
    notes = record_notes(app)
    async with app.run_test(size=WIDE) as pilot:
        screen = composer(app)
        assert screen.read_only
        for key in ("ctrl+s", "ctrl+g", "ctrl+r", "ctrl+t"):
            before = len(notes)
            await pilot.press(key)
            await pilot_wait_until(pilot, lambda before=before: len(notes) > before)
            assert "sent" in notes[-1] and "^n starts a new one" in notes[-1], (key, notes[-1])
        assert not isinstance(app.screen, SendReviewScreen)
        assert screen._ai_request == 0
        assert drafts.get(runtime.db, runtime.actor, draft.id).revision == draft.revision


# ---------------------------------------------------------------- 19: clutter


def all_drafts(runtime) -> list:  # type: ignore[no-untyped-def]
    return drafts.list_drafts(runtime.db, runtime.actor, include_sent=True, limit=100).items


async def test_empty_drafts_are_not_stored_from_new_draft_send_switch_or_quit() -> None:
    runtime = seeded_runtime()
    ana = prospect_by_email(runtime, ANA)
    draft = draft_for(runtime, ana, "Hi Ana,\n\nWould a short call next week be useful?\n\nBest,\nSam")
    before = {d.id for d in all_drafts(runtime)}
    app = make_app(runtime, draft_id=draft.id)
    async with app.run_test(size=WIDE) as pilot:
        screen = composer(app)
        await pilot.press("ctrl+s")
        await pilot_wait_until(pilot, lambda: isinstance(app.screen, SendReviewScreen))
        await pilot.press("enter")
        await pilot_wait_until(pilot, lambda: screen._pending_send is not None)
        await pilot_wait_until(pilot, lambda: screen.draft_id != draft.id)  # a fresh draft after the send
        fresh = screen.draft_id
        await pilot.press("ctrl+n")
        await pilot_wait_until(pilot, lambda: screen.draft_id != fresh)
        await pilot.press("ctrl+n")
        await pilot.press("f3")  # a screen switch saves the open draft...
        await pilot_wait_until(pilot, lambda: app.current_mode == "prospects")
        await pilot.press("f2")
        await pilot_wait_until(pilot, lambda: app.current_mode == "compose")
        await pilot_wait_until(
            pilot, lambda: screen.autosave.state == "new"
        )  # ...but there is nothing to save
        assert screen.status.saved == "new draft"
        await pilot.press("ctrl+q")  # and so does quitting
    assert {d.id for d in all_drafts(runtime)} == before  # only the sent one, no empty ones


async def test_a_new_draft_is_stored_once_it_has_content() -> None:
    runtime = seeded_runtime()
    before = len(all_drafts(runtime))
    app = make_app(runtime)
    async with app.run_test(size=WIDE) as pilot:
        screen = composer(app)
        await pilot.press("ctrl+n")
        await type_text(pilot, "x")
        await pilot_wait_until(pilot, lambda: len(all_drafts(runtime)) == before + 1)
        assert stored(runtime, screen.draft_id).body_text == "x"


# ---------------------------------------------------------------- 14: quitting inside the undo window


async def _queued(pilot, app, runtime):  # type: ignore[no-untyped-def]
    screen = composer(app)
    await pilot.press("ctrl+s")
    await pilot_wait_until(pilot, lambda: isinstance(app.screen, SendReviewScreen))
    await pilot.press("enter")
    await pilot_wait_until(pilot, lambda: screen._pending_send is not None)
    return outbox.list_emails(runtime.db, runtime.actor).items[0].id


def _status(runtime, email_id: str) -> str:  # type: ignore[no-untyped-def]
    return outbox.get_email(runtime.db, runtime.actor, email_id).status


async def test_quitting_in_the_undo_window_asks_stay_then_undo_and_quit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LUMINA_UNDO_WINDOW_SECONDS", "600")  # the window outlasts any slow machine
    runtime = seeded_runtime()
    draft = draft_for(runtime, prospect_by_email(runtime, ANA), "Hi Ana,\n\nA short call next week?\n\nSam")
    app = make_app(runtime, draft_id=draft.id)
    async with app.run_test(size=WIDE) as pilot:
        email_id = await _queued(pilot, app, runtime)
        await pilot.press("ctrl+q")
        dialog = await pilot_wait_until(
            pilot, lambda: app.screen if isinstance(app.screen, QuitWhileSendingDialog) else None
        )
        question = str(dialog.query_one("#quit-question", Label).render())
        assert re.fullmatch(r"1 email will still be sent in \d+ s\.", question), question
        await pilot.press("s")  # stay
        await pilot_wait_until(pilot, lambda: not isinstance(app.screen, QuitWhileSendingDialog))
        assert app.is_running and _status(runtime, email_id) == "PENDING_SEND"
        await pilot.press("ctrl+q")
        await pilot_wait_until(pilot, lambda: isinstance(app.screen, QuitWhileSendingDialog))
        await pilot.press("u")  # undo send and quit
        await pilot_wait_until(pilot, lambda: not app.is_running)
    assert _status(runtime, email_id) == "CANCELLED"


async def test_quit_anyway_leaves_the_email_to_be_sent(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LUMINA_UNDO_WINDOW_SECONDS", "600")
    runtime = seeded_runtime()
    draft = draft_for(runtime, prospect_by_email(runtime, ANA), "Hi Ana,\n\nA short call next week?\n\nSam")
    app = make_app(runtime, draft_id=draft.id)
    async with app.run_test(size=WIDE) as pilot:
        email_id = await _queued(pilot, app, runtime)
        await pilot.press("ctrl+q")
        await pilot_wait_until(pilot, lambda: isinstance(app.screen, QuitWhileSendingDialog))
        await pilot.press("q")
        await pilot_wait_until(pilot, lambda: not app.is_running)
    assert _status(runtime, email_id) == "PENDING_SEND"


async def test_quitting_with_nothing_waiting_does_not_ask() -> None:
    runtime = seeded_runtime()
    app = make_app(runtime)
    async with app.run_test(size=WIDE) as pilot:
        await pilot.press("ctrl+q")
        await pilot_wait_until(pilot, lambda: not app.is_running)


# ---------------------------------------------------------------- 17: honest glow

GLOW_BODY = (
    "Hi Ana,\n\nWe help operations teams cut the time they spend on weekly reporting. "
    "Would a short call next week be useful?\n\nBest,\nSam"
)


async def test_a_draft_with_no_prospect_gets_a_modest_confidence_that_says_why(offline_ai: None) -> None:
    runtime = seeded_runtime()
    body = GLOW_BODY.replace("Ana", "there")
    draft = drafts.create(runtime.db, runtime.actor, subject="Reporting", body=body)
    app = make_app(runtime, draft_id=draft.id)
    async with app.run_test(size=WIDE) as pilot:
        screen = composer(app)
        await pilot.press("ctrl+g")
        await pilot_wait_until(pilot, lambda: screen.glow_state == "suggestion_ready")
        assert screen.suggestion.confidence <= UNGROUNDED_CAP
        assert screen.panel.border_title == f"AI · suggestion ready {screen.suggestion.confidence:.2f}"
        claims = str(screen.panel.view.query_one("#suggestion-claims").render())
        assert "Nothing to personalize from" in claims


async def test_a_stale_suggestion_never_reads_fresh(offline_ai: None) -> None:
    runtime = seeded_runtime()
    draft = draft_for(runtime, prospect_by_email(runtime, ANA), GLOW_BODY)
    app = make_app(runtime, draft_id=draft.id)
    async with app.run_test(size=WIDE) as pilot:
        screen = composer(app)
        await pilot.press("ctrl+g")
        await pilot_wait_until(pilot, lambda: screen.glow_state == "suggestion_ready")
        meta = screen.panel.view.query_one("#suggestion-meta")
        assert "fresh · 0 s" in str(meta.render())
        screen.body.focus()
        await pilot.press("end", "!")
        await pilot_wait_until(pilot, lambda: screen.glow_state == "stale")
        await pilot_wait_until(pilot, lambda: "stale · 0 s" in str(meta.render()))
        assert "fresh" not in str(meta.render())


async def test_undoing_an_applied_suggestion_clears_applied(offline_ai: None) -> None:
    runtime = seeded_runtime()
    draft = draft_for(runtime, prospect_by_email(runtime, ANA), GLOW_BODY)
    app = make_app(runtime, draft_id=draft.id)
    async with app.run_test(size=WIDE) as pilot:
        screen = composer(app)
        await pilot.press("ctrl+g")
        await pilot_wait_until(pilot, lambda: screen.glow_state == "suggestion_ready")
        await pilot.press("ctrl+o")
        note = screen.panel.query_one("#glow-note")
        assert str(note.render()).startswith("Applied. ^z undoes it")  # one key style: ^z, like ^g
        assert screen._accepted_ids
        await pilot_wait_until(pilot, lambda: screen.glow_state == "idle")
        screen.body.focus()
        await pilot.press("ctrl+z")
        assert screen.body.text == GLOW_BODY
        await pilot_wait_until(pilot, lambda: str(note.render()).startswith("Undone"))
        assert "Applied" not in str(note.render())
        assert screen.glow_state == "idle" and screen._accepted_ids == []  # not sent as accepted


# ---------------------------------------------------------------- 19: layout, counts, tone


def screen_lines(app) -> list[str]:  # type: ignore[no-untyped-def]
    return [strip.text for strip in app.screen._compositor.render_strips()]


async def test_at_100x30_the_subject_from_line_and_footer_are_whole() -> None:
    runtime = seeded_runtime()
    subject = "Weekly reporting at Brightwave"
    draft = draft_for(runtime, prospect_by_email(runtime, ANA), GLOW_BODY, subject=subject)
    app = make_app(runtime, draft_id=draft.id)
    async with app.run_test(size=SNAP_WIDE) as pilot:
        screen = composer(app)
        await pilot_wait_until(pilot, lambda: screen.query_one(WordCount).count == len(GLOW_BODY.split()))
        lines = screen_lines(app)
        subject_line = next(line for line in lines if "Subject:" in line)
        assert subject in subject_line  # the word count no longer eats the subject's room
        assert any(f"{len(GLOW_BODY.split())} words" in line for line in lines)
        from_line = next(line for line in lines if "From:" in line)
        assert "sam@acme.test · local outbox" in from_line

        def footer_keys() -> dict[str, FooterKey]:
            return {key.action: key for key in screen.query(FooterKey) if key.region.width}

        keys = await pilot_wait_until(pilot, lambda: footer_keys() if "help" in footer_keys() else None)
        assert "command_palette" in keys and "send" in keys and "personalize" in keys
        for key in keys.values():  # every key shown is shown whole, inside the screen
            assert key.region.right <= SNAP_WIDE[0]
            assert key.region.width >= len(key.key_display) + len(key.description)


def test_the_footer_drops_the_least_used_keys_first() -> None:
    keys = [("personalize", 15), ("tone", 8), ("new_draft", 8), ("help", 9), ("command_palette", 13)]
    assert keys_that_fit(keys, 100) == {"personalize", "tone", "new_draft", "help", "command_palette"}
    assert keys_that_fit(keys, 46) == {"personalize", "new_draft", "help", "command_palette"}
    assert keys_that_fit(keys, 30) == {"help", "command_palette"}


async def test_a_long_score_card_scrolls_instead_of_cutting(offline_ai: None) -> None:
    runtime = seeded_runtime()
    draft = draft_for(runtime, prospect_by_email(runtime, ANA), GLOW_BODY, subject="Reporting")
    app = make_app(runtime, draft_id=draft.id)
    async with app.run_test(size=SNAP_WIDE) as pilot:
        screen = composer(app)
        card = screen.query_one(ScoreCard)
        await pilot.press("ctrl+l")
        await pilot_wait_until(pilot, lambda: card.score is not None)
        await pilot_wait_until(pilot, lambda: card.max_scroll_y > 0)  # more advice than room: it scrolls
        last = card.score.advice[-1].message
        card.scroll_end(animate=False)
        await pilot_wait_until(pilot, lambda: card.scroll_y == card.max_scroll_y)
        await pilot.pause()
        assert last.split()[-1] in "\n".join(screen_lines(app))  # the last advice, to its last word


async def test_ctrl_l_at_80x24_shows_the_score_in_a_drawer(offline_ai: None) -> None:
    runtime = seeded_runtime()
    draft = draft_for(runtime, prospect_by_email(runtime, ANA), GLOW_BODY, subject="Reporting")
    app = make_app(runtime, draft_id=draft.id)
    async with app.run_test(size=NARROW) as pilot:
        screen = composer(app)
        card = screen.query_one(ScoreCard)
        assert card.region.height == 0
        await pilot.press("ctrl+l")
        await pilot_wait_until(pilot, lambda: card.score is not None and card.region.height > 5)
        await pilot.pause()
        assert any("spam risk" in line for line in screen_lines(app))
        await pilot.press("escape")  # closes it
        await pilot_wait_until(pilot, lambda: card.region.height == 0)
        await pilot.press("ctrl+l")
        await pilot_wait_until(pilot, lambda: card.region.height > 5)
        screen.body.focus()
        await pilot.press("x")  # and so does typing
        await pilot_wait_until(pilot, lambda: card.region.height == 0)


async def test_the_prospect_picker_count_follows_the_filter() -> None:
    runtime = seeded_runtime()
    total = prospects.list_prospects(runtime.db, runtime.actor, limit=1).total
    app = make_app(runtime)
    async with app.run_test(size=WIDE) as pilot:
        screen = composer(app)
        await app.run_action("choose_prospect", screen)
        picker = await pilot_wait_until(
            pilot, lambda: app.screen if isinstance(app.screen, ProspectPicker) else None
        )
        await pilot_wait_until(pilot, lambda: picker.loaded)
        status = picker.query_one("#picker-status")
        assert str(status.render()).startswith(f"{total} prospects")
        await type_text(pilot, "ana.okafor")
        shown = picker.query_one("#picker-list").option_count
        await pilot_wait_until(pilot, lambda: str(status.render()).startswith(f"{shown} of {total} prospect"))
        assert shown < total


async def test_tone_is_kept_with_the_draft_across_restarts(offline_ai: None) -> None:
    runtime = seeded_runtime()
    draft = draft_for(runtime, prospect_by_email(runtime, ANA), GLOW_BODY)
    app = make_app(runtime, draft_id=draft.id)
    async with app.run_test(size=WIDE) as pilot:
        screen = composer(app)
        slider = screen.query_one(ToneSlider)
        start = slider.value
        await pilot.press("ctrl+t", "left", "left")
        assert slider.value == pytest.approx(start - 0.2)
        await pilot_wait_until(pilot, lambda: stored(runtime, draft.id).tone == pytest.approx(start - 0.2))
        await pilot.press("ctrl+q")
    app = make_app(runtime, draft_id=draft.id)  # a restart: a new app on the same store
    async with app.run_test(size=WIDE) as pilot:
        screen = composer(app)
        assert screen.query_one(ToneSlider).value == pytest.approx(start - 0.2)
        await pilot.press("ctrl+n")  # a new draft starts at the sender's default tone
        await pilot_wait_until(pilot, lambda: screen.draft_id != draft.id)
        assert screen.query_one(ToneSlider).value == pytest.approx(start)
