"""Prospect data is data on every screen: markup is shown as text, control characters are shown, not
obeyed. Each screen is rendered by the real app on a real SQLite file and its rendered lines read.

The probes are the issue's: Rich markup that would become a clickable link (`[link=…]x[/link]`), a
bare `[/]` (MarkupError), an OSC 8 hyperlink and a clear-screen sequence (ESC), an 8-bit CSI
(U+009B) and a BiDi override (U+202E).
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from compose_support import composer, make_app
from polling import pilot_wait_until
from textual.app import App
from textual.widgets import DataTable, OptionList

from lumina_tui.services import accounts, drafts, prospects, sending
from lumina_tui.services import outbox as outbox_service
from lumina_tui.services.runtime import Runtime, open_runtime
from lumina_tui.services.send_review import build_review
from lumina_tui.store import utcnow
from lumina_tui.tui.screens.dialogs import ChoiceDialog
from lumina_tui.tui.screens.outbox import OutboxScreen
from lumina_tui.tui.screens.prospects import ProspectsScreen
from lumina_tui.tui.screens.send_review import SendReviewScreen
from lumina_tui.tui.widgets.prospect_card import card_text, recipient_line
from lumina_tui.tui.widgets.prospect_picker import ProspectPicker
from lumina_tui.tui.widgets.score_card import score_text
from lumina_tui.tui.widgets.suggestion_view import claims_text, render_diff

pytestmark = pytest.mark.anyio

LINK = "[link=http://evil.example]x[/link]"
OSC8 = "\x1b]8;;http://evil\x1b\\"
CLEAR = "\x1b[2J"
RLO = "\u202e"
CSI8 = "\x9b"
RAW = ("\x1b", RLO, CSI8)


def assert_inert(text: str) -> None:
    for char in RAW:
        assert char not in text, f"{char!r} reached the screen raw"


def rendered(app: App) -> tuple[str, bool]:
    """The screen's text as drawn, and whether any cell carries a hyperlink."""
    strips = list(app.screen._compositor.render_strips())
    text = "\n".join(strip.text for strip in strips)
    linked = any(seg.style is not None and seg.style.link for strip in strips for seg in strip)
    return text, linked


class Host(App[None]):
    """Hosts one screen the way LuminaApp does (the runtime on the app)."""

    def __init__(self, runtime: Runtime, screen: Any) -> None:
        super().__init__()
        self.runtime = runtime
        self._first = screen

    def on_mount(self) -> None:
        self.push_screen(self._first)


@pytest.fixture
def runtime(settings, monkeypatch: pytest.MonkeyPatch) -> Runtime:
    monkeypatch.setenv("LUMINA_UNDO_WINDOW_SECONDS", "600")
    rt = open_runtime()
    accounts.add_account(rt.db, rt.actor, provider="maildir", email="rep@outbox.test", make_default=True)
    return rt


def stored_unchecked(runtime: Runtime, draft_id: str, prospect: Any) -> Any:
    """The email row an older build queued for this draft: since issue 9 point 4 a send refuses a
    subject or name holding control characters, but rows stored before must still show as data."""
    import uuid

    plan = sending._Plan(
        draft=drafts.get(runtime.db, runtime.actor, draft_id),
        account=accounts.resolve_account(runtime.db, runtime.actor, None),
        to_email=prospect.email,
        to_name=f"{prospect.first_name} {prospect.last_name}",
        from_name="",
        prospect_snapshot={},
        score={},
    )
    key = str(uuid.uuid4())
    return sending._insert(
        runtime.db, runtime.actor, runtime.settings, plan, key=key, fingerprint=key, suggestions=[]
    )


@pytest.fixture
def mallory(runtime: Runtime) -> Any:
    from lumina_tui.store.models import Prospect

    prospect = prospects.create(
        runtime.db, runtime.actor, email="mallory@evil.example", first_name=f"{LINK} [/]",
        job_title="[bold]CEO",
    )  # fmt: skip
    # `prospects add` and the import now refuse control characters in a name (issue 9 point 4);
    # a row stored before that (or edited by hand) must still show as data: store it directly.
    with runtime.db.write() as session:
        row = session.get(Prospect, prospect.id)
        row.last_name, row.company = f"{OSC8}{RLO}gpj", f"{CSI8}31mAcme {CLEAR}"
        session.add(row)
        session.flush()
        return row


def test_the_prospect_card_and_suggestion_view_keep_hostile_text_inert(mallory: Any) -> None:
    company = SimpleNamespace(name="", industry=f"{CLEAR}Logistics", size="", location=RLO)
    card = card_text(mallory, company).plain
    assert_inert(card)
    assert LINK in card and "[/]" in card and "␛[2JLogistics" in card
    assert_inert(recipient_line(mallory))
    claims = claims_text([SimpleNamespace(text=f"{OSC8}40%", kind="percent")], [f"note {CLEAR}"]).plain
    assert_inert(claims)
    assert "␛]8;;http://evil␛\\40%" in claims and "note ␛[2J" in claims
    diff = render_diff(f"Hi {CLEAR}[/]", [SimpleNamespace(old="", new=RLO, old_start=3, old_end=3)]).plain
    assert_inert(diff)
    assert "[/]" in diff
    signals = SimpleNamespace(question_count=0, reading_grade=8, link_count=0, personalization=0)
    advice = [SimpleNamespace(message=f"Drop “{CLEAR}{RLO}act now”", signal="banned", level="fix")]
    card = score_text(SimpleNamespace(spam_risk=0.5, reply_probability=0.2, signals=signals, advice=advice))
    assert_inert(card.plain)
    assert "Drop “␛[2J<U+202E>act now”" in card.plain


async def test_prospects_table_and_picker_show_hostile_values_as_text(runtime: Runtime, mallory: Any) -> None:
    app = Host(runtime, ProspectsScreen())
    async with app.run_test(size=(160, 30)) as pilot:
        await pilot_wait_until(pilot, lambda: app.screen.query_one(DataTable).row_count == 1)
        await pilot.pause()
        text, linked = rendered(app)
        assert_inert(text)
        assert not linked
        assert "[link=http://" in text and "<U+009B>31mAcme" in text and "[bold]CEO" in text
        app.push_screen(ProspectPicker())
        await pilot_wait_until(pilot, lambda: isinstance(app.screen, ProspectPicker) and app.screen.loaded)
        await pilot.pause()
        text, linked = rendered(app)
        assert_inert(text)
        assert not linked
        assert LINK in text


async def test_outbox_and_send_review_show_hostile_values_as_text(runtime: Runtime, mallory: Any) -> None:
    draft = drafts.create(
        runtime.db,
        runtime.actor,
        prospect_id=mallory.id,
        subject=f"Hi {CLEAR}{RLO}",
        body=f"Hello {OSC8} [/] {CSI8}\nSecond line",
    )
    review = build_review(runtime.db, runtime.actor, runtime.settings, draft.id, now=utcnow())
    app = Host(runtime, SendReviewScreen(review))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot_wait_until(pilot, lambda: isinstance(app.screen, SendReviewScreen))
        await pilot.pause()
        text, linked = rendered(app)
        assert_inert(text)
        assert not linked
        assert "Hi ␛[2J<U+202E>" in text and "[/]" in text

    stored_unchecked(runtime, draft.id, mallory)
    outbox = OutboxScreen()
    app = Host(runtime, outbox)
    async with app.run_test(size=(160, 40)) as pilot:
        await pilot_wait_until(pilot, lambda: outbox.query_one(DataTable).row_count == 1)
        # The detail pane fills in after the table (a worker thread): wait for the subject itself.
        await pilot_wait_until(pilot, lambda: "Hi ␛[2J<U+202E>" in rendered(app)[0])
        text, linked = rendered(app)
        assert_inert(text)
        assert not linked
        assert "Hi ␛[2J<U+202E>" in text


async def test_open_a_draft_lists_a_cancelled_send_as_cancelled_beside_its_copy(
    runtime: Runtime, mallory: Any
) -> None:
    draft = drafts.create(
        runtime.db, runtime.actor, prospect_id=mallory.id, subject=f"Undo me {CLEAR}", body="Hi there"
    )
    email = stored_unchecked(runtime, draft.id, mallory)
    copy_id = outbox_service.cancel(runtime.db, runtime.actor, email.id).draft_id
    app = make_app(runtime, draft_id=copy_id)
    async with app.run_test(size=(160, 40), notifications=True) as pilot:
        await pilot_wait_until(pilot, lambda: app.composer is not None and composer(app).draft_id == copy_id)
        composer(app).action_open_draft()
        await pilot_wait_until(pilot, lambda: isinstance(app.screen, ChoiceDialog))
        await pilot.pause()
        options = app.screen.query_one(OptionList)
        labels = {
            options.get_option_at_index(i).id: str(options.get_option_at_index(i).prompt)
            for i in range(options.option_count)
        }
        assert labels[draft.id].endswith("· cancelled"), labels
        assert labels[copy_id].endswith("· rev 1"), labels
        assert "sent" not in labels[draft.id]
        # The dialog as drawn (the composer's own editors below it hold the draft's raw subject:
        # control characters there are refused at import and send, issue 9 point 4).
        region = options.region
        lines = rendered(app)[0].splitlines()[region.y : region.bottom]
        text = "\n".join(line[region.x : region.right] for line in lines)
        assert_inert(text)
        assert "Undo me ␛[2J" in text
        assert "mallory@evil.example" in text
        # The top line (who the draft is for) and toasts quoting a name are plain text too.
        options.highlighted = list(labels).index(draft.id)
        await pilot.press("enter")  # open the cancelled draft: read-only, and it says "cancelled"
        await pilot_wait_until(pilot, lambda: composer(app).draft_id == draft.id)
        await pilot.pause()
        top = rendered(app)[0].splitlines()[0]
        assert "[cancelled" in top and "sent" not in top  # the long name leaves room for a word
        assert composer(app).status.frozen_as == "cancelled" and composer(app).read_only
        composer(app).notify(f"Duplicated for [/] {CLEAR}.")  # markup here raised MarkupError
        await pilot_wait_until(pilot, lambda: "Duplicated for" in rendered(app)[0])
        text, linked = rendered(app)
        top = text.splitlines()[0]
        assert_inert(top)
        assert LINK in top
        assert not linked
        toast = next(line for line in text.splitlines() if "Duplicated for" in line)
        assert_inert(toast)
        assert "[/] ␛[2J" in toast



async def test_the_composers_own_fields_show_control_characters_and_store_what_they_show(
    runtime: Runtime, mallory: Any
) -> None:
    """Issue 9.3's last gap: the subject Input and the body TextArea drew ESC, U+202E and U+009B raw
    while a draft held them (stored by `drafts save`, pasted, or typed in $EDITOR). They are shown
    (␛, <U+202E>) from the moment they enter, and what the composer saves is what it showed."""
    from textual import events
    from textual.widgets import Input, TextArea

    draft = drafts.create(
        runtime.db, runtime.actor, prospect_id=mallory.id,
        subject=f"Hi {CLEAR}{RLO}there{CSI8}", body=f"Hello {OSC8}link{RLO}\r\nsecond {CSI8}line",
    )  # fmt: skip
    app = make_app(runtime, draft_id=draft.id)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = composer(app)
        subject = screen.query_one("#subject", Input)
        body = screen.query_one("#body", TextArea)
        await pilot_wait_until(pilot, lambda: "there" in subject.value and "second" in body.text)
        assert subject.value == "Hi ␛[2J<U+202E>there<U+009B>"
        assert body.text == "Hello ␛]8;;http://evil␛\\link<U+202E>\nsecond <U+009B>line"
        text, linked = rendered(app)
        assert_inert(text)
        assert not linked

        # A paste brings them in again: into the subject and into the body.
        subject.focus()
        subject.action_end()
        subject.post_message(events.Paste(f" {CLEAR}x{RLO}"))
        await pilot_wait_until(pilot, lambda: subject.value.endswith("x<U+202E>"))
        body.focus()
        body.post_message(events.Paste(f"{CSI8}31m{RLO}pasted"))
        await pilot_wait_until(pilot, lambda: "pasted" in body.text)
        assert "<U+009B>31m<U+202E>pasted" in body.text
        text, _ = rendered(app)
        assert_inert(text)
        assert screen.flush_blocking() is not None

    saved = drafts.get(runtime.db, runtime.actor, draft.id)
    assert saved.subject.endswith(" ␛[2Jx<U+202E>") and "<U+009B>31m<U+202E>pasted" in saved.body_text
    assert_inert(saved.subject + saved.body_text)
