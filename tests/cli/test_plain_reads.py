"""The plain read path (services/plain_reads.py) prints what the ORM path prints, byte for byte.

`prospects list --json` and `drafts show ID --json` answer through plain sqlite3 when they can
(issue 9 point 22). Each test here runs the real command twice on the same data: once as it is,
once with the plain path switched off (it then returns None, as it does for any request it does
not answer), and compares the two stdouts. The data is the awkward kind: control characters, BiDi
overrides, line separators, nested custom fields, case-only name differences, another workspace's
rows, a sent draft in each email status.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from lumina_tui.cli import main
from lumina_tui.config import Settings
from lumina_tui.services import drafts, plain_reads, prospects
from lumina_tui.services.actors import Actor, new_workspace
from lumina_tui.services.runtime import reset_runtime
from lumina_tui.store import Database, close_all

HOSTILE = "\x1b]8;;https://evil.example\x07click\x1b]8;;\x07 \x9b2J \u202eevil\u202c \u2028next"


def _stdout(args: list[str], monkeypatch: pytest.MonkeyPatch, *, plain: bool) -> str:
    """The command's stdout (exit 0 asserted), with the plain path on or forced off."""
    calls: list[Any] = []
    with monkeypatch.context() as patch:
        for name in ("prospects_page", "draft_document"):
            real = getattr(plain_reads, name)

            def spy(*a: Any, _real: Any = real, **k: Any) -> Any:
                answer = _real(*a, **k) if plain else None
                calls.append(answer)
                return answer

            patch.setattr(plain_reads, name, spy)
        reset_runtime()
        result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, (result.stdout, result.stderr, result.exception)
    if plain:  # the plain path did answer: the comparison is not the ORM path against itself
        assert calls and all(answer is not None for answer in calls), args
    return result.stdout


def _same_both_ways(args: list[str], monkeypatch: pytest.MonkeyPatch) -> Any:
    plain = _stdout(args, monkeypatch, plain=True)
    orm = _stdout(args, monkeypatch, plain=False)
    assert plain == orm
    return json.loads(plain)


@pytest.fixture
def people(db: Database, actor: Actor, settings: Settings) -> list[str]:
    """Prospects whose sorting and text are awkward, plus one in another workspace.

    The services refuse control characters in names; rows from older versions or other tools may
    still hold them, so those are written with SQL."""
    made = [
        prospects.create(db, actor, email="zed@example.com", first_name="zed", last_name="Adams"),
        prospects.create(db, actor, email="zed2@example.com", first_name="Zed", last_name="adams"),
        prospects.create(db, actor, email="amelie@example.fr", first_name="Amélie", last_name="Roy",
                         company="Copperleaf", job_title="VP, Ops & \"Quality\""),
        prospects.create(db, actor, email="noname@example.com"),
        prospects.create(db, actor, email="bob@example.com", first_name="bob"),
        prospects.create(db, actor, email="carl@example.com", first_name="Carl"),
        prospects.create(
            db, actor, email="hostile@example.com", first_name="Ana", last_name="O'Kafor",
            custom_fields={"note": HOSTILE, "nested": {"list": [1, 2.5, None, True], "ünï": "☃"},
                           "empty": "", "number": 7},
        ),
    ]
    with sqlite3.connect(settings.db_path) as conn:
        conn.execute("UPDATE prospects SET first_name = ?, company = ? WHERE email = ?",
                     (f"Ana{HOSTILE[:4]}\u202e", f"Copper{HOSTILE}leaf", "hostile@example.com"))
    other = new_workspace(db, "Someone else's", "other@localhost")
    prospects.create(db, other, email="hidden@example.com", first_name="Hidden")
    return [person.id for person in made]


def test_prospects_list_prints_the_same_document_both_ways(
    people: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    document = _same_both_ways(["prospects", "list", "--json"], monkeypatch)
    assert document["total"] == len(people)
    emails = [item["email"] for item in document["items"]]
    assert "hidden@example.com" not in emails
    assert emails.index("amelie@example.fr") < emails.index("zed@example.com")
    assert emails.index("bob@example.com") < emails.index("carl@example.com")  # case-blind
    hostile = next(item for item in document["items"] if item["email"] == "hostile@example.com")
    assert hostile["custom_fields"]["note"] == HOSTILE  # escaped on the wire, the same once parsed
    for limit, offset in ((1, 0), (2, 3), (1000, 0), (5, 1_000_000_000)):
        page = _same_both_ways(
            ["prospects", "list", "--json", "--limit", str(limit), "--offset", str(offset)], monkeypatch
        )
        assert page["total"] == len(people)
        assert len(page["items"]) == max(0, min(limit, len(people) - offset))


def test_the_printed_json_escapes_what_a_terminal_would_obey(
    people: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    out = _stdout(["prospects", "list", "--json"], monkeypatch, plain=True)
    assert "\x1b" not in out and "\x9b" not in out and "\u202e" not in out and "\u2028" not in out
    assert "\\u001b" in out and "\\u009b" in out and "\\u202e" in out and "\\u2028" in out


@pytest.fixture
def sent_drafts(db: Database, actor: Actor, people: list[str], settings: Settings) -> dict[str, str]:
    """A draft in each state a draft can show: unsent, and sent with each email status."""
    by_state: dict[str, str] = {}
    unsent = drafts.create(db, actor, prospect_id=people[4], subject="Re: hello",
                           body="Hi Ana,\n\n\tTabbed.\n\nBest")
    with sqlite3.connect(settings.db_path) as conn:
        conn.execute("UPDATE email_drafts SET subject = ?, body_text = ? WHERE id = ?",
                     (f"Re: {HOSTILE}", f"Hi Ana,\n\n{HOSTILE}\n\tTabbed.\n\nBest", unsent.id))
    by_state["draft"] = unsent.id
    by_state["no prospect"] = drafts.create(db, actor, prospect_id=None, subject="", body="").id
    added = CliRunner().invoke(main, ["accounts", "add", "maildir", "--name", "outbox", "--default"])
    assert added.exit_code == 0, added.stderr
    statuses = ["PENDING_SEND", "SENDING", "SENT", "FAILED", "CANCELLED", "BOUNCED"]
    for index, status in enumerate(statuses):
        draft = drafts.create(db, actor, prospect_id=people[index % 4], subject=f"Subject {status}",
                              body=f"Body {status}")
        result = CliRunner().invoke(main, ["send", "--draft", draft.id, "--json"])
        assert result.exit_code == 0, (result.stdout, result.stderr)
        email_id = json.loads(result.stdout)["id"]
        with sqlite3.connect(settings.db_path) as conn:  # only the status may change (the guards)
            conn.execute("UPDATE emails SET status = ? WHERE id = ?", (status, email_id))
        by_state[status] = draft.id
    return by_state


def test_drafts_show_prints_the_same_document_both_ways(
    sent_drafts: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    shown = {
        state: _same_both_ways(["drafts", "show", draft_id, "--json"], monkeypatch)["status"]
        for state, draft_id in sent_drafts.items()
    }
    assert shown == {
        "draft": "draft", "no prospect": "draft", "PENDING_SEND": "queued", "SENDING": "sending",
        "SENT": "sent", "FAILED": "failed", "CANCELLED": "cancelled", "BOUNCED": "bounced",
    }
    # An id in capitals is the same draft on both paths.
    draft_id = sent_drafts["draft"]
    document = _same_both_ways(["drafts", "show", draft_id.upper(), "--json"], monkeypatch)
    assert document["id"] == draft_id and document["body"].startswith("Hi Ana,\n\n\x1b]8")


def test_requests_without_a_plain_answer_take_the_orm_path(
    db: Database, actor: Actor, people: list[str], settings: Settings
) -> None:
    reset_runtime()
    other = new_workspace(db, "Elsewhere", "else@localhost")
    theirs = drafts.create(db, other, prospect_id=None, subject="theirs", body="")
    assert plain_reads.prospects_page(settings, search="zed", limit=50, offset=0) is None
    assert plain_reads.draft_document(settings, theirs.id) is None  # not found: the service says so
    assert plain_reads.draft_document(settings, "not-a-uuid") is None
    assert plain_reads.prospects_page(settings, search="  ", limit=50, offset=0) is not None
    for args, code, field in (
        (["drafts", "show", theirs.id, "--json"], "not_found", "draft_id"),
        (["drafts", "show", "not-a-uuid", "--json"], "invalid", "draft_id"),
    ):
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 2 and result.stdout == ""
        error = json.loads(result.stderr.strip().splitlines()[-1])["error"]
        assert (error["code"], error["field"]) == (code, field)
    result = CliRunner().invoke(main, ["prospects", "list", "--search", "ZED", "--json"])
    assert [item["email"] for item in json.loads(result.stdout)["items"]] == [
        "zed2@example.com", "zed@example.com"]  # same names once lowered: by email


def test_a_store_that_is_not_current_is_left_to_the_orm_path(
    db: Database, people: list[str], settings: Settings, lumina_home: Path
) -> None:
    from lumina_tui.store.migrations import head_version

    reset_runtime()
    with sqlite3.connect(settings.db_path) as conn:
        conn.execute("INSERT INTO schema_version (version, name) VALUES (?, 'from the future')",
                     (head_version() + 1,))
    assert plain_reads.prospects_page(settings, search=None, limit=50, offset=0) is None
    close_all()  # as a new process would: the store is opened (and checked) afresh
    result = CliRunner().invoke(main, ["prospects", "list", "--json"])
    assert result.exit_code == 1
    assert json.loads(result.stderr.strip().splitlines()[-1])["error"]["code"] == "database_newer"


def test_a_new_store_is_created_by_the_orm_path(settings: Settings) -> None:
    assert not settings.db_path.exists()
    assert plain_reads.prospects_page(settings, search=None, limit=50, offset=0) is None
    result = CliRunner().invoke(main, ["prospects", "list", "--json"])
    assert result.exit_code == 0 and json.loads(result.stdout) == {"items": [], "total": 0}
    assert settings.db_path.stat().st_size > 0
    assert plain_reads.prospects_page(settings, search=None, limit=50, offset=0) == {"items": [], "total": 0}
