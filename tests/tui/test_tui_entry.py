"""`lumina` itself: help without Textual, a bad --draft refused with the CLI's error contract (the
composer, drawn first, closes when the runtime finds no such draft), and the sidecar worker started
when none runs (and not with --no-worker)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
from polling import wait_until
from pty_session import PtySession, lumina_argv

from lumina_tui.config import load_settings
from lumina_tui.services import worker_control, worker_status


def test_help_does_not_import_textual_or_the_store() -> None:
    code = (
        "import sys\n"
        "from click.testing import CliRunner\n"
        "from lumina_tui.cli import main\n"
        "result = CliRunner().invoke(main, ['--help'])\n"
        "assert result.exit_code == 0, result.output\n"
        "assert '--draft' in result.output and '--no-worker' in result.output\n"
        "heavy = [name for name in ('textual', 'sqlmodel', 'sqlalchemy', 'openai') if name in sys.modules]\n"
        "print(','.join(heavy))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == ""


def test_an_unknown_draft_is_refused_with_the_cli_contract() -> None:
    done = subprocess.run(
        [*lumina_argv("--no-worker", "--draft", "00000000-0000-4000-8000-000000000000")],
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 2
    assert "not found" in done.stderr


def _stop_worker(settings) -> None:  # type: ignore[no-untyped-def]
    status = worker_status.read_status(settings)
    if status.pid:
        try:
            os.kill(status.pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                os.kill(status.pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.05)


def test_lumina_starts_the_sidecar_worker_when_none_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LUMINA_WORKER__AUTOSTART_SIDECAR", "true")
    monkeypatch.setenv("LUMINA_WORKER__HEARTBEAT_INTERVAL_SECONDS", "0.2")
    monkeypatch.setenv("LUMINA_WORKER__IDLE_EXIT_SECONDS", "30")
    settings = load_settings()
    assert not worker_status.read_status(settings).online
    session = PtySession(lumina_argv(), dict(os.environ))
    try:
        session.wait_for_output(b"Tone")
        wait_until(lambda: worker_status.read_status(settings).online)  # a sidecar came online
        session.wait_for_output(b"worker \xe2\x97\x8f online", timeout=60)  # and the status bar says so
        session.write(b"\x11")  # ctrl+q
        session.wait()
    finally:
        session.close()
        _stop_worker(settings)


def test_no_worker_flag_starts_none(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LUMINA_WORKER__AUTOSTART_SIDECAR", "true")
    settings = load_settings()
    session = PtySession(lumina_argv("--no-worker"), dict(os.environ))
    try:
        session.wait_for_output(b"worker \xe2\x97\x8b offline", timeout=60)
        session.write(b"\x11")
        session.wait()
    finally:
        session.close()
        _stop_worker(settings)
    assert not (settings.data_dir / worker_control.SPAWN_STAMP_FILE).exists()
