"""Send from the composer: review (ctrl+s), Enter, the undo banner, undo (f8), a fresh draft.

Real services throughout: the review is `services.send_review.build_review`, the send is
`services.sending.send` into the demo's Maildir outbox account (nothing leaves the machine; no
worker runs here, so the email waits in PENDING_SEND for its undo window).
"""

from __future__ import annotations

import pytest
from compose_support import (
    WIDE,
    composer,
    draft_for,
    first_prospect,
    make_app,
    seeded_runtime,
    stored,
)
from polling import pilot_wait_until

from lumina_tui.services import drafts, outbox, sending, suppressions
from lumina_tui.tui.screens.send_review import SendReviewScreen

pytestmark = pytest.mark.anyio

BODY = "Hi there,\n\nWould a short call next week be useful?\n\nBest,\nSam"


async def open_review(pilot, app) -> SendReviewScreen:  # type: ignore[no-untyped-def]
    await pilot.press("ctrl+s")
    return await pilot_wait_until(
        pilot, lambda: app.screen if isinstance(app.screen, SendReviewScreen) else None
    )


async def test_send_reviews_queues_and_starts_a_new_draft() -> None:
    runtime = seeded_runtime()
    prospect = first_prospect(runtime)
    draft = draft_for(runtime, prospect, BODY)
    app = make_app(runtime, draft_id=draft.id)
    async with app.run_test(size=WIDE) as pilot:
        screen = composer(app)
        card = screen.query_one("#score-card")
        await pilot.press("ctrl+l")
        await pilot_wait_until(pilot, lambda: card.score is not None)
        review = (await open_review(pilot, app)).review
        assert review.draft_id == draft.id
        assert review.spam_risk == pytest.approx(card.score.spam_risk)  # the card's score, not a second one
        assert review.to_email == prospect.email
        assert screen.check_action("send", ()) is None  # disabled while the review/send is in flight
        await pilot.press("enter")
        await pilot_wait_until(pilot, lambda: screen._pending_send is not None)
        banner = str(screen.query_one("#send-banner").render())
        assert banner.startswith("Queued — sending in")
        assert "f8 undo" in banner
        emails = outbox.list_emails(runtime.db, runtime.actor).items
        assert len(emails) == 1
        email = emails[0]
        assert email.status == "PENDING_SEND"
        assert email.idempotency_key == review.idempotency_key
        assert stored(runtime, draft.id).sent_at is not None  # the sent draft is frozen
        assert screen.draft_id != draft.id  # and a new draft started
        assert screen.body.text == "" and not screen.body.read_only
        assert card.score is None  # the new draft has no score yet
        assert screen.check_action("send", ()) is True


async def test_undo_cancels_the_email_and_brings_the_draft_back() -> None:
    runtime = seeded_runtime()
    prospect = first_prospect(runtime)
    draft = draft_for(runtime, prospect, BODY, subject="Undo me")
    app = make_app(runtime, draft_id=draft.id)
    async with app.run_test(size=WIDE) as pilot:
        screen = composer(app)
        await open_review(pilot, app)
        await pilot.press("enter")
        await pilot_wait_until(pilot, lambda: screen._pending_send is not None)
        email_id = screen._pending_send["email_id"]
        await pilot.press("f8")
        await pilot_wait_until(pilot, lambda: screen.body.text == BODY)
        assert screen.subject.value == "Undo me"
        assert screen.draft_id != draft.id  # an editable copy; the sent draft stays frozen
        assert not screen.read_only
        assert outbox.get_email(runtime.db, runtime.actor, email_id).status == "CANCELLED"
        assert "Cancelled" in str(screen.query_one("#send-banner").render())
        assert screen.check_action("undo_send", ()) is False


async def test_escape_in_the_review_sends_nothing_and_a_retry_reuses_the_key() -> None:
    runtime = seeded_runtime()
    prospect = first_prospect(runtime)
    draft = draft_for(runtime, prospect, BODY)
    app = make_app(runtime, draft_id=draft.id)
    async with app.run_test(size=WIDE) as pilot:
        screen = composer(app)
        first = (await open_review(pilot, app)).review
        await pilot.press("escape")
        await pilot_wait_until(pilot, lambda: app.screen is screen)
        assert outbox.list_emails(runtime.db, runtime.actor).total == 0
        assert screen.check_action("send", ()) is True
        second = (await open_review(pilot, app)).review
        # The same draft revision reviewed again: the same idempotency key (it can never go twice).
        assert second.revision == first.revision
        assert second.idempotency_key == first.idempotency_key
        await pilot.press("escape")


async def test_a_sent_draft_opens_read_only() -> None:
    runtime = seeded_runtime()
    prospect = first_prospect(runtime)
    draft = draft_for(runtime, prospect, BODY)
    sending.send(runtime.db, runtime.actor, draft_id=draft.id, settings=runtime.settings)
    app = make_app(runtime, draft_id=draft.id)
    async with app.run_test(size=WIDE) as pilot:
        screen = composer(app)
        assert screen.read_only and screen.body.read_only
        assert screen.status.read_only
        await pilot.press("x", "y")
        assert screen.body.text == BODY
        # The keys stay live so that pressing them says why nothing happens (test_compose_rough_edges).
        await pilot.press("ctrl+s")
        assert not isinstance(app.screen, SendReviewScreen)
        assert drafts.get(runtime.db, runtime.actor, draft.id).revision == draft.revision


async def test_the_review_stays_up_until_the_email_is_stored(monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 10 point 9: Enter stores the email with the review still up (nothing to edit, nothing
    drawn meanwhile); the review comes down in the step that shows "Queued". The send is held
    until the test lets it go, so what happens in between is seen."""
    import threading

    from lumina_tui.tui.compose import send_flow

    gate = threading.Event()
    real = send_flow.queue_send
    calls: list[str] = []

    def held(*args: object, **kwargs: object):  # type: ignore[no-untyped-def]
        calls.append(threading.current_thread().name)
        assert gate.wait(60), "the test never let the send go"
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(send_flow, "queue_send", held)
    runtime = seeded_runtime()
    draft = draft_for(runtime, first_prospect(runtime), BODY)
    app = make_app(runtime, draft_id=draft.id)
    async with app.run_test(size=WIDE) as pilot:
        screen = composer(app)
        review = await open_review(pilot, app)
        await pilot.press("enter")
        await pilot_wait_until(pilot, lambda: calls)
        await pilot.press("enter", "escape")  # ignored while the email is stored
        await pilot.pause()
        assert app.screen is review and review.confirmed
        assert screen.sending.in_flight and screen._pending_send is None
        assert calls[0] != threading.main_thread().name
        gate.set()
        await pilot_wait_until(pilot, lambda: screen._pending_send is not None)
        # The handler that took the review down also put the banner up: one step, one frame.
        assert app.screen is screen
        assert str(screen.query_one("#send-banner").render()).startswith("Queued — sending in")
        assert len(calls) == 1  # the second Enter sent nothing
        assert len(outbox.list_emails(runtime.db, runtime.actor).items) == 1


async def test_a_send_that_fails_takes_the_review_down_and_says_why(monkeypatch: pytest.MonkeyPatch) -> None:
    runtime = seeded_runtime()
    draft = draft_for(runtime, first_prospect(runtime), BODY)
    app = make_app(runtime, draft_id=draft.id)
    async with app.run_test(size=WIDE) as pilot:
        screen = composer(app)
        await open_review(pilot, app)
        # Between the review and Enter the address lands on the suppression list (another window).
        suppressions.add(runtime.db, runtime.actor, first_prospect(runtime).email, reason="unsubscribed")
        await pilot.press("enter")
        await pilot_wait_until(pilot, lambda: not screen.sending.in_flight)
        assert app.screen is screen
        banner = str(screen.query_one("#send-banner").render())
        assert banner.startswith("Not sent:")
        assert outbox.list_emails(runtime.db, runtime.actor).items == []
        assert screen.draft_id == draft.id and not screen.read_only  # the draft stays, editable
