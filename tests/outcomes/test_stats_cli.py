"""`lumina stats --json` gives the stats screen's figures; `lumina alerts read`; `lumina doctor` lag."""

from __future__ import annotations

import json

from click.testing import CliRunner
from outcome_support import append_random_events, insert_emails, recompute_dashboard

from lumina_tui.cli import main
from lumina_tui.services import consumers, stats
from lumina_tui.services.outcome_consumers import default_consumers
from lumina_tui.services.runtime import runtime


def run(*args: str, code: int = 0):  # type: ignore[no-untyped-def]
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code == code, (result.stdout, result.stderr, result.exception)
    return result


def test_stats_json_matches_the_log_and_says_as_of() -> None:
    rt = runtime()
    seeded = insert_emails(rt.db, rt.actor.workspace_id, rt.actor.user_id, 200)
    append_random_events(rt.db, rt.actor.workspace_id, seeded.email_ids, 1500)
    behind = json.loads(run("stats", "--json").stdout)
    assert behind["up_to_date"] is False
    assert {e["consumer"]: e["behind"] for e in behind["as_of"]}["dashboard"] == 1500
    consumers.run_until_caught_up(rt.db, default_consumers())
    doc = json.loads(run("stats", "--json", "--days", "40").stdout)
    expected = recompute_dashboard(rt.db, rt.actor.workspace_id)
    sent = sum(v[0] for v in expected["daily"].values())
    replied = sum(v[1] for v in expected["daily"].values())
    assert doc["totals"]["sent"] == sent and doc["totals"]["replied"] == replied
    assert doc["totals"]["reply_rate"] == round(replied / sent, 4)
    assert {e["consumer"]: e["behind"] for e in doc["as_of"]}["dashboard"] == 0
    assert sum(d["sent"] for d in doc["daily"]) == sent  # the seeded month fits in 40 days
    lows = [t["reply_rate_low"] for t in doc["templates"]]
    assert lows == sorted(lows, reverse=True) and len(lows) == len(expected["templates"])
    assert doc["alerts"]["unread"] > 0
    # Marking read: one by id, then all.
    first = doc["alerts"]["items"][0]["id"]
    assert json.loads(run("alerts", "read", first, "--json").stdout) == {"marked_read": 1}
    left = json.loads(run("alerts", "read", "--all", "--json").stdout)["marked_read"]
    assert left == doc["alerts"]["unread"] - 1
    assert stats.unread_alerts(rt.db, rt.actor)["unread"] == 0
    # The human output speaks the same figures.
    assert f"sent {sent}" in run("stats").stdout


def test_bad_input_follows_the_json_error_contract() -> None:
    result = run("stats", "--days", "0", "--json", code=2)
    assert json.loads(result.stderr)["error"]["field"] == "days"
    result = run("alerts", "read", "not-an-id", "--json", code=2)
    assert json.loads(result.stderr)["error"]["field"] == "alert_id"
    result = run("alerts", "read", "--json", code=2)
    assert json.loads(result.stderr)["error"]["field"] == "alert_ids"
    missing = "00000000-0000-4000-8000-000000000000"
    result = run("alerts", "read", missing, "--json", code=2)
    assert json.loads(result.stderr)["error"]["code"] == "not_found"


def test_doctor_shows_a_failing_consumer() -> None:
    rt = runtime()
    seeded = insert_emails(rt.db, rt.actor.workspace_id, rt.actor.user_id, 5)
    append_random_events(rt.db, rt.actor.workspace_id, seeded.email_ids, 30)

    class Broken:
        name = "dashboard"

        def apply(self, *a):  # type: ignore[no-untyped-def]
            raise RuntimeError("boom")

        def reset(self, *a):  # type: ignore[no-untyped-def]
            return None

        def poll(self, *a):  # type: ignore[no-untyped-def]
            return None

    consumers.run_pass(rt.db, [Broken()])
    doc = json.loads(run("doctor", "--json").stdout)
    lag = {e["consumer"]: e for e in doc["consumers"]["lag"]}
    assert lag["dashboard"]["behind"] == 30 and lag["dashboard"]["failures"] == 1
    assert any("consumer dashboard is failing" in w for w in doc["warnings"])
