"""`SendFlow` without an app: the in-flight flag, one key per reviewed revision, the undo window."""

from __future__ import annotations

from datetime import datetime, timedelta

from flow_fakes import Autosave, Email, Host, Review, snapshot

from lumina_tui.tui.compose.send_flow import SendFlow
from lumina_tui.tui.messages import ReviewReady, SendFailed, SendQueued, SendUndone, UndoFailed

T0 = datetime(2026, 3, 2, 9, 30, 0)


def flow(**host_fields: object) -> tuple[SendFlow, Host]:
    host = Host(autosave=Autosave(snapshot()), **host_fields)  # type: ignore[arg-type]
    now = [T0]
    send = SendFlow(host, now=lambda: now[0])
    send.now_cell = now  # type: ignore[attr-defined]  # the test moves the clock
    return send, host


def test_a_send_is_keyed_once_while_in_flight() -> None:
    send, host = flow()
    send.send()
    send.send()  # pressed again before the review came back
    assert send.in_flight
    assert [group for group, _job in host.jobs] == ["send"]  # one review built, not two
    assert host.bells == 1


def test_a_sent_draft_is_explained_not_sent() -> None:
    send, host = flow(read_only=True)
    send.send()
    assert host.read_only_explained == 1 and host.jobs == [] and not send.in_flight


def test_the_review_warns_about_claims_still_in_the_body_and_uses_the_cards_score_if_current() -> None:
    send, host = flow(claims=["Hi Ana", "not in the body"], score="the score", score_revision=1)
    send.send()
    assert host.jobs and host.autosave.captures == 1
    # The job itself runs in a thread against the store; what it was given is in its closure.
    job = host.jobs[0][1]
    cells = {type(c.cell_contents).__name__: c.cell_contents for c in job.__closure__ or ()}
    assert cells["list"] == ["Unsupported claim from an accepted AI suggestion: “Hi Ana”"]
    assert cells["str"] == "the score"


def test_the_same_revision_reviewed_again_keeps_its_key() -> None:
    send, host = flow()
    send.send()
    send.review_ready(ReviewReady(Review("d-1", 3, "key-1")))
    _screen, answered = host.asked[-1]
    answered(False)  # Esc in the review
    assert not send.in_flight
    send.send()
    again = Review("d-1", 3, "key-2")
    send.review_ready(ReviewReady(again))
    assert again.idempotency_key == "key-1"  # a retry cannot send twice
    newer = Review("d-1", 4, "key-3")
    send.review_ready(ReviewReady(newer))
    assert newer.idempotency_key == "key-3"  # another revision is another send


def test_enter_keeps_the_review_up_and_queues_once() -> None:
    send, host = flow()
    send.send()
    send.review_ready(ReviewReady(Review("d-1", 3, "key-1")))
    screen, _answered = host.asked[-1]
    screen.action_confirm()  # Enter
    screen.action_confirm()  # Enter again while the email is stored: nothing more
    screen.action_back()  # Esc meanwhile: the review stays (the outcome closes it)
    assert send.in_flight and send.review_screen is screen
    # review, the queue opened while the rep reads the review (issue 10.9), the send itself, once
    assert [group for group, _job in host.jobs] == ["send", "prepare-send", "send"]
    assert host.owners[-1] is screen  # the review owns the send's worker, not the composer under it
    slow = next(t for t in host.timers if t.name == "still-queuing")
    slow.callback()
    assert host.banner is None  # "Queuing…" is said in the review, which is still up


def test_queued_then_the_countdown_then_the_worker() -> None:
    send, host = flow()
    send.in_flight = True
    send.queued(SendQueued(Email("e-1", T0 + timedelta(seconds=10)), True))
    assert not send.in_flight
    assert send.pending == {"email_id": "e-1", "send_after": T0 + timedelta(seconds=10), "draft_id": "d-1"}
    assert host.autosave.cancelled and host.new_drafts == 1
    assert host.banner == "Queued — sending in 10 s · f8 undo"
    # The worker is asked for only after the frame with the banner (the screen runs `then` then).
    assert [group for group, _job in host.jobs] == []
    then = host.after_sent[-1]
    assert then is not None
    then()
    assert [group for group, _job in host.jobs] == ["worker"]
    assert send.seconds_until_send() == 10.0
    send.now_cell[0] = T0 + timedelta(seconds=7.4)  # type: ignore[attr-defined]
    send.show_countdown()
    assert host.banner == "Queued — sending in 3 s · f8 undo"
    send.now_cell[0] = T0 + timedelta(seconds=11)  # type: ignore[attr-defined]
    assert send.seconds_until_send() is None
    send.show_countdown()
    assert send.pending is None
    assert host.banner is not None and host.banner.startswith("Handed to the worker")


def test_the_same_email_queued_again_asks_for_no_worker() -> None:
    send, host = flow()
    send.queued(SendQueued(Email("e-1", T0 + timedelta(seconds=10)), False))
    assert host.after_sent == [None]


def test_a_failed_send_can_be_retried() -> None:
    send, host = flow()
    send.in_flight = True
    send.failed(SendFailed("SMTP said no", retryable=True))
    assert not send.in_flight and host.banner_error
    assert host.banner == "Not sent: SMTP said no — ^s to try again (same send, it cannot go twice)"
    send.failed(SendFailed("no recipient", retryable=False))
    assert host.banner == "Not sent: no recipient"


def test_undo_reopens_the_draft_then_runs_what_waited_for_it() -> None:
    send, host = flow()
    send.queued(SendQueued(Email("e-1", T0 + timedelta(seconds=10)), True))
    done: list[str] = []
    send.undo(lambda: done.append("quit"))
    assert host.banner == "Cancelling…" and host.jobs[-1][0] == "undo"
    send.undone(SendUndone("e-1", "d-2"))
    assert send.pending is None
    draft_id, after = host.reopened[-1]
    assert draft_id == "d-2" and after is not None
    after()
    assert done == ["quit"]


def test_too_late_to_undo_keeps_the_rep_here() -> None:
    send, host = flow()
    send.queued(SendQueued(Email("e-1", T0 + timedelta(seconds=10)), True))
    send.undo(lambda: None)
    send.undo_failed(UndoFailed("already sent"))
    assert send.pending is None and host.reopened == []
    assert host.banner == "Too late to undo: already sent" and host.banner_error
    send.undo()  # nothing pending: nothing to do
    assert [group for group, _job in host.jobs].count("undo") == 1
