"""`lumina prospects ...` and `lumina drafts ...`: the command-line contract of docs/cli.md.

With --json, stdout is one JSON document (a resource, or {"items", "total"}); errors go to stderr as
{"error": {"code", "field", "message"}}; exit 0 ok, 2 bad input / not found / already sent, 1 I/O.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from lumina_tui.cli import main
from lumina_tui.services import drafts
from lumina_tui.store import new_id


def run(*args: str, input: str | None = None, code: int = 0) -> Result:
    result = CliRunner().invoke(main, list(args), input=input)
    assert result.exit_code == code, (result.stdout, result.stderr, result.exception)
    return result


def ok_json(*args: str, input: str | None = None) -> Any:
    result = run(*args, "--json", input=input)
    return json.loads(result.stdout)


def error_json(code: int, *args: str) -> dict[str, Any]:
    result = run(*args, "--json", code=code)
    assert result.stdout == ""
    return json.loads(result.stderr.strip().splitlines()[-1])["error"]


@pytest.fixture
def csv_file(tmp_path: Path) -> Path:
    path = tmp_path / "hubspot.csv"
    path.write_bytes(
        b"\xef\xbb\xbfEmail,First Name,Last Name,Job Title,Company Name,Website,Industry,CRM\n"
        b"ana@brightwave.example,Ana,Okafor,VP Operations,Brightwave,brightwave.example,Logistics,SAP\n"
        b"broken-address,Bob,B,,,,,\n"
        b"grace@quillstone.test,Grace,Mensah,COO,Quillstone Health,,Healthcare,Oracle\n"
    )
    return path


def test_import_reports_rows_and_exits_0_with_rejections(csv_file: Path) -> None:
    report = ok_json("prospects", "import", str(csv_file))
    assert (report["imported"], report["updated"]) == (2, 0)
    assert [(row["line"], row["email"]) for row in report["rejected"]] == [(3, "broken-address")]
    assert "invalid email address" in report["rejected"][0]["reason"]
    again = ok_json("prospects", "import", str(csv_file))
    assert (again["imported"], again["updated"]) == (0, 2)


def test_import_plain_output_lists_the_rejected_lines(csv_file: Path) -> None:
    out = run("prospects", "import", str(csv_file)).stdout
    assert "2 imported" in out and "1 rejected" in out
    assert "broken-address" in out


def test_import_errors_follow_the_contract(tmp_path: Path) -> None:
    missing = error_json(2, "prospects", "import", str(tmp_path / "nope.csv"))  # the rep's input: exit 2
    assert (missing["code"], missing["field"]) == ("not_found", "file")
    no_email = tmp_path / "no-email.csv"
    no_email.write_text("Name,Company\nAna,X\n", encoding="utf-8")
    bad = error_json(2, "prospects", "import", str(no_email))
    assert (bad["code"], bad["field"]) == ("invalid", "file")
    assert "no email column" in bad["message"]


def test_list_show_and_add(csv_file: Path) -> None:
    run("prospects", "import", str(csv_file))
    page = ok_json("prospects", "list")
    assert page["total"] == 2
    assert [p["email"] for p in page["items"]] == ["ana@brightwave.example", "grace@quillstone.test"]
    assert ok_json("prospects", "list", "--search", "quillstone")["total"] == 1
    second = ok_json("prospects", "list", "--limit", "1", "--offset", "1")
    assert (second["total"], [p["first_name"] for p in second["items"]]) == (2, ["Grace"])

    ana = ok_json("prospects", "show", "ana@brightwave.example")
    assert ana["custom_fields"] == {"crm": "SAP"}
    assert ana["company_data"]["industry"] == "Logistics"
    assert ok_json("prospects", "show", ana["id"])["email"] == ana["email"]

    added = ok_json(
        "prospects", "add", "--email", "New@Example.com", "--first-name", "Nia", "--title", "CTO",
        "--field", "crm=HubSpot", "--field", "tier = gold",
    )  # fmt: skip
    assert (added["email"], added["job_title"], added["custom_fields"]) == (
        "new@example.com",
        "CTO",
        {"crm": "HubSpot", "tier": "gold"},
    )
    assert ok_json("prospects", "list")["total"] == 3
    assert "Ana Okafor" in run("prospects", "list").stdout
    assert "Brightwave" in run("prospects", "show", "ana@brightwave.example").stdout


def test_prospect_errors_name_the_field() -> None:
    assert error_json(2, "prospects", "show", "nobody@x.test")["code"] == "not_found"
    assert error_json(2, "prospects", "show", "not-an-id")["field"] == "prospect"
    bad = error_json(2, "prospects", "add", "--email", "not-an-email")
    assert (bad["code"], bad["field"]) == ("invalid", "email")
    assert error_json(2, "prospects", "add", "--email", "a@x.test", "--field", "novalue")["field"] == "field"
    run("prospects", "add", "--email", "a@x.test")
    assert error_json(2, "prospects", "add", "--email", "a@x.test")["field"] == "email"
    human = run("prospects", "show", "nobody@x.test", code=2)
    assert human.stderr.startswith("error: prospect nobody@x.test not found")


def _prospect() -> str:
    return ok_json("prospects", "add", "--email", "ana@brightwave.example", "--first-name", "Ana")["id"]


def test_draft_lifecycle(tmp_path: Path) -> None:
    prospect_id = _prospect()
    body = tmp_path / "body.txt"
    body.write_text("Hi Ana,\r\n\r\nA question.\r\n", encoding="utf-8")
    draft = ok_json(
        "drafts",
        "new",
        "--prospect",
        "ana@brightwave.example",
        "--subject",
        "Hello",
        "--body-file",
        str(body),
    )
    assert (draft["revision"], draft["prospect_id"], draft["body"]) == (
        1,
        prospect_id,
        "Hi Ana,\n\nA question.\n",
    )
    assert draft["created_at"].endswith("Z")

    saved = ok_json("drafts", "save", draft["id"], "--subject", "Hello again")
    assert (saved["revision"], saved["outcome"], saved["subject"], saved["body"]) == (
        2,
        "updated",
        "Hello again",
        draft["body"],
    )
    from_stdin = ok_json("drafts", "save", draft["id"], "--body-file", "-", input="typed on stdin")
    assert (from_stdin["revision"], from_stdin["body"], from_stdin["subject"]) == (
        3,
        "typed on stdin",
        "Hello again",
    )

    older = ok_json("drafts", "save", draft["id"], "--revision", "1", "--subject", "stale")
    assert (older["outcome"], older["revision"], older["subject"]) == ("ignored_older", 3, "Hello again")
    same = ok_json("drafts", "save", draft["id"], "--revision", "3")
    assert same["outcome"] == "unchanged"
    conflict = error_json(2, "drafts", "save", draft["id"], "--revision", "3", "--subject", "other")
    assert (conflict["code"], conflict["field"]) == ("conflict", "revision")

    assert ok_json("drafts", "show", draft["id"])["revision"] == 3
    page = ok_json("drafts", "list")
    assert (page["total"], page["items"][0]["id"]) == (1, draft["id"])
    assert "Hello again" in run("drafts", "show", draft["id"]).stdout
    assert "ignored" in run("drafts", "save", draft["id"], "--revision", "1").stdout

    assert ok_json("drafts", "delete", draft["id"]) == {"id": draft["id"], "deleted": True}
    assert error_json(2, "drafts", "show", draft["id"])["code"] == "not_found"
    assert error_json(2, "drafts", "delete", draft["id"])["code"] == "not_found"


def test_draft_from_a_template_by_name(db, actor) -> None:
    from lumina_tui.services import demo

    demo.seed(db, actor)
    draft = ok_json(
        "drafts", "new", "--prospect", "ana.okafor@brightwave.example", "--template", "intro: REPORTING time"
    )
    assert draft["subject"] == "Weekly reporting at Brightwave Logistics"
    assert draft["body"].startswith("Hi Ana,")
    bad = error_json(2, "drafts", "new", "--prospect", "ana.okafor@brightwave.example", "--template", "nope")
    assert (bad["field"], bad["code"]) == ("template_id", "invalid")
    assert "unknown template" in bad["message"]


def test_draft_errors_name_the_field(tmp_path: Path) -> None:
    _prospect()
    unknown = error_json(2, "drafts", "new", "--prospect", "nobody@x.test")
    assert (unknown["code"], unknown["field"]) == ("not_found", "prospect")
    newline = error_json(2, "drafts", "new", "--prospect", "ana@brightwave.example", "--subject", "a\nb")
    assert newline["field"] == "subject"
    big = tmp_path / "big.txt"
    big.write_text("x" * 1_000_001, encoding="utf-8")
    too_big = error_json(2, "drafts", "new", "--prospect", "ana@brightwave.example", "--body-file", str(big))
    assert too_big["field"] == "body" and "1 MB" in too_big["message"]
    missing = error_json(
        2, "drafts", "new", "--prospect", "ana@brightwave.example", "--body-file", str(tmp_path / "x")
    )
    assert missing["field"] == "body_file"
    assert error_json(2, "drafts", "show", "not-a-uuid")["field"] == "draft_id"
    assert ok_json("drafts", "list")["total"] == 0


def test_a_sent_draft_is_refused_with_exit_2(db, actor) -> None:
    _prospect()
    draft = ok_json("drafts", "new", "--prospect", "ana@brightwave.example", "--subject", "S")
    with db.write() as session:
        assert drafts.mark_sent(session, actor, draft["id"], new_id(), 1)
    assert error_json(2, "drafts", "save", draft["id"], "--subject", "edit")["code"] == "already_sent"
    assert error_json(2, "drafts", "delete", draft["id"])["code"] == "already_sent"
    assert ok_json("drafts", "list")["total"] == 0
    assert ok_json("drafts", "list", "--all")["total"] == 1
