"""An SMTP server whose 535 reply echoes the password: the password reaches no file, log or output.

Everything runs as the rep would run it, each in its own process: `lumina accounts add smtp
--password-stdin`, `accounts test`, `send`, a real `lumina worker`, `emails show` (JSON and human).
Then the whole LUMINA_HOME (database with its -wal/-shm, queue database, logs, worker output) and
every captured stdout/stderr is grepped for the password in every form (tests/secret_grep.py).
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

from aiosmtpd.smtp import AuthResult, LoginPassword
from polling import wait_until
from secret_grep import assert_grep_works, assert_no_secret
from sending_support import TimedSink, WorkerProcess, lumina_command

from lumina_tui.services import outbox
from lumina_tui.services.email_state import EmailStatus
from lumina_tui.store import Database
from lumina_tui.store.models import EmailDraft

PASSWORD = "Echo-Me-9xQ!pw#2026"


class EchoingSink(TimedSink):
    """Refuses every login with a 535 that quotes the password it was sent (some servers do)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(users={"sam@acme.test": "the-right-one"}, **kwargs)
        self.echoed: list[str] = []

    def _authenticate(self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any):
        if isinstance(auth_data, LoginPassword):
            password = auth_data.password.decode()
            self.echoed.append(password)
            return AuthResult(
                success=False,
                handled=False,
                message=f"535 5.7.8 password '{password}' not accepted for {auth_data.login.decode()}",
            )
        return AuthResult(success=False, handled=False)


def lumina(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        lumina_command(*args), input=stdin, capture_output=True, text=True, timeout=120, check=False
    )


def test_a_535_echoing_the_password_leaves_it_nowhere(
    db: Database,
    lumina_home: Path,
    make_draft: Callable[..., EmailDraft],
    start_worker: Callable[..., WorkerProcess],
) -> None:
    captured: list[str] = []

    def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        result = lumina(*args, stdin=stdin)
        captured.extend([result.stdout, result.stderr])
        return result

    with EchoingSink() as sink:
        added = run(
            "accounts", "add", "smtp", "--email", "sam@acme.test", "--host", sink.host,
            "--port", str(sink.port), "--plain", "--password-stdin", "--name", "echo", "--default",
            "--json", stdin=PASSWORD + "\n",
        )  # fmt: skip
        assert added.returncode == 0, added.stderr

        tested = run("accounts", "test", "echo", "--json")
        assert tested.returncode == 1
        error = json.loads(tested.stderr)["error"]
        assert error["code"] == "provider_error" and "535" in error["message"]
        assert "***" in error["message"]  # the reply is shown, the password in it is not
        human_test = run("accounts", "test", "echo")
        assert human_test.returncode == 1 and "535" in human_test.stderr

        draft = make_draft()
        queued = run("send", "--draft", draft.id, "--json")
        assert queued.returncode == 0, queued.stderr
        email_id = json.loads(queued.stdout)["id"]
        worker = start_worker()
        wait_until(
            lambda: outbox.get_email(db, _actor(db), email_id).status == EmailStatus.FAILED, timeout=30
        )
        worker.stop()
        assert PASSWORD in sink.echoed  # the server really did echo it

    shown = run("emails", "show", email_id, "--json")
    assert shown.returncode == 0, shown.stderr
    document = json.loads(shown.stdout)
    assert "535" in document["last_error"] and "***" in document["last_error"]
    failed = [e for e in document["events"] if e["event_type"] == "failed"]
    assert failed and "***" in failed[0]["data"]["reason"]
    human = run("emails", "show", email_id)
    assert human.returncode == 0 and "535" in human.stdout

    assert_grep_works(PASSWORD, lumina_home)
    assert_no_secret(PASSWORD, lumina_home, *captured)


def _actor(db: Database):
    from lumina_tui.services.actors import local_actor

    return local_actor(db)
