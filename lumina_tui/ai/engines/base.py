"""The engine protocol and the one place that decides which engine runs.

Selection follows docs/architecture.md: the OpenAI-compatible engine when a base URL or an API key is
configured, the offline engine otherwise; the setting `offline` or `openai` forces one. A failing
engine raises `AIError`; nothing here ever falls back to another engine behind the rep's back,
because a suggestion must say truthfully which engine and model made it.
"""

from __future__ import annotations

from typing import Literal, Protocol, runtime_checkable

from ..errors import AIError
from ..models import EngineOutput, EngineRequest

EngineSetting = Literal["auto", "offline", "openai"]
DEFAULT_OPENAI_MODEL = "gpt-4o-mini"
DEFAULT_BUDGET_SECONDS = 30.0


@runtime_checkable
class Engine(Protocol):
    """Anything with a name, a model and `generate` can write suggestions."""

    name: str
    model: str

    def generate(self, request: EngineRequest) -> EngineOutput:
        """Propose a new subject/body. Raise `AIError` on failure; never return partial text."""
        ...


def choose_engine(
    engine_setting: str | None = "auto",
    *,
    base_url: str | None = None,
    api_key: str | None = None,
    model: str | None = None,
    timeout: float | None = DEFAULT_BUDGET_SECONDS,
    rate_limit: int | None = None,
    response_format: str = "auto",
    max_tokens: int | None = None,
) -> Engine:
    """Build the engine the settings ask for; `timeout` is the whole call's hard budget.

    `response_format` (auto, json_schema, json_object, text) and `max_tokens` (None: sized from
    the draft) only matter to the OpenAI-compatible engine."""
    setting = (engine_setting or "auto").strip().lower()
    if setting not in {"auto", "offline", "openai"}:
        raise AIError(
            "invalid_input",
            f"Unknown AI engine {engine_setting!r}: use auto, offline or openai.",
        )
    remote = bool(base_url) or bool(api_key)
    if setting == "offline" or (setting == "auto" and not remote):
        from .offline_engine import OfflineEngine

        return OfflineEngine()
    if not remote:
        raise AIError(
            "auth",
            "The OpenAI engine is selected but neither an API key nor a base URL is configured: "
            "set LUMINA_AI_API_KEY (or OPENAI_API_KEY) or LUMINA_AI_BASE_URL, or use "
            "LUMINA_AI_ENGINE=offline.",
            engine="openai",
        )
    from .openai_engine import OpenAIEngine

    return OpenAIEngine(
        base_url=base_url or None,
        api_key=api_key or None,
        model=model or DEFAULT_OPENAI_MODEL,
        budget_seconds=timeout if timeout and timeout > 0 else DEFAULT_BUDGET_SECONDS,
        requests_per_minute=rate_limit,
        response_format=response_format,
        max_tokens=max_tokens,
    )
