"""The consumer framework: one transaction per batch, no repeat, no skip, back-off, isolation."""

from __future__ import annotations

from outcome_support import append_random_events, insert_emails, recompute_dashboard, stored_dashboard
from sqlalchemy import text

from lumina_tui.services import consumers, events
from lumina_tui.services.outcome_consumers import AlertsConsumer, DashboardConsumer


class Exploding:
    name = "exploding"

    def __init__(self) -> None:
        self.calls = 0

    def apply(self, session, workspace_id, batch):  # type: ignore[no-untyped-def]
        self.calls += 1
        raise RuntimeError("this consumer is broken")

    def reset(self, session, workspace_id):  # type: ignore[no-untyped-def]
        return None

    def poll(self, session, workspace_id):  # type: ignore[no-untyped-def]
        return None


def test_dashboard_equals_a_recomputation_in_small_batches(db, actor) -> None:
    seeded = insert_emails(db, actor.workspace_id, actor.user_id, 300)
    append_random_events(db, actor.workspace_id, seeded.email_ids, 3000)
    consumers.run_until_caught_up(db, [DashboardConsumer()], batch_size=97)
    expected = recompute_dashboard(db, actor.workspace_id)
    assert expected["daily"], "the seeded log must produce figures"
    assert stored_dashboard(db, actor.workspace_id) == expected
    # Appending more later folds in incrementally and still matches.
    append_random_events(db, actor.workspace_id, seeded.email_ids, 1000, seed=12)
    consumers.run_until_caught_up(db, [DashboardConsumer()], batch_size=500)
    assert stored_dashboard(db, actor.workspace_id) == recompute_dashboard(db, actor.workspace_id)


def test_a_failing_consumer_backs_off_and_does_not_stop_the_others(db, actor) -> None:
    seeded = insert_emails(db, actor.workspace_id, actor.user_id, 20)
    append_random_events(db, actor.workspace_id, seeded.email_ids, 200)
    broken = Exploding()
    report = consumers.run_pass(db, [broken, DashboardConsumer()])
    assert "exploding" in report.failed
    assert report.applied["dashboard"] > 0
    assert stored_dashboard(db, actor.workspace_id) == recompute_dashboard(db, actor.workspace_id)
    # Backing off: the next pass does not call it again, and its lag and error are visible.
    consumers.run_pass(db, [broken])
    assert broken.calls == 1
    with db.read() as s:
        lag = {
            entry.name: entry for entry in consumers.lag(s, actor.workspace_id, ["exploding", "dashboard"])
        }
    assert lag["exploding"].behind == 200 and lag["exploding"].failures == 1
    assert "this consumer is broken" in (lag["exploding"].last_error or "")
    assert lag["exploding"].next_try_at is not None
    assert lag["dashboard"].behind == 0 and lag["dashboard"].failures == 0


def test_a_renumbered_log_is_replayed_not_guessed(db, actor) -> None:
    seeded = insert_emails(db, actor.workspace_id, actor.user_id, 20)
    append_random_events(db, actor.workspace_id, seeded.email_ids, 300)
    consumers.run_until_caught_up(db, [DashboardConsumer()])
    with db.write() as s:  # what a VACUUM may do to a table without an INTEGER PRIMARY KEY
        s.execute(text("UPDATE consumer_cursors SET last_event_id = 'not-that-one' WHERE name = 'dashboard'"))
    before = stored_dashboard(db, actor.workspace_id)
    consumers.run_until_caught_up(db, [DashboardConsumer()])
    assert stored_dashboard(db, actor.workspace_id) == before == recompute_dashboard(db, actor.workspace_id)


def test_alerts_for_replies_hard_bounces_failures_and_sign_in(db, actor) -> None:
    seeded = insert_emails(db, actor.workspace_id, actor.user_id, 3)
    a, b, c = seeded.email_ids
    with db.write() as s:
        for email_id, kind, data in [
            (a, "replied", {"from": "ann@example.com", "subject": "Re: hi\x1b[31m"}),
            (a, "replied", {"from": "ann@example.com", "subject": "again"}),
            (b, "bounced", {"status": "5.1.1", "recipient": "bob@example.com", "diagnostic": "no such user"}),
            (b, "bounced", {"status": "4.2.2", "recipient": "bob@example.com"}),
            (c, "failed", {"error": "550 refused"}),
            (c, "sent", {}),
        ]:
            events.append_event(
                s,
                workspace_id=actor.workspace_id,
                email_id=email_id,
                event_type=kind,
                provider="t",
                provider_event_id=f"{email_id}:{kind}:{data.get('subject') or data.get('status')}",
                data=data,
            )
        s.execute(
            text(
                "INSERT INTO accounts (id, workspace_id, user_id, provider, name, email, display_name,"
                " settings, is_default, is_demo, status, status_reason, created_at, updated_at)"
                " VALUES ('acc1', :w, :u,"
                " 'gmail', 'work', 'rep@example.com', '', '{}', FALSE, FALSE, 'needs_sign_in',"
                " 'token revoked', '2026-12-01', '2026-12-01')"
            ),
            {"w": actor.workspace_id, "u": actor.user_id},
        )
    consumers.run_until_caught_up(db, [AlertsConsumer()])
    consumers.run_until_caught_up(db, [AlertsConsumer()])  # polling again makes no second sign-in alert
    with db.read() as s:
        rows = s.execute(text("SELECT kind, title, detail FROM alerts ORDER BY kind, created_at")).all()
    kinds = [r[0] for r in rows]
    assert sorted(kinds) == ["bounced", "failed", "needs_sign_in", "replied", "replied"]
    assert all("\x1b" not in r[2] for r in rows)
    assert any(r[1] == "Hard bounce: bob@example.com" for r in rows)
