"""`lumina doctor`: what is configured, where files live, which keyring and AI engine would be used.

Each section is gathered on its own and reports its own error, so a broken database or keyring
still leaves the rest of the diagnosis readable. Secrets are masked: doctor output is meant to be
pasted into bug reports.
"""

from __future__ import annotations

import platform
import re
from collections.abc import Callable
from typing import Any

import click

from lumina_tui import __version__
from lumina_tui.cli.output import emit_json, json_option

SECRET_NAME = re.compile(r"(?i)(key|password|passwd|token|secret)")


def _mask(name: str, value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _mask(key, inner) for key, inner in value.items()}
    if value and SECRET_NAME.search(name):
        return "***"
    if isinstance(value, str):
        from lumina_tui.logs import scrub

        return scrub(value)  # the one scrubber: URL userinfo and registered secrets
    return value


def _section(build: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    try:
        return build()
    except Exception as exc:  # doctor must report, not crash
        return {"error": f"{exc.__class__.__name__}: {exc}"}


def ai_engine(settings: Any) -> dict[str, Any]:
    """The engine the composer would use, chosen by the AI package's own `choose_engine`.

    The API key here is the one from settings or OPENAI_API_KEY; a key kept only in the keyring is
    read by the AI service at call time and is not looked up by doctor.
    """
    from lumina_tui.ai.engines.base import choose_engine
    from lumina_tui.ai.errors import AIError

    key_source = None
    if settings.ai_api_key:
        key_source = "LUMINA_AI_API_KEY"
    elif settings.resolved_ai_api_key():
        key_source = "OPENAI_API_KEY"
    report: dict[str, Any] = {
        "setting": settings.ai_engine,
        "base_url": _mask("ai_base_url", settings.ai_base_url),
        "api_key": f"set ({key_source})" if key_source else "not set",
    }
    try:
        engine = choose_engine(
            settings.ai_engine,
            base_url=settings.ai_base_url,
            api_key=settings.resolved_ai_api_key(),
            model=settings.ai_model,
            timeout=settings.ai_timeout_seconds,
        )
    except AIError as exc:
        return {"engine": None, "error": exc.message, **report}
    return {"engine": engine.name, "model": engine.model, **report}


def diagnose() -> dict[str, Any]:
    from lumina_tui.config import load_settings_or_defaults

    # A broken config.toml or a wrong-typed setting is shown, not fatal: the rest of the diagnosis
    # runs on the defaults so the rep can see what to fix.
    settings, config_problem = load_settings_or_defaults()
    report: dict[str, Any] = {
        "version": __version__,
        "python": platform.python_version(),
        "platform": platform.platform(terse=True),
    }
    report["config"] = (
        {"ok": False, "key": config_problem.key, "error": config_problem.message}
        if config_problem
        else {"ok": True}
    )
    report["paths"] = {
        "data": str(settings.data_dir),
        "config": str(settings.config_dir),
        "config_file": str(settings.config_file),
        "config_file_exists": settings.config_file.exists(),
        "log": str(settings.log_dir / "lumina.log"),
        "database": str(settings.db_path) if not settings.database_url else None,
        "queue": str(settings.queue_path) if not settings.queue_url else None,
        "outbox": str(settings.outbox_dir),
    }
    report["settings"] = _mask("settings", settings.model_dump(mode="json"))
    report["database"] = _section(lambda: _database(settings))
    report["ai"] = _section(lambda: ai_engine(settings))
    report["keyring"] = _section(_keyring)
    report["worker"] = _section(lambda: _worker(settings))
    report["consumers"] = _section(lambda: _consumers(settings))
    warnings = []
    if report["keyring"].get("warning"):
        warnings.append(report["keyring"]["warning"])
    for name in ("config", "database", "ai", "keyring", "worker"):
        if "error" in report[name]:
            warnings.append(f"{name}: {report[name]['error']}")
    for entry in report["consumers"].get("lag", []):
        if entry["failures"]:
            warnings.append(f"consumer {entry['consumer']} is failing: {entry['last_error']}")
    report["warnings"] = warnings
    return report


def _consumers(settings: Any) -> dict[str, Any]:
    """How far each event-log consumer (stats, alerts, learning) has read, and whether it fails."""
    if not _database_exists(settings):
        return {"lag": []}
    from lumina_tui.services import stats
    from lumina_tui.services.actors import local_actor
    from lumina_tui.store import open_database

    db = open_database(settings.resolved_database_url)
    with db.read() as session:
        from sqlalchemy import text

        has_workspace = session.execute(text("SELECT count(*) FROM workspaces")).scalar_one()
    if not has_workspace:
        return {"lag": []}
    return {"lag": stats.consumer_lag(db, local_actor(db))}


def _database_exists(settings: Any) -> bool:
    return bool(settings.database_url) or settings.db_path.exists()


def _database(settings: Any) -> dict[str, Any]:
    from sqlalchemy import text

    from lumina_tui.store import migrations, open_database

    url = _mask("database_url", settings.resolved_database_url)
    if not _database_exists(settings):
        # Diagnosing must not create one; the first real command will.
        return {"url": url, "exists": False, "newest_schema_version": migrations.head_version()}
    db = open_database(settings.resolved_database_url)
    with db.read() as session:
        version = session.execute(text("SELECT MAX(version) FROM schema_version")).scalar_one()
        prospects = session.execute(text("SELECT count(*) FROM prospects")).scalar_one()
        drafts = session.execute(text("SELECT count(*) FROM email_drafts")).scalar_one()
    return {
        "url": url,
        "exists": True,
        "schema_version": version,
        "newest_schema_version": migrations.head_version(),
        "prospects": prospects,
        "drafts": drafts,
    }


def _keyring() -> dict[str, Any]:
    from lumina_tui import secrets

    return secrets.backend_info()


def _worker(settings: Any) -> dict[str, Any]:
    from lumina_tui.services import worker_status
    from lumina_tui.store import open_database

    db = open_database(settings.resolved_database_url) if _database_exists(settings) else None
    return worker_status.read_status(settings, db).as_json()


@click.command()
@json_option
def doctor(as_json: bool) -> None:
    """Show what is configured, where files are, which keyring backend and AI engine are in use."""
    report = diagnose()
    if as_json:
        emit_json(report)
        return
    _print(report)


def _print(report: dict[str, Any]) -> None:
    from lumina_tui.cli import tables

    console = tables.stdout()
    console.print(
        f"[bold]Lumina {report['version']}[/bold] · Python {report['python']} · {report['platform']}"
    )
    console.print(tables.key_values("Where files live", report["paths"].items()))
    console.print(tables.key_values("Settings file", report["config"].items()))
    database = report["database"]
    console.print(tables.key_values("Store", database.items()))
    console.print(tables.key_values("AI engine", report["ai"].items()))
    console.print(tables.key_values("Keyring", report["keyring"].items()))
    console.print(tables.key_values("Send worker", report["worker"].items()))
    flat = _flatten(report["settings"])
    console.print(tables.key_values("Settings in force (secrets masked)", flat.items()))
    from rich.markup import escape

    for warning in report["warnings"]:
        console.print(f"[yellow]warning:[/yellow] {escape(warning)}")


def _flatten(values: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in values.items():
        if isinstance(value, dict) and value:
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat
