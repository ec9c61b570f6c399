"""The settings check's memo (settings_check.py): a read verb skips pydantic only for inputs that
passed the full check before, and the memo holds no secret.

Each test runs the real CLI verb (`prospects list --json`, the plain read path) or the runtime
function it calls, on a real store in the test's own LUMINA_HOME.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from lumina_tui import settings_check
from lumina_tui.cli import main
from lumina_tui.config import ConfigError, Settings
from lumina_tui.services.runtime import cli_store_location, reset_runtime
from lumina_tui.store import Database

pytestmark = pytest.mark.usefixtures("db")  # a migrated store with its local user


def _location() -> object:
    reset_runtime()
    return cli_store_location()


def test_a_passed_check_is_remembered_and_used_by_the_next_process(settings: Settings) -> None:
    first = _location()
    assert isinstance(first, Settings)  # no memo yet: the full check
    memo = settings_check.memo_path()
    assert stat.S_IMODE(memo.stat().st_mode) == 0o600
    second = _location()
    assert isinstance(second, settings_check.CheckedStore)
    assert second.resolved_database_url == settings.resolved_database_url
    assert second.database_busy_timeout_seconds == settings.database_busy_timeout_seconds


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("LUMINA_DATABASE_BUSY_TIMEOUT_SECONDS", "-1"),
        ("lumina_ai_engine", "telepathy"),  # pydantic-settings ignores the case of the name
        ("LUMINA_WORKER__POLLING_DELAY_SECONDS", "often"),
    ],
)
def test_a_changed_variable_is_checked_again(name: str, value: str,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    _location()
    assert isinstance(_location(), settings_check.CheckedStore)
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError):
        _location()


def test_an_edited_config_file_is_checked_again(settings: Settings) -> None:
    _location()
    assert isinstance(_location(), settings_check.CheckedStore)
    settings.config_file.parent.mkdir(parents=True, exist_ok=True)
    settings.config_file.write_text("database_busy_timeout_seconds = 'soon'\n", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        _location()
    assert caught.value.key == "database_busy_timeout_seconds"
    # And through the verb: the CLI's JSON error, exit 2, as without the memo.
    reset_runtime()
    result = CliRunner().invoke(main, ["prospects", "list", "--json"])
    assert result.exit_code == 2
    assert json.loads(result.stderr)["error"]["code"] == "invalid_config"


def test_a_corrupt_memo_means_the_full_check() -> None:
    _location()
    settings_check.memo_path().write_text("{not json", encoding="utf-8")
    assert isinstance(_location(), Settings)
    assert isinstance(_location(), settings_check.CheckedStore)  # and a good memo again


def test_the_memo_holds_no_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    secret = "sk-memo-check-7f3a9c2e1b"
    monkeypatch.setenv("LUMINA_AI_API_KEY", secret)
    _location()
    text = settings_check.memo_path().read_text(encoding="utf-8")
    assert secret not in text
    assert isinstance(_location(), settings_check.CheckedStore)
    monkeypatch.setenv("LUMINA_AI_API_KEY", secret + "x")  # another key: checked again
    assert isinstance(_location(), Settings)


def test_no_memo_for_a_store_that_is_not_a_sqlite_file(monkeypatch: pytest.MonkeyPatch,
                                                       settings: Settings) -> None:
    password = "pg-pass-5b1e"
    checked = Settings(database_url=f"postgresql+psycopg://rep:{password}@127.0.0.1:1/lumina")
    assert not settings_check.remember(checked, settings_check.inputs_now())
    assert not settings_check.memo_path().exists()


def test_inputs_that_changed_during_the_check_leave_no_memo(monkeypatch: pytest.MonkeyPatch,
                                                            settings: Settings) -> None:
    before = settings_check.inputs_now()
    monkeypatch.setenv("LUMINA_AI_MODEL", "another-model")
    assert not settings_check.remember(settings, before)
    assert not settings_check.memo_path().exists()


def test_the_next_process_reads_without_importing_pydantic(db: Database) -> None:
    """The point of the memo, in a real second process: same answer, no pydantic, no SQLAlchemy."""
    del db
    probe = (
        "import contextlib, io, json, sys\n"
        "from lumina_tui.cli import main\n"
        "sys.argv = ['lumina', 'prospects', 'list', '--json']\n"
        "out = io.StringIO()\n"
        "with contextlib.redirect_stdout(out), contextlib.suppress(SystemExit):\n"
        "    main()\n"
        "print(json.dumps({'total': json.loads(out.getvalue())['total'],\n"
        "                  'pydantic': 'pydantic' in sys.modules,\n"
        "                  'sqlalchemy': 'sqlalchemy' in sys.modules}))\n"
    )
    env = dict(os.environ)

    def run() -> dict[str, object]:
        done = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True,
                              text=True, check=True, timeout=120)
        return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]

    first, second = run(), run()
    assert first["pydantic"] is True  # the full check ran and left the memo
    assert second == {"total": first["total"], "pydantic": False, "sqlalchemy": False}
    assert Path(settings_check.memo_path()).is_file()
