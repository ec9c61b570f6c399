"""`lumina doctor`: paths, schema, engine, keyring, worker, and no secret in its output."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from lumina_tui.cli import main
from lumina_tui.store import migrations


def doctor(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["doctor", *args])
    return result.exit_code, result.stdout


def test_doctor_on_a_fresh_home_reports_without_creating_anything(lumina_home: Path) -> None:
    code, out = doctor("--json")
    assert code == 0
    report = json.loads(out)
    assert report["version"]
    for name in ("data", "config", "log", "database", "queue", "outbox"):
        assert report["paths"][name].startswith(str(lumina_home)), name
    assert report["database"]["exists"] is False
    assert not (lumina_home / "data" / "lumina.db").exists()
    assert report["ai"]["engine"] == "offline"
    assert report["keyring"]["name"]
    assert report["worker"]["online"] is False
    assert report["settings"]["worker"]["autostart_sidecar"] is False  # from LUMINA_WORKER__AUTOSTART_SIDECAR


def test_doctor_after_the_demo_shows_the_schema_and_counts() -> None:
    assert CliRunner().invoke(main, ["demo", "--quiet"]).exit_code == 0
    report = json.loads(doctor("--json")[1])
    database = report["database"]
    assert database["exists"] is True
    assert database["schema_version"] == database["newest_schema_version"] == migrations.head_version()
    assert database["prospects"] >= 25


def test_secrets_are_masked_and_the_engine_follows_the_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    secret = "sk-test-Very-Secret-Value-123456"
    monkeypatch.setenv("LUMINA_AI_API_KEY", secret)
    monkeypatch.setenv("LUMINA_AI_BASE_URL", "http://user:hunter2@127.0.0.1:9/v1")
    code, out = doctor("--json")
    assert code == 0
    assert secret not in out and "hunter2" not in out
    report = json.loads(out)
    assert report["settings"]["ai_api_key"] == "***"
    assert report["ai"]["engine"] == "openai"
    assert report["ai"]["api_key"] == "set (LUMINA_AI_API_KEY)"
    assert secret not in doctor()[1]

    monkeypatch.setenv("LUMINA_AI_ENGINE", "offline")
    assert json.loads(doctor("--json")[1])["ai"]["engine"] == "offline"


def test_plain_doctor_output_is_for_a_person() -> None:
    code, out = doctor()
    assert code == 0
    for heading in ("Where files live", "Store", "AI engine", "Keyring", "Send worker", "Settings in force"):
        assert heading in out


def test_a_forced_engine_that_cannot_run_is_reported_not_swapped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LUMINA_AI_ENGINE", "openai")
    report = json.loads(doctor("--json")[1])
    assert report["ai"]["engine"] is None
    assert "LUMINA_AI_API_KEY" in report["ai"]["error"]
    assert any(warning.startswith("ai: ") for warning in report["warnings"])
