"""Fixtures for the AI tests: realistic inputs, a clean AI state per test, a local OpenAI server."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fake_openai_server import FakeOpenAI

from lumina_tui.ai.engines import openai_engine
from lumina_tui.ai.models import CompanyInput, DraftInput, ProspectInput, SenderProfile
from lumina_tui.ai.orchestrator import clear_cache
from lumina_tui.ai.ratelimit import reset_limiters

DATA = Path(__file__).parent / "data"


@pytest.fixture(autouse=True)
def fresh_ai_state() -> Iterator[None]:
    """Each test starts with an empty suggestion cache, no rate-limit history, no SDK clients."""
    clear_cache()
    reset_limiters()
    openai_engine.reset_shared_state()
    yield
    clear_cache()
    reset_limiters()
    openai_engine.reset_shared_state()


@pytest.fixture(scope="session")
def grounding_table() -> dict[str, Any]:
    return json.loads((DATA / "grounding_cases.json").read_text(encoding="utf-8"))


@pytest.fixture
def context(grounding_table: dict[str, Any]) -> dict[str, Any]:
    """The shared realistic context: a draft template, Dana at Northwind, Jordan at Lumina."""
    return json.loads(json.dumps(grounding_table["context"]))


@pytest.fixture
def draft(context: dict[str, Any]) -> DraftInput:
    return DraftInput(**context["draft"])


@pytest.fixture
def prospect(context: dict[str, Any]) -> ProspectInput:
    return ProspectInput(**context["prospect"])


@pytest.fixture
def company(context: dict[str, Any]) -> CompanyInput:
    return CompanyInput(**context["company"])


@pytest.fixture
def sender(context: dict[str, Any]) -> SenderProfile:
    return SenderProfile(**context["sender"])


@pytest.fixture
def ai_server() -> Iterator[FakeOpenAI]:
    server = FakeOpenAI().start()
    yield server
    server.stop()
