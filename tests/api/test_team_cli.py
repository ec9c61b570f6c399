"""`lumina team init` and `lumina users add|list|remove` through click: JSON contract, exit codes."""

from __future__ import annotations

import json

from click.testing import CliRunner, Result

from lumina_tui.cli import main

PASSWORD = "team-pw-9Kd!unique"


def run(*args: str, stdin: str | None = None) -> Result:
    return CliRunner().invoke(main, list(args), input=stdin, catch_exceptions=False)


def test_team_init_then_users_add_list_remove() -> None:
    init = run(
        "team", "init", "--name", "Northwind", "--email", "lead@north.test", "--json", stdin=PASSWORD + "\n"
    )
    assert init.exit_code == 0, init.stderr
    owner = json.loads(init.stdout)
    assert owner["role"] == "owner" and owner["can_sign_in"] is True
    assert PASSWORD not in init.stdout + init.stderr

    again = run("team", "init", "--name", "Again", "--email", "x@north.test", "--json", stdin=PASSWORD)
    assert again.exit_code == 2
    assert json.loads(again.stderr)["error"]["code"] == "conflict"

    added = run("users", "add", "ana@north.test", "--name", "Ana", "--json", stdin=PASSWORD + "\n")
    assert added.exit_code == 0, added.stderr
    short = run("users", "add", "bo@north.test", "--json", stdin="short\n")
    assert short.exit_code == 2
    assert json.loads(short.stderr)["error"]["field"] == "password"

    listed = json.loads(run("users", "list", "--json").stdout)
    assert [u["email"] for u in listed["items"]] == ["lead@north.test", "ana@north.test"]

    removed = run("users", "remove", "ana@north.test", "--json")
    assert removed.exit_code == 0, removed.stderr
    assert json.loads(removed.stdout)["removed_at"] is not None
    missing = run("users", "remove", "ana@north.test", "--json")
    assert missing.exit_code == 2
    assert json.loads(missing.stderr)["error"] == {
        "code": "not_found",
        "field": "user",
        "message": "user ana@north.test not found",
    }
    assert [u["email"] for u in json.loads(run("users", "list", "--json").stdout)["items"]] == [
        "lead@north.test"
    ]
