"""Lumina's AI: pure functions that propose (personalize, rewrite) and advise (score).

Nothing in this package reads the database, the settings or the keyring, and nothing writes,
enqueues or sends: the service layer passes plain inputs in and gets a `Suggestion` or a `Score`
back. See `orchestrator.py` for the flow and `grounding.py` for the no-new-facts rule.

Names are loaded on first use, so the composer's `import lumina_tui.ai.hashing` (for staleness
checks on every keystroke) does not pay for the scorer's readability library.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the type checker sees every name; at run time `__getattr__` loads it on first use
    from .engines.base import Engine as Engine
    from .engines.base import choose_engine as choose_engine
    from .errors import AIError as AIError
    from .hashing import hash_draft as hash_draft
    from .hashing import request_key as request_key
    from .models import Claim as Claim
    from .models import CompanyInput as CompanyInput
    from .models import DiffOp as DiffOp
    from .models import DraftInput as DraftInput
    from .models import EngineOutput as EngineOutput
    from .models import EngineRequest as EngineRequest
    from .models import ProspectInput as ProspectInput
    from .models import SenderProfile as SenderProfile
    from .models import SourceSignals as SourceSignals
    from .models import Suggestion as Suggestion
    from .orchestrator import clear_cache as clear_cache
    from .orchestrator import personalize as personalize
    from .orchestrator import rewrite as rewrite
    from .score_models import Score as Score
    from .scoring_api import score as score
    from .scoring_api import score_message as score_message

_EXPORTS = {
    "AIError": "errors",
    "Claim": "models",
    "CompanyInput": "models",
    "DiffOp": "models",
    "DraftInput": "models",
    "EngineOutput": "models",
    "EngineRequest": "models",
    "ProspectInput": "models",
    "Score": "score_models",
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
    "score": "scoring_api",
    "score_message": "scoring_api",
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
