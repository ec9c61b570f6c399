"""Opening drafts, choosing prospects (fuzzy), templates, accounts, duplicating, and $EDITOR."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
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
from textual.widgets import OptionList, Select

from lumina_tui.services import drafts, templates
from lumina_tui.tui.screens.dialogs import ChoiceDialog
from lumina_tui.tui.widgets.prospect_picker import ProspectPicker, rank

pytestmark = pytest.mark.anyio

ANA = "ana.okafor@brightwave.example"
MARCUS = "marcus.hale@harborline.example"


async def test_opens_the_last_unsent_draft() -> None:
    runtime = seeded_runtime()
    ana = prospect_by_email(runtime, ANA)
    draft_for(runtime, ana, "older draft")
    latest = draft_for(runtime, ana, "the latest draft")
    app = make_app(runtime)
    async with app.run_test(size=WIDE):
        screen = composer(app)
        assert screen.draft_id == latest.id
        assert screen.body.text == "the latest draft"
        assert screen.prospect.id == ana.id
        assert "Ana Okafor" in str(screen.query_one("#prospect-card").render())
        assert "Brightwave Logistics" in screen.status.who


async def test_draft_id_opens_that_draft_with_the_cursor_in_the_body() -> None:
    runtime = seeded_runtime()
    ana = prospect_by_email(runtime, ANA)
    wanted = draft_for(runtime, ana, "open me", subject="Wanted")
    draft_for(runtime, ana, "newer, not wanted")
    app = make_app(runtime, draft_id=wanted.id)
    async with app.run_test(size=WIDE) as pilot:
        screen = composer(app)
        assert screen.draft_id == wanted.id
        assert app.focused is screen.body
        await pilot.press("X")
        assert screen.body.text == "Xopen me"


async def test_new_draft_key_saves_the_old_and_starts_empty() -> None:
    runtime = seeded_runtime()
    app = make_app(runtime)
    async with app.run_test(size=WIDE) as pilot:
        screen = composer(app)
        first = screen.draft_id
        await type_text(pilot, "first draft")
        await pilot.press("ctrl+n")
        await pilot_wait_until(pilot, lambda: screen.draft_id != first)
        assert screen.body.text == ""
        assert stored(runtime, first).body_text == "first draft"


async def test_prospect_picker_is_fuzzy_over_name_email_and_company() -> None:
    runtime = seeded_runtime()
    app = make_app(runtime)
    async with app.run_test(size=WIDE) as pilot:
        screen = composer(app)
        await pilot.click("#choose-prospect")
        picker = await pilot_wait_until(
            pilot, lambda: app.screen if isinstance(app.screen, ProspectPicker) else None
        )
        await pilot_wait_until(pilot, lambda: picker.loaded)
        await type_text(pilot, "harborln")  # a typo'd company name still finds Harborline
        options = picker.query_one("#picker-list", OptionList)
        await pilot_wait_until(pilot, lambda: options.option_count > 0)
        first = options.get_option_at_index(0)
        assert "harborline" in str(first.prompt).lower()
        await pilot.press("enter")
        await pilot_wait_until(pilot, lambda: screen.prospect is not None)
        assert screen.prospect.email.endswith("@harborline.example")
        assert screen.query_one("#to-line").render()  # the To line names them
        assert screen.prospect.email in str(screen.query_one("#to-line").render())


def test_rank_matches_email_and_name() -> None:
    class P:
        def __init__(self, first: str, last: str, email: str, company: str) -> None:
            self.first_name, self.last_name, self.email, self.company = first, last, email, company

    people = [
        P("Ana", "Okafor", "ana@brightwave.example", "Brightwave"),
        P("Marcus", "Hale", "mh@harbor.example", ""),
    ]
    assert rank("okafor", people)[0].first_name == "Ana"
    assert rank("mh@harb", people)[0].first_name == "Marcus"
    assert rank("zzzz", people) == []
    assert len(rank("", people)) == 2


async def test_template_fills_fields_from_the_prospect_as_one_undoable_edit() -> None:
    runtime = seeded_runtime()
    ana = prospect_by_email(runtime, ANA)
    draft = draft_for(runtime, ana, "my own words", subject="mine")
    template = next(
        t for t in templates.list_templates(runtime.db, runtime.actor) if t.name.startswith("Hook")
    )
    app = make_app(runtime, draft_id=draft.id)
    async with app.run_test(size=WIDE) as pilot:
        screen = composer(app)
        screen.query_one("#template-select", Select).value = template.id
        await pilot_wait_until(pilot, lambda: screen.template_id == template.id)
        filled = templates.fill_for_prospect(runtime.db, runtime.actor, template.id, ana.id)
        assert screen.body.text == filled.body
        assert screen.subject.value == filled.subject
        assert "{{" not in screen.body.text and "Ana" in screen.body.text
        screen.body.focus()
        await pilot.press("ctrl+z")  # one undo restores body *and* subject
        assert screen.body.text == "my own words"
        assert screen.subject.value == "mine"
        await pilot_wait_until(pilot, lambda: stored(runtime, draft.id).body_text == "my own words")


async def test_account_selector_sets_the_from_account() -> None:
    runtime = seeded_runtime()
    from lumina_tui.services import accounts

    second = accounts.add_account(
        runtime.db, runtime.actor, provider="maildir", email="other@acme.test", name="Other"
    )
    ana = prospect_by_email(runtime, ANA)
    draft = draft_for(runtime, ana, "hello")
    app = make_app(runtime, draft_id=draft.id)
    async with app.run_test(size=WIDE) as pilot:
        screen = composer(app)
        assert screen.account_id is not None and screen.account_id != second.id
        screen.query_one("#account-select", Select).value = second.id
        await pilot_wait_until(pilot, lambda: screen.account_id == second.id)
        await pilot_wait_until(pilot, lambda: stored(runtime, draft.id).account_id == second.id)


async def test_drafts_list_in_the_palette_opens_a_draft() -> None:
    runtime = seeded_runtime()
    ana = prospect_by_email(runtime, ANA)
    older = draft_for(runtime, ana, "the older one", subject="Older subject")
    draft_for(runtime, ana, "the newer one", subject="Newer subject")
    app = make_app(runtime)
    async with app.run_test(size=WIDE) as pilot:
        screen = composer(app)
        await pilot.press("ctrl+p")
        await type_text(pilot, "open a draft")
        await pilot.press("enter")
        dialog = await pilot_wait_until(
            pilot, lambda: app.screen if isinstance(app.screen, ChoiceDialog) else None
        )
        options = dialog.query_one("#choice-list", OptionList)
        index = next(i for i in range(options.option_count) if options.get_option_at_index(i).id == older.id)
        options.highlighted = index
        await pilot.press("enter")
        await pilot_wait_until(pilot, lambda: screen.draft_id == older.id)
        assert screen.body.text == "the older one"
        assert screen.subject.value == "Older subject"


async def test_duplicate_for_another_prospect_swaps_their_details() -> None:
    runtime = seeded_runtime()
    ana = prospect_by_email(runtime, ANA)
    marcus = prospect_by_email(runtime, MARCUS)
    draft = draft_for(
        runtime, ana, "Hi Ana,\n\nHow is Brightwave Logistics doing?", subject="For Brightwave Logistics"
    )
    app = make_app(runtime, draft_id=draft.id)
    async with app.run_test(size=WIDE) as pilot:
        screen = composer(app)
        await app.run_action("duplicate_for_prospect", screen)
        picker = await pilot_wait_until(
            pilot, lambda: app.screen if isinstance(app.screen, ProspectPicker) else None
        )
        await pilot_wait_until(pilot, lambda: picker.loaded)
        await type_text(pilot, "marcus hale")
        await pilot.press("enter")
        await pilot_wait_until(pilot, lambda: screen.draft_id != draft.id)
        assert screen.prospect.id == marcus.id
        assert screen.body.text == "Hi Marcus,\n\nHow is Harborline Foods doing?"
        assert screen.subject.value == "For Harborline Foods"
        assert stored(runtime, draft.id).body_text.startswith("Hi Ana")  # the original is untouched
        assert drafts.get(runtime.db, runtime.actor, screen.draft_id).prospect_id == marcus.id


async def test_compose_in_editor_replaces_the_body_as_one_edit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    editor = tmp_path / "fake-editor"
    editor.write_text('#!/bin/sh\nprintf "Written in my editor.\\n" > "$1"\n')
    editor.chmod(editor.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("EDITOR", str(editor))
    monkeypatch.delenv("VISUAL", raising=False)
    runtime = seeded_runtime()
    app = make_app(runtime)
    async with app.run_test(size=WIDE) as pilot:
        screen = composer(app)
        await type_text(pilot, "typed here")
        await app.run_action("edit_in_editor", screen)
        await pilot_wait_until(pilot, lambda: screen.body.text == "Written in my editor.")
        screen.body.focus()
        await pilot.press("ctrl+z")
        assert screen.body.text == "typed here"
    assert os.environ["EDITOR"] == str(editor)
