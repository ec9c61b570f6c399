"""What the command line prints for a person: stored text stays inert, lists fit a pipe, a cancelled
send reads "cancelled", an email shows as headers + exact body + timeline, and `send` says why not.

Hostile values come from the issue's probes: Rich markup (`[link=…]`, `[/]`), OSC 8 hyperlinks and
CSI sequences (ESC), an 8-bit CSI (U+009B) and a BiDi override (U+202E).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from click.testing import CliRunner, Result

from lumina_tui.cli import main
from lumina_tui.services import accounts, drafts, prospects
from lumina_tui.services.actors import Actor
from lumina_tui.services.terminal_text import terminal_safe
from lumina_tui.store import Database
from lumina_tui.store.models import Prospect

MARKUP_LINK = "[link=http://evil.example]x[/link]"
CLOSE_TAG = "[/]"
OSC8 = "\x1b]8;;http://evil\x1b\\"
CLEAR_SCREEN = "\x1b[2J"
RLO = "\u202e"
C1_CSI = "\x9b"
RAW_DANGER = ("\x1b", RLO, C1_CSI)


def run(*args: str, code: int = 0) -> Result:
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code == code, (result.stdout, result.stderr, result.exception)
    return result


def assert_inert(text: str) -> None:
    """No byte a terminal would obey: no ESC, no 8-bit CSI, no BiDi override."""
    for char in RAW_DANGER:
        assert char not in text, f"{char!r} reached the terminal raw: {text!r}"


def stored_unchecked(db: Database, actor: Actor, draft_id: str, prospect: Prospect) -> Any:
    """The email row an older build queued for this draft, without today's header checks."""
    import uuid

    from lumina_tui.services import sending
    from lumina_tui.services.runtime import runtime

    plan = sending._Plan(
        draft=drafts.get(db, actor, draft_id),
        account=accounts.resolve_account(db, actor, None),
        to_email=prospect.email,
        to_name=f"{prospect.first_name} {prospect.last_name}",
        from_name="",
        prospect_snapshot={},
        score={},
    )
    key = str(uuid.uuid4())
    return sending._insert(db, actor, runtime().settings, plan, key=key, fingerprint=key, suggestions=[])


@pytest.fixture
def hostile(db: Database, actor: Actor) -> Prospect:
    prospect = prospects.create(
        db,
        actor,
        email="mallory@evil.example",
        first_name=f"{MARKUP_LINK} {CLOSE_TAG}",
        job_title="[bold]CEO[/bold]",
        custom_fields={"note": f"{CLEAR_SCREEN}wipe", "[red]key[/red]": "v"},
    )
    # `prospects add` and the import now refuse control characters in a name (issue 9 point 4);
    # a row stored before that (or edited by hand) must still print as data: store it directly.
    with db.write() as session:
        row = session.get(Prospect, prospect.id)
        row.last_name, row.company = f"{OSC8}{CLEAR_SCREEN}{RLO}gpj.exe", f"{C1_CSI}31mAcme"
        session.add(row)
        session.flush()
        return row


@pytest.fixture
def outbox(db: Database, actor: Actor) -> Any:
    return accounts.add_account(
        db, actor, provider="maildir", email="sam@acme.test", name="Outbox", make_default=True
    )


def test_terminal_safe_makes_every_probe_visible() -> None:
    shown = terminal_safe(f"{OSC8}{CLEAR_SCREEN}{RLO}{C1_CSI}a\nb\tc\x7f")
    assert_inert(shown)
    assert shown == "␛]8;;http://evil␛\\␛[2J<U+202E><U+009B>a␊b␉c␡"
    assert terminal_safe("a\nb\tc", multiline=True) == "a\nb\tc"
    assert terminal_safe("Grüße, Ána 👋🏽") == "Grüße, Ána 👋🏽"  # ordinary text is untouched


def test_prospects_show_and_list_print_hostile_values_as_data(hostile: Prospect) -> None:
    shown = run("prospects", "show", hostile.email).stdout  # `[/]` raised MarkupError here
    assert_inert(shown)
    assert MARKUP_LINK in shown and CLOSE_TAG in shown and "[bold]CEO[/bold]" in shown
    assert "␛]8;;http://evil␛\\␛[2J<U+202E>gpj.exe" in shown
    assert "<U+009B>31mAcme" in shown and "␛[2Jwipe" in shown and "[red]key[/red]" in shown
    listed = run("prospects", "list").stdout
    assert_inert(listed)
    assert MARKUP_LINK in listed and "<U+009B>31mAcme" in listed


def test_json_output_escapes_terminal_controls_but_parses_back_exactly(hostile: Prospect) -> None:
    out = run("prospects", "show", hostile.email, "--json").stdout
    assert_inert(out)
    body = json.loads(out)
    assert body["last_name"] == f"{OSC8}{CLEAR_SCREEN}{RLO}gpj.exe"
    assert body["company"] == f"{C1_CSI}31mAcme"


def test_drafts_and_emails_lists_and_errors_print_hostile_values_as_data(
    db: Database, actor: Actor, hostile: Prospect, outbox: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LUMINA_UNDO_WINDOW_SECONDS", "600")
    draft = drafts.create(
        db, actor, prospect_id=hostile.id, subject=f"Hi {CLEAR_SCREEN}{RLO}", body=f"Body {OSC8} [/]"
    )
    listed = run("drafts", "list").stdout
    assert_inert(listed)
    assert "Hi ␛[2J<U+202E>" in listed and MARKUP_LINK in listed
    shown = run("drafts", "show", draft.id).stdout
    assert_inert(shown)
    assert "Body ␛]8;;http://evil␛\\ [/]" in shown
    # A subject with control characters is refused at send (issue 9 point 4), inertly...
    refused = run("send", "--draft", draft.id, "--json", code=2)
    assert_inert(refused.stderr)
    assert json.loads(refused.stderr)["error"]["field"] == "subject"
    # ...and a row an older build stored before that check still prints as data.
    email_id = stored_unchecked(db, actor, draft.id, hostile).id
    for args in (("emails", "list"), ("emails", "show", email_id)):
        result = run(*args)
        assert_inert(result.stdout + result.stderr)
        assert "Hi ␛[2J<U+202E>" in result.stdout
    missing = run("prospects", "show", f"{CLEAR_SCREEN}{RLO}@x.example", code=2)
    assert_inert(missing.stderr)
    assert "␛[2J" in missing.stderr


def test_drafts_list_piped_keeps_whole_ids_on_one_line_with_the_prospect(
    db: Database, actor: Actor
) -> None:
    ana = prospects.create(
        db, actor, email="ana.okafor@brightwave.example", first_name="Ana", last_name="Okafor"
    )
    made = [
        drafts.create(
            db,
            actor,
            prospect_id=ana.id,
            subject=f"Draft {n}: a long subject about cutting the monthly close from ten days to four",
        )
        for n in range(3)
    ]
    lines = run("drafts", "list").stdout.splitlines()
    for draft in made:
        rows = [line for line in lines if draft.id in line]
        assert len(rows) == 1, lines  # the whole id, once, on one line
        assert "Ana Okafor <ana.okafor@brightwave.example>" in rows[0]
        assert "from ten days to four" in rows[0]  # the row was not folded either
    header = next(line for line in lines if " id " in line)
    assert "prospect" in header and "status" in header


def test_a_cancelled_send_reads_cancelled_and_cancel_json_names_the_editable_copy(
    db: Database, actor: Actor, outbox: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LUMINA_UNDO_WINDOW_SECONDS", "600")
    ana = prospects.create(db, actor, email="ana@brightwave.example", first_name="Ana")
    draft = drafts.create(db, actor, prospect_id=ana.id, subject="Hello", body="Hi Ana,\n\nA question.")
    email_id = json.loads(run("send", "--draft", draft.id, "--json").stdout)["id"]
    assert json.loads(run("drafts", "show", draft.id, "--json").stdout)["status"] == "queued"

    cancelled = json.loads(run("emails", "cancel", email_id, "--json").stdout)
    assert cancelled["status"] == "CANCELLED" and cancelled["draft_id"] == draft.id
    new_id = cancelled["new_draft_id"]
    assert new_id != draft.id
    assert cancelled["new_draft"]["id"] == new_id and cancelled["new_draft"]["status"] == "draft"
    assert cancelled["new_draft"]["body"] == "Hi Ana,\n\nA question."

    page = json.loads(run("drafts", "list", "--all", "--json").stdout)
    status = {item["id"]: item["status"] for item in page["items"]}
    assert status == {draft.id: "cancelled", new_id: "draft"}
    assert json.loads(run("drafts", "show", draft.id, "--json").stdout)["status"] == "cancelled"
    row = next(line for line in run("drafts", "list", "--all").stdout.splitlines() if draft.id in line)
    assert "cancelled" in row and "sent" not in row


def test_emails_show_prints_headers_the_exact_body_and_a_timeline(
    db: Database, actor: Actor, outbox: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LUMINA_UNDO_WINDOW_SECONDS", "600")
    ana = prospects.create(db, actor, email="ana@brightwave.example", first_name="Ana", last_name="Okafor")
    body = "Hi Ana,\n\n\nTwo blank lines above, and   three spaces here.\n  - an indented line\n\nSam"
    draft = drafts.create(db, actor, prospect_id=ana.id, subject="Month-end close", body=body)
    email_id = json.loads(run("send", "--draft", draft.id, "--json").stdout)["id"]
    run("emails", "cancel", email_id)
    out = run("emails", "show", email_id).stdout
    assert "{" not in out and "'" not in out  # no Python dict repr
    assert f"Email:      {email_id}" in out
    assert "Status:     CANCELLED" in out
    assert "To:         Ana Okafor <ana@brightwave.example>" in out
    assert "From:       sam@acme.test (via maildir)" in out
    assert "Subject:    Month-end close" in out
    assert f"\n\n{body}\n\n" in out  # the body exactly as it goes out
    timeline = out.split("Events:", 1)[1]
    assert "cancelled" in timeline and "by_user_id=" in timeline


def test_send_refuses_an_empty_body_unless_allowed(
    db: Database, actor: Actor, outbox: Any
) -> None:
    ana = prospects.create(db, actor, email="ana@brightwave.example", first_name="Ana")
    draft = drafts.create(db, actor, prospect_id=ana.id, subject="Only a subject", body="  \n ")
    refused = run("send", "--draft", draft.id, "--json", code=2)
    error = json.loads(refused.stderr)["error"]
    assert (error["code"], error["field"]) == ("invalid", "body")
    assert "--allow-empty-body" in error["message"]
    assert json.loads(run("emails", "list", "--json").stdout)["total"] == 0  # nothing stored
    assert json.loads(run("drafts", "show", draft.id, "--json").stdout)["status"] == "draft"
    sent = json.loads(run("send", "--draft", draft.id, "--allow-empty-body", "--json").stdout)
    assert sent["status"] == "PENDING_SEND" and sent["subject"] == "Only a subject"


def test_send_on_a_queued_draft_says_it_is_queued_and_how_to_undo(
    db: Database, actor: Actor, outbox: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LUMINA_UNDO_WINDOW_SECONDS", "600")
    ana = prospects.create(db, actor, email="ana@brightwave.example", first_name="Ana")
    draft = drafts.create(db, actor, prospect_id=ana.id, subject="Hello", body="Hi Ana")
    first = run("send", "--draft", draft.id, "--idempotency-key", "first", "--json")
    email_id = json.loads(first.stdout)["id"]

    other_key = run("send", "--draft", draft.id, "--idempotency-key", "second", "--json", code=2)
    error = json.loads(other_key.stderr)["error"]
    assert error["field"] == "draft_id"
    assert "already queued, sending in" in error["message"]
    assert f"lumina emails cancel {email_id}" in error["message"]
    assert "already sent" not in error["message"]
    assert error["details"]["status"] == "PENDING_SEND"

    same_key = run("send", "--draft", draft.id, "--idempotency-key", "first").stdout
    assert "already queued, sending in" in same_key and f"lumina emails cancel {email_id}" in same_key

    run("emails", "cancel", email_id)
    after = run("send", "--draft", draft.id, "--idempotency-key", "third", "--json", code=2)
    assert "was cancelled" in json.loads(after.stderr)["error"]["message"]


def test_ai_rewrite_names_the_parts_of_the_instruction_it_did_not_follow(
    db: Database, actor: Actor
) -> None:
    ana = prospects.create(
        db, actor, email="ana@brightwave.example", first_name="Ana", company="Brightwave Logistics"
    )
    body = (
        "Hi Ana,\n\nI hope you are well. I saw that Brightwave opened a second hub. Teams like yours "
        "usually add new numbers someone tracks by hand for a few months, which is a lot of work "
        "that could go elsewhere.\n\nWe keep that reporting automatic from day one.\n\nBest,\nSam"
    )
    draft = drafts.create(db, actor, prospect_id=ana.id, subject="Reporting", body=body)
    instruction = "shorter and end with a question about Antwerp"
    rewritten = run("ai", "rewrite", "--draft", draft.id, "--instruction", instruction, "--json")
    document = json.loads(rewritten.stdout)
    assert document["not_applied"] == ["about Antwerp"] and "about Antwerp" in document["notes"][0]
    assert document["confidence"] <= 0.6
    plain = run("ai", "rewrite", "--draft", draft.id, "--instruction", instruction).stdout
    assert "note: Not done: “about Antwerp”" in plain
