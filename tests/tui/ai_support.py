"""AI helpers for the composer's tests (the fixtures using them are in this folder's conftest.py)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from lumina_tui.ai.engines import openai_engine
from lumina_tui.ai.orchestrator import clear_cache
from lumina_tui.ai.ratelimit import reset_limiters
from lumina_tui.store.models import AIFeedback


def reset_ai_state() -> None:
    """No suggestion cache, rate-limit history or SDK client carried from one test to the next."""
    clear_cache()
    reset_limiters()
    openai_engine.reset_shared_state()


def feedback_rows(runtime: Any) -> list[tuple[str, str, str | None]]:
    """(suggestion_id, action, note) of every feedback row, oldest first."""
    with runtime.db.read() as session:
        rows = session.execute(select(AIFeedback).order_by(AIFeedback.created_at)).scalars().all()
        return [(row.suggestion_id, row.action, row.note) for row in rows]
