"""Local-first saving: throttled + trailing saves off the event loop, and the last-chance saves."""

from __future__ import annotations

import contextlib
import signal
import time

import pytest
from compose_support import (
    DEADLINE_SECONDS,
    WIDE,
    composer,
    make_app,
    only_explicit_saves,
    seeded_runtime,
    stored,
    type_text,
)
from polling import pilot_wait_until

from lumina_tui.services import drafts

pytestmark = pytest.mark.anyio


async def test_typing_is_saved_within_the_interval_with_a_client_chosen_id() -> None:
    runtime = seeded_runtime()
    app = make_app(runtime)
    async with app.run_test(size=WIDE) as pilot:
        screen = composer(app)
        draft_id = screen.draft_id
        assert screen.status.saved == "new draft"
        await type_text(pilot, "Hello Ana")

        def saved() -> bool:
            try:
                return stored(runtime, draft_id).body_text == "Hello Ana"
            except Exception:
                return False

        await pilot_wait_until(pilot, saved)
        row = stored(runtime, draft_id)
        assert row.id == draft_id  # the composer chose the id; the store kept it
        assert row.revision >= 1
        await pilot_wait_until(pilot, lambda: screen.status.saved == "saved 0 s ago")


async def test_continuous_typing_is_saved_while_it_goes_on(monkeypatch: pytest.MonkeyPatch) -> None:
    """A throttle with a trailing save: typing that never pauses is still saved every interval.

    Typing goes on until two saves have landed *during* it (however slow the machine is), so the
    test waits on what it checks instead of hoping a fixed number of keys takes long enough.
    """
    monkeypatch.setenv("LUMINA_COMPOSER__SAVE_INTERVAL_MS", "200")
    runtime = seeded_runtime()
    app = make_app(runtime)
    async with app.run_test(size=WIDE) as pilot:
        draft_id = composer(app).draft_id
        seen_while_typing: set[str] = set()
        letters = "abcdefghijklmnopqrstuvwxyz"
        typed = ""
        deadline = time.monotonic() + DEADLINE_SECONDS
        while len({body for body in seen_while_typing if body and body != typed}) < 2:
            assert time.monotonic() < deadline, f"no saves while typing: {seen_while_typing}"
            char = letters[len(typed) % len(letters)]
            await pilot.press(char)
            typed += char
            await pilot.pause(0.03)  # a typist's pace; what is checked does not depend on it
            with contextlib.suppress(Exception):
                seen_while_typing.add(stored(runtime, draft_id).body_text)
        # Saves landed *during* the typing, each a growing prefix of what was typed.
        partial = {body for body in seen_while_typing if body and body != typed}
        assert all(typed.startswith(body) for body in partial)
        await pilot.press("z")  # and typing goes on after them
        typed += "z"
        await pilot_wait_until(pilot, lambda: stored(runtime, draft_id).body_text == typed)
        assert stored(runtime, draft_id).revision >= 3


async def test_switching_screens_saves_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 9.12: this failed on a loaded machine with the draft saved after its first key. The
    automatic score (600 ms after a pause in typing) saves first; under load one gap between two
    keys was enough. Every automatic save is off here, so only the switch can save."""
    only_explicit_saves(monkeypatch)
    runtime = seeded_runtime()
    app = make_app(runtime)
    async with app.run_test(size=WIDE) as pilot:
        screen = composer(app)
        draft_id = screen.draft_id
        await type_text(pilot, "before the switch")
        assert screen.autosave.state == "pending"
        assert drafts.list_drafts(runtime.db, runtime.actor).total == 0  # not saved yet
        await pilot.press("f3")
        await pilot_wait_until(pilot, lambda: app.current_mode == "prospects")
        await pilot_wait_until(pilot, lambda: drafts.list_drafts(runtime.db, runtime.actor).total == 1)
        assert stored(runtime, draft_id).body_text == "before the switch"


async def test_quit_saves_synchronously(monkeypatch: pytest.MonkeyPatch) -> None:
    only_explicit_saves(monkeypatch)
    runtime = seeded_runtime()
    app = make_app(runtime)
    async with app.run_test(size=WIDE) as pilot:
        draft_id = composer(app).draft_id
        await type_text(pilot, "typed just before ctrl+q")
        await pilot.press("ctrl+q")
    assert stored(runtime, draft_id).body_text == "typed just before ctrl+q"


async def test_sigterm_saves_then_exits(monkeypatch: pytest.MonkeyPatch) -> None:
    """The handler the app installs for SIGTERM/SIGHUP (a real signal is sent in test_kill_nine)."""
    only_explicit_saves(monkeypatch)
    runtime = seeded_runtime()
    app = make_app(runtime)
    async with app.run_test(size=WIDE) as pilot:
        draft_id = composer(app).draft_id
        await type_text(pilot, "then the terminal closed")
        app._terminate(signal.SIGHUP)
        await pilot.pause()
    assert stored(runtime, draft_id).body_text == "then the terminal closed"
    assert app.return_code == 128 + signal.SIGHUP


async def test_a_failing_save_says_so_retries_and_recovers() -> None:
    """A body over the store's 1 MB limit cannot be saved: the status says so and keeps retrying."""
    runtime = seeded_runtime()
    app = make_app(runtime)
    async with app.run_test(size=WIDE) as pilot:
        screen = composer(app)
        draft_id = screen.draft_id
        await type_text(pilot, "Hi")
        await pilot_wait_until(pilot, lambda: screen.autosave.state == "saved")
        screen.body.insert(("x" * 99 + "\n") * 11_000)  # a huge paste: 1.1 MB
        await pilot_wait_until(pilot, lambda: screen.status.saved == "save failed, retrying")
        assert stored(runtime, draft_id).body_text == "Hi"
        screen.body.replace_all("Hi")  # the paste goes away; the next retry succeeds
        await pilot_wait_until(pilot, lambda: screen.autosave.state == "saved")
        await pilot_wait_until(pilot, lambda: screen.status.saved.startswith("saved"))
        assert stored(runtime, draft_id).body_text == "Hi"
        screen.body.move_cursor(screen.body.document.end)
        await type_text(pilot, "!")
        await pilot_wait_until(pilot, lambda: stored(runtime, draft_id).body_text == "Hi!")


async def test_a_save_that_is_already_due_when_armed_still_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    """On a loaded machine the save timer can be armed after its due time (a slow save, a late
    frame). It used to be a 0.0 s timer, which Textual's timer divides by when it starts late: the
    timer died with ZeroDivisionError and no save ran again for this draft."""
    only_explicit_saves(monkeypatch)
    runtime = seeded_runtime()
    app = make_app(runtime)
    async with app.run_test(size=WIDE) as pilot:
        screen = composer(app)
        await type_text(pilot, "typed a while ago")
        autosave = screen.autosave
        autosave.cancel()
        autosave._dirty_since = time.monotonic() - 2 * autosave.interval  # long overdue
        autosave._arm()
        await pilot_wait_until(pilot, lambda: autosave.state == "saved")
        assert stored(runtime, screen.draft_id).body_text == "typed a while ago"
