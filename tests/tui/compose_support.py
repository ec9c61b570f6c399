"""Helpers for the composer's tests: a seeded runtime, the real app, and waiting on conditions.

(A module of its own, not conftest.py, so TUI-B's tests in this folder are untouched by it.)
Everything is real: the app is `LuminaApp`, the services and the SQLite file are the ones `lumina`
uses, the AI is the offline engine or a local OpenAI-protocol server on 127.0.0.1.
"""

from __future__ import annotations

from typing import Any

from textual.pilot import Pilot

from lumina_tui.services import demo, drafts, prospects
from lumina_tui.services.runtime import Runtime, open_runtime
from lumina_tui.tui.app import LuminaApp
from lumina_tui.tui.screens.compose import ComposeScreen

WIDE = (120, 40)
SNAP_WIDE = (100, 30)
NARROW = (80, 24)


class FixedClock:
    """The composer's display clock ("saved 2 s ago", a suggestion's age), moved by hand."""

    def __init__(self, now: float = 1_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def seeded_runtime() -> Runtime:
    """The demo workspace (prospects, companies, templates, a Maildir outbox) in this test's home."""
    runtime = open_runtime()
    demo.seed(runtime.db, runtime.actor)
    return runtime


def prospect_by_email(runtime: Runtime, email: str) -> Any:
    return prospects.get(runtime.db, runtime.actor, email)


def first_prospect(runtime: Runtime) -> Any:
    return prospects.list_prospects(runtime.db, runtime.actor, limit=1).items[0]


def draft_for(runtime: Runtime, prospect: Any, body: str, subject: str = "Quick question") -> Any:
    return drafts.create(runtime.db, runtime.actor, prospect_id=prospect.id, subject=subject, body=body)


def make_app(
    runtime: Runtime,
    *,
    draft_id: str | None = None,
    clock: FixedClock | None = None,
    animations: str = "none",
) -> LuminaApp:
    """The real app. Animations are off unless a test asks: Pilot waits for animations to finish
    after every key, and the thinking pulse never finishes."""
    app = LuminaApp(runtime, draft_id=draft_id, clock=clock or FixedClock(), handle_signals=False)
    app.animation_level = animations  # type: ignore[assignment]
    return app


def composer(app: LuminaApp) -> ComposeScreen:
    assert app.composer is not None
    return app.composer


#: A generous deadline: the suite runs on a loaded 2-core CI box; a condition that holds is met long before.
DEADLINE_SECONDS = 60.0


def only_explicit_saves(monkeypatch: Any) -> None:
    """Nothing saves by itself: no autosave timer, no automatic score, no automatic personalize.

    The automatic score and personalize save the draft first (they name the revision they read),
    so a test that says "only the switch / the signal can save" must turn them off too: on a loaded
    machine a gap of 600 ms between two keys is enough for the score to run and save.
    """
    monkeypatch.setenv("LUMINA_COMPOSER__SAVE_INTERVAL_MS", "600000")
    monkeypatch.setenv("LUMINA_COMPOSER__SCORE_PAUSE_MS", "600000")
    monkeypatch.setenv("LUMINA_COMPOSER__AUTO_PERSONALIZE_PAUSE_MS", "600000")


async def type_text(pilot: Pilot[Any], text: str) -> None:
    """Type like a person: one key per character (space and newline by their key names)."""
    keys = []
    for char in text:
        keys.append({" ": "space", "\n": "enter"}.get(char, char))
    await pilot.press(*keys)


def stored(runtime: Runtime, draft_id: str) -> Any:
    return drafts.get(runtime.db, runtime.actor, draft_id)


def record_notes(app: LuminaApp) -> list[str]:
    """Every notification the app shows from now on (title and message), kept after it times out."""
    seen: list[str] = []
    notify = app.notify

    def recording(message: str, *, title: str = "", **options: Any) -> None:
        seen.append(f"{title}: {message}" if title else str(message))
        notify(message, title=title, **options)

    app.notify = recording  # type: ignore[method-assign]
    return seen
