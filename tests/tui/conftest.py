"""Fixtures for the composer's tests: the offline engine, or a local OpenAI-protocol server.

Not autouse: the other screens' tests in this folder do not see them unless they ask. The server is
the AI tests' `FakeOpenAI` (a real HTTP server on 127.0.0.1); the composer reaches it through the
real openai client, selected with LUMINA_AI_ENGINE=openai and LUMINA_AI_BASE_URL.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from ai.fake_openai_server import FakeOpenAI
from ai_support import reset_ai_state
from snapshot_text import mismatch_text


@pytest.fixture
def offline_ai(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("LUMINA_AI_ENGINE", "offline")
    reset_ai_state()
    yield
    reset_ai_state()


@pytest.fixture
def openai_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeOpenAI]:
    server = FakeOpenAI().start()
    monkeypatch.setenv("LUMINA_AI_ENGINE", "openai")
    monkeypatch.setenv("LUMINA_AI_BASE_URL", server.base_url)
    monkeypatch.setenv("LUMINA_AI_API_KEY", "test")
    monkeypatch.setenv("LUMINA_AI_MODEL", "test-model")
    reset_ai_state()
    try:
        yield server
    finally:
        server.stop()
        reset_ai_state()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):  # type: ignore[no-untyped-def]
    """A failed snapshot test's report carries the mismatch as text (see snapshot_text.py)."""
    report = yield
    if report.when == "call" and report.failed and "snap_compare" in getattr(item, "fixturenames", ()):
        try:
            text = mismatch_text(item)
        except Exception as error:  # a diagnostic must never hide the real failure
            text = f"(could not read the snapshot comparison: {error!r})"
        if text:
            report.sections.append(("snapshot mismatch as text", text))
    return report
