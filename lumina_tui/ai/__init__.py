"""Lumina's AI: pure functions that propose (personalize, rewrite) and advise (score).

Nothing in this package reads the database, the settings or the keyring, and nothing writes,
enqueues or sends: the service layer passes plain inputs in and gets a `Suggestion` or a `Score`
back. See `orchestrator.py` for the flow and `grounding.py` for the no-new-facts rule.

Names are loaded on first use, so the composer's `import lumina_tui.ai.hashing` (for staleness
checks on every keystroke) does not pay for the scorer's readability library.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "AIError": "errors",
    "Claim": "models",
    "CompanyInput": "models",
    "DiffOp": "models",
    "DraftInput": "models",
    "EngineOutput": "models",
    "EngineRequest": "models",
    "ProspectInput": "models",
    "Score": "models",
    "SenderProfile": "models",
    "SourceSignals": "models",
    "Suggestion": "models",
    "Engine": "engines.base",
    "choose_engine": "engines.base",
    "hash_draft": "hashing",
    "request_key": "hashing",
    "clear_cache": "orchestrator",
    "personalize": "orchestrator",
    "rewrite": "orchestrator",
    "score": "orchestrator",
    "score_message": "orchestrator",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
