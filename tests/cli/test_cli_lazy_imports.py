"""`lumina --version` and `lumina --help` stay fast: they import neither Textual, SQLModel nor openai."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

HEAVY = {"textual", "sqlmodel", "sqlalchemy", "openai", "huey", "rich"}
# The Gmail and Outlook clients load only when an account of theirs is used.
HEAVY |= {"googleapiclient", "google_auth_oauthlib", "google", "msal", "httpx", "httplib2", "cryptography"}
# Mailbox sync's libraries load only when a sync runs.
HEAVY |= {"imapclient", "flufl", "mailparser_reply"}
PROBE = """
import json, sys
sys.argv = ["lumina", *json.loads(sys.argv[1])]
from lumina_tui.cli import main
try:
    main()
except SystemExit as exit:
    code = exit.code
print("\\nLOADED " + json.dumps(sorted({m.split('.')[0] for m in sys.modules})) + " " + json.dumps(code))
"""


@pytest.mark.parametrize(
    ("args", "shown"),
    [
        (["--version"], "lumina, version"),
        (["--help"], "prospects"),
        (["drafts", "--help"], "save"),
        (["prospects", "import", "--help"], "CSV"),
        (["accounts", "add", "gmail", "--help"], "gmail.send"),
        (["accounts", "add", "outlook", "--help"], "device code"),
        (["emails", "sync", "--help"], "replies and bounces"),
        (["accounts", "add", "smtp", "--help"], "--imap-host"),
    ],
)
def test_help_and_version_do_not_import_heavy_modules(args: list[str], shown: str) -> None:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(args)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    head, _, tail = done.stdout.rpartition("\nLOADED ")
    assert shown in head
    modules_json, _, code = tail.strip().rpartition(" ")
    assert json.loads(code) in (0, None)
    loaded = set(json.loads(modules_json))
    assert "lumina_tui" in loaded
    assert loaded & HEAVY == set()


def _loaded_after(args: list[str], tmp_path, stdin: bytes | None = None) -> tuple[set[str], str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("LUMINA_")}
    env["LUMINA_HOME"] = str(tmp_path / "home")
    done = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(args)], capture_output=True, timeout=60, env=env,
        input=stdin,
    )
    assert done.returncode == 0, done.stderr.decode()
    head, _, tail = done.stdout.decode().rpartition("\nLOADED ")
    modules_json, _, code = tail.strip().rpartition(" ")
    assert json.loads(code) in (0, None), done.stderr.decode()
    return set(json.loads(modules_json)), head


#: What `ai score --file` must never pay for (issue 9 point 22: under 0.4 s as a whole process;
#: bench/bench_cli.py measures it). NLTK is textstat's, unused on the en-US route Lumina takes.
#: pydantic: the score's types are dataclasses (ai/score_models.py), the settings are not read.
SCORE_MUST_NOT_LOAD = {"sqlalchemy", "sqlmodel", "openai", "httpx", "nltk", "textual", "huey",
                       "rich", "pydantic_settings", "keyring", "pydantic", "pydantic_core"}


def test_ai_score_file_imports_only_what_scoring_needs(tmp_path) -> None:
    message = tmp_path / "message.eml"
    message.write_bytes(
        b"From: Jordan <jordan@lumina.example>\r\nTo: dana@northwind.example\r\n"
        b"Subject: Research time\r\n\r\nHi Dana,\r\n\r\nLumina cuts research time by 40%. "
        b"Would a 20-minute call on Thursday make sense?\r\n\r\nBest,\r\nJordan\r\n")
    loaded, out = _loaded_after(["ai", "score", "--file", str(message), "--json"], tmp_path)
    score = json.loads(out)
    assert score["signals"]["reading_grade"] > 0  # textstat did run: the grade is real
    assert loaded & SCORE_MUST_NOT_LOAD == set()
    assert "textstat" in loaded and "pyphen" in loaded
    # The same from stdin.
    loaded, out = _loaded_after(["ai", "score", "-", "--json"], tmp_path,
                                stdin=message.read_bytes())
    assert json.loads(out)["signals"]["reading_grade"] == score["signals"]["reading_grade"]
    assert loaded & SCORE_MUST_NOT_LOAD == set()


#: What the read verbs a script calls per row must not pay for (issue 9 point 22: under 0.5 s as a
#: whole process): they read through plain sqlite3 (services/plain_reads.py), not the ORM.
READ_MUST_NOT_LOAD = {"sqlalchemy", "sqlmodel", "openai", "httpx", "textstat", "nltk", "textual",
                      "huey", "rich", "keyring"}


def test_read_verbs_do_not_import_the_orm(tmp_path, db, actor) -> None:
    from lumina_tui.services import drafts, prospects

    ana = prospects.create(db, actor, email="ana@example.com", first_name="Ana")
    draft = drafts.create(db, actor, prospect_id=ana.id, subject="Hello", body="Hi Ana")
    env = dict(os.environ)  # this test's LUMINA_HOME, where the store above lives
    for args, check in (
        (["prospects", "list", "--json"], lambda doc: doc["items"][0]["email"] == "ana@example.com"),
        (["drafts", "show", draft.id, "--json"], lambda doc: doc["subject"] == "Hello"),
    ):
        done = subprocess.run([sys.executable, "-c", PROBE, json.dumps(args)], capture_output=True,
                              timeout=60, env=env)
        assert done.returncode == 0, done.stderr.decode()
        head, _, tail = done.stdout.decode().rpartition("\nLOADED ")
        modules_json, _, code = tail.strip().rpartition(" ")
        assert json.loads(code) in (0, None), done.stderr.decode()
        assert check(json.loads(head)), head
        assert set(json.loads(modules_json)) & READ_MUST_NOT_LOAD == set(), args
