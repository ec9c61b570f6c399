"""Lumina's AI: pure functions that propose (personalize, rewrite) and advise (score).

Nothing in this package reads the database, the settings or the keyring, and nothing writes,
enqueues or sends: the service layer passes plain inputs in and gets a `Suggestion` or a `Score`
back. See `orchestrator.py` for the flow and `grounding.py` for the no-new-facts rule.
"""

from .engines.base import Engine, choose_engine
from .errors import AIError
from .hashing import hash_draft, request_key
from .models import (
    Claim,
    CompanyInput,
    DiffOp,
    DraftInput,
    EngineOutput,
    EngineRequest,
    ProspectInput,
    Score,
    SenderProfile,
    SourceSignals,
    Suggestion,
)
from .orchestrator import clear_cache, personalize, rewrite, score, score_message
from .tone import parse_tone

__all__ = [
    "AIError",
    "Claim",
    "CompanyInput",
    "DiffOp",
    "DraftInput",
    "Engine",
    "EngineOutput",
    "EngineRequest",
    "ProspectInput",
    "Score",
    "SenderProfile",
    "SourceSignals",
    "Suggestion",
    "choose_engine",
    "clear_cache",
    "hash_draft",
    "parse_tone",
    "personalize",
    "request_key",
    "rewrite",
    "score",
    "score_message",
]
