"""The send review modal: Enter sends, Esc goes back, blockers disable Enter and say why."""

from __future__ import annotations

from datetime import timedelta

import pytest
from polling import pilot_wait_until
from snapshot_sizes import snapshot_sizes
from textual.app import App
from textual.pilot import Pilot

from lumina_tui.services import accounts, drafts, prospects, sending
from lumina_tui.services.runtime import Runtime, open_runtime
from lumina_tui.services.send_review import SendReview, build_review
from lumina_tui.store import utcnow
from lumina_tui.tui.app import LuminaApp
from lumina_tui.tui.screens.prospects import ProspectsScreen
from lumina_tui.tui.screens.send_review import SendReviewScreen

pytestmark = pytest.mark.anyio

BODY = (
    "Hi Ana,\n\n"
    "Teams like Brightwave's operations group usually lose a day a week to manual reporting. "
    "We connect the tools you already use and keep the numbers in sync.\n\n"
    "Would a 15-minute call next Tuesday be useful?\n\nBest,\nSam"
)
SCORE = {"spam_risk": 0.08, "reply_probability": 0.41}


class ReviewHost(App[None]):
    """Opens the review the way the composer does and records the answer."""

    def __init__(self, review: SendReview) -> None:
        super().__init__()
        self.review = review
        self.answers: list[bool | None] = []

    def on_mount(self) -> None:
        self.push_screen(SendReviewScreen(self.review), self.answers.append)


@pytest.fixture
def runtime(settings) -> Runtime:
    return open_runtime(settings)


def _ana(rt: Runtime):
    return prospects.create(
        rt.db, rt.actor, email="ana.okafor@brightwave.example", first_name="Ana", last_name="Okafor"
    )


@pytest.fixture
def ready_review(runtime) -> SendReview:
    """A real review of a real draft that was emailed six days ago."""
    accounts.add_account(
        runtime.db, runtime.actor, provider="maildir", email="rep@outbox.test", make_default=True
    )
    ana = _ana(runtime)
    now = utcnow()
    earlier = drafts.create(runtime.db, runtime.actor, prospect_id=ana.id, subject="Intro", body="Hi Ana")
    six_days_ago = now - timedelta(days=6, hours=2)
    sending.send(
        runtime.db, runtime.actor, draft_id=earlier.id, settings=runtime.settings, clock=lambda: six_days_ago
    )
    draft = drafts.create(
        runtime.db, runtime.actor, prospect_id=ana.id, subject="Quick question about Q3 onboarding", body=BODY
    )
    return build_review(runtime.db, runtime.actor, runtime.settings, draft.id, score=SCORE, now=now)


@pytest.fixture
def blocked_review(runtime) -> SendReview:
    """No account, a leftover field, an empty subject and an "attached" with nothing attached."""
    ana = _ana(runtime)
    draft = drafts.create(
        runtime.db,
        runtime.actor,
        prospect_id=ana.id,
        subject="",
        body="Hi {{first_name}},\nThe case study is attached.",
    )
    return build_review(
        runtime.db,
        runtime.actor,
        runtime.settings,
        draft.id,
        extra_warnings=['Unsupported claim: "cut costs by 40%"'],
        score={"spam_risk": 0.55, "reply_probability": 0.12},
    )


def screen_text(app: App) -> str:
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())


async def test_shows_what_will_go_out(ready_review):
    app = ReviewHost(ready_review)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot_wait_until(pilot, lambda: isinstance(app.screen, SendReviewScreen))
        text = screen_text(app)
        assert "Send this email?" in text
        assert "rep@outbox.test (local outbox, not delivered)" in text
        assert "Ana Okafor <ana.okafor@brightwave.example>" in text
        assert "Quick question about Q3 onboarding" in text
        assert "Teams like Brightwave's operations group" in text
        assert "spam risk 0.08 · reply prob. 0.41" in text
        assert "⚠ You emailed Ana 6 days ago." in text


async def test_the_whole_body_is_shown_exactly_and_scrolls(runtime):
    """Issue 9.15: no collapsed blank lines, no cut ("…cut their month-…"): the text that goes out."""
    accounts.add_account(runtime.db, runtime.actor, provider="maildir", email="rep@outbox.test")
    ana = _ana(runtime)
    body = (
        "Hi Ana,\n\n\nTeams like yours cut their month-end close from ten days to four. "
        + "We do it by connecting the tools you already use. " * 6
        + "\n\n"
        + "\n".join(f"Point {n}." for n in range(1, 31))
        + "\n\nBest,\nSam"
    )
    draft = drafts.create(runtime.db, runtime.actor, prospect_id=ana.id, subject="Long one", body=body)
    review = build_review(runtime.db, runtime.actor, runtime.settings, draft.id, score=SCORE)
    assert review.body == body
    app = ReviewHost(review)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot_wait_until(pilot, lambda: isinstance(app.screen, SendReviewScreen))
        message = app.screen.query_one("#review-message")
        assert str(message.render()) == body
        scroller = app.screen.query_one("#review-body")
        assert app.focused is scroller
        await pilot_wait_until(pilot, lambda: scroller.max_scroll_y > 0)
        await pilot.press("end")  # the keys scroll to the end of the email
        await pilot_wait_until(pilot, lambda: scroller.scroll_y == scroller.max_scroll_y)
        assert "Point 30." in screen_text(app) and "Best," in screen_text(app)
        await pilot.press("enter")
        await pilot_wait_until(pilot, lambda: app.answers == [True])


async def test_enter_confirms(ready_review):
    app = ReviewHost(ready_review)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot_wait_until(pilot, lambda: isinstance(app.screen, SendReviewScreen))
        await pilot.press("enter")
        await pilot_wait_until(pilot, lambda: app.answers == [True])
        assert not isinstance(app.screen, SendReviewScreen)


async def test_escape_goes_back(ready_review):
    app = ReviewHost(ready_review)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot_wait_until(pilot, lambda: isinstance(app.screen, SendReviewScreen))
        await pilot.press("escape")
        await pilot_wait_until(pilot, lambda: app.answers == [False])


async def test_the_buttons_do_the_same_as_the_keys(ready_review):
    app = ReviewHost(ready_review)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot_wait_until(pilot, lambda: isinstance(app.screen, SendReviewScreen))
        await pilot.click("#review-send")
        await pilot_wait_until(pilot, lambda: app.answers == [True])


async def test_blockers_disable_enter_and_say_why(blocked_review):
    app = ReviewHost(blocked_review)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot_wait_until(pilot, lambda: isinstance(app.screen, SendReviewScreen))
        screen = app.screen
        text = screen_text(app)
        assert "This email cannot be sent yet" in text
        assert "✖ Fill in {{first_name}}" in text
        assert "✖ No From account" in text
        assert "⚠ The subject is empty." in text
        assert '⚠ Unsupported claim: "cut costs by 40%"' in text
        assert 'says "attached"' in text
        assert "⚠ High spam risk (0.55)" in text
        assert "Send disabled" in text
        assert screen.check_action("confirm", ()) is None
        await pilot.press("enter")  # press() returns once the screen has handled the key
        assert app.answers == [] and app.screen is screen
        await pilot.click("#review-send")
        await pilot.pause()
        assert app.answers == []
        await pilot.press("escape")
        await pilot_wait_until(pilot, lambda: app.answers == [False])


async def test_a_remapped_send_key_confirms(ready_review):
    app = ReviewHost(ready_review)
    app.set_keymap({"send_review_confirm": "y"})
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot_wait_until(pilot, lambda: isinstance(app.screen, SendReviewScreen))
        await pilot.press("y")
        await pilot_wait_until(pilot, lambda: app.answers == [True])


# ---- snapshots (in the Lumina app, over the prospects screen so the backdrop holds still) --------


def _review_in_lumina(runtime: Runtime, review: SendReview, size: tuple[int, int], snap_compare) -> bool:
    async def run_before(pilot: Pilot) -> None:
        await pilot.press("f3")
        await pilot_wait_until(pilot, lambda: isinstance(pilot.app.screen, ProspectsScreen))
        screen = pilot.app.screen
        await pilot_wait_until(pilot, lambda: len(screen.shown_prospect_ids) > 0)
        pilot.app.push_screen(SendReviewScreen(review))
        await pilot_wait_until(pilot, lambda: isinstance(pilot.app.screen, SendReviewScreen))

    app = LuminaApp(runtime, handle_signals=False, clock=lambda: 1000.0)
    return snap_compare(app, terminal_size=size, run_before=run_before)


@snapshot_sizes((100, 30), (80, 24))
def test_snapshot_send_review(runtime, ready_review, snap_compare, size):
    assert _review_in_lumina(runtime, ready_review, size, snap_compare)


@snapshot_sizes((100, 30), (80, 24))
def test_snapshot_send_review_blocked(runtime, blocked_review, snap_compare, size):
    assert _review_in_lumina(runtime, blocked_review, size, snap_compare)
