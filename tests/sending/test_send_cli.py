"""`lumina send` and `lumina emails ...` follow the CLI contract: one JSON document on stdout with
--json, errors as JSON on stderr, exit 0 / 2 / 1."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from click.testing import CliRunner

from lumina_tui.cli import main
from lumina_tui.services import suppressions
from lumina_tui.services.actors import Actor
from lumina_tui.store import Database
from lumina_tui.store.models import Account, EmailDraft


def run(*args: str) -> Any:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def error_of(result: Any) -> dict[str, Any]:
    return json.loads(result.stderr)["error"]


@pytest.fixture
def draft(maildir_account: Account, make_draft: Callable[..., EmailDraft]) -> EmailDraft:
    return make_draft()


def test_send_prints_the_email_and_is_idempotent(draft: EmailDraft) -> None:
    first = run("send", "--draft", draft.id, "--json")
    assert first.exit_code == 0, first.stderr
    body = json.loads(first.stdout)
    assert body["status"] == "PENDING_SEND" and body["created"] is True
    assert body["to_email"] == "ana.okafor@brightwave.example" and body["send_after"].endswith("Z")
    again = run("send", "--draft", draft.id, "--json")
    assert again.exit_code == 0
    assert json.loads(again.stdout)["id"] == body["id"] and json.loads(again.stdout)["created"] is False


def test_send_in_words_says_how_to_undo(draft: EmailDraft, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LUMINA_UNDO_WINDOW_SECONDS", "10")
    result = run("send", "--draft", draft.id, "--idempotency-key", "cli-1")
    assert result.exit_code == 0
    assert "sending in 10 s" in result.stdout and "lumina emails cancel" in result.stdout


@pytest.mark.parametrize(
    ("args", "code", "field"),
    [
        (["--to", "nobody"], "invalid", "to"),
        (["--from", "no-such-account"], "not_found", "from"),
    ],
)
def test_bad_input_exits_2_with_a_json_error(
    draft: EmailDraft, args: list[str], code: str, field: str
) -> None:
    result = run("send", "--draft", draft.id, *args, "--json")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert error_of(result)["code"] == code and error_of(result)["field"] == field


def test_a_suppressed_recipient_and_an_idempotency_conflict_exit_2(
    db: Database, actor: Actor, draft: EmailDraft, make_draft: Callable[..., EmailDraft]
) -> None:
    suppressions.add(db, actor, "brightwave.example")
    result = run("send", "--draft", draft.id, "--json")
    assert result.exit_code == 2 and error_of(result)["code"] == "suppressed"
    suppressions.remove(db, actor, "brightwave.example")
    assert run("send", "--draft", draft.id, "--idempotency-key", "k", "--json").exit_code == 0
    other = run("send", "--draft", make_draft().id, "--idempotency-key", "k", "--json")
    assert other.exit_code == 2 and error_of(other)["code"] == "idempotency_conflict"
    missing = run("send", "--draft", "00000000-0000-0000-0000-000000000000", "--json")
    assert missing.exit_code == 2 and error_of(missing)["code"] == "not_found"


def test_emails_list_show_cancel_retry(draft: EmailDraft, make_draft: Callable[..., EmailDraft]) -> None:
    email_id = json.loads(run("send", "--draft", draft.id, "--json").stdout)["id"]
    run("send", "--draft", make_draft().id, "--json")

    listed = run("emails", "list", "--json")
    assert listed.exit_code == 0
    page = json.loads(listed.stdout)
    assert page["total"] == 2 and len(page["items"]) == 2
    assert json.loads(run("emails", "list", "--status", "sent", "--json").stdout) == {"items": [], "total": 0}
    bad = run("emails", "list", "--status", "LOST", "--json")
    assert bad.exit_code == 2 and error_of(bad)["field"] == "status"

    cancelled = run("emails", "cancel", email_id, "--json")
    assert cancelled.exit_code == 0
    body = json.loads(cancelled.stdout)
    assert body["status"] == "CANCELLED" and body["new_draft_id"] != draft.id

    shown = json.loads(run("emails", "show", email_id, "--json").stdout)
    assert [event["event_type"] for event in shown["events"]] == ["queued", "cancelled"]
    assert "Status:     CANCELLED" in run("emails", "show", email_id).stdout

    again = run("emails", "cancel", email_id, "--json")
    assert again.exit_code == 2 and error_of(again)["code"] == "invalid_state"
    retry = run("emails", "retry", email_id, "--json")
    assert retry.exit_code == 2 and "only a FAILED email" in error_of(retry)["message"]
    unknown = run("emails", "show", "not-an-id", "--json")
    assert unknown.exit_code == 2 and error_of(unknown)["field"] == "email_id"


def test_worker_help_and_a_bad_queue_url(monkeypatch: pytest.MonkeyPatch) -> None:
    assert "--exit-when-idle" in run("worker", "--help").stdout
    monkeypatch.setenv("LUMINA_QUEUE_URL", "amqp://mq.example/lumina")
    result = run("worker")
    assert result.exit_code == 1 and "unsupported scheme" in result.stderr
