"""`score` and `score_message` as the package exports them, without the suggestion machinery.

`lumina ai score --file` runs a process per message: importing the orchestrator (diff, engines,
grounding, instructions, the suggestion cache) for a score cost more than the score itself
(bench/bench_cli.py). The orchestrator re-exports these, so both names keep working.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from . import scoring
from .errors import AIError

if TYPE_CHECKING:  # pydantic only when an input needs validating: `ai score --file` has none
    from pydantic import BaseModel

    from .models import CompanyInput, DraftInput, ProspectInput, SenderProfile
    from .score_models import Score

M = TypeVar("M", bound="BaseModel")


def coerce(model: type[M], value: M | Mapping[str, Any] | None) -> M:
    """`value` as a `model`: as is, validated from a mapping, or the empty model for None."""
    if value is None:
        return model()
    if isinstance(value, model):
        return value
    if isinstance(value, Mapping):
        return model.model_validate(dict(value))
    raise AIError("invalid_input", f"expected {model.__name__} or a mapping, got "
                  f"{type(value).__name__}")


def score(
    draft: DraftInput | Mapping[str, Any],
    prospect: ProspectInput | Mapping[str, Any] | None = None,
    company: CompanyInput | Mapping[str, Any] | None = None,
    sender: SenderProfile | Mapping[str, Any] | None = None,
    *,
    html: str | None = None,
) -> Score:
    """Spam risk, reply probability, signals and advice for a draft."""
    from .models import CompanyInput, DraftInput, ProspectInput, SenderProfile

    draft_in = coerce(DraftInput, draft)
    return scoring.score(
        draft_in.subject,
        draft_in.body,
        prospect=coerce(ProspectInput, prospect) if prospect is not None else None,
        company=coerce(CompanyInput, company) if company is not None else None,
        sender=coerce(SenderProfile, sender) if sender is not None else None,
        html=html,
    )


def score_message(
    raw: bytes | str,
    prospect: ProspectInput | Mapping[str, Any] | None = None,
    company: CompanyInput | Mapping[str, Any] | None = None,
    sender: SenderProfile | Mapping[str, Any] | None = None,
) -> Score:
    """Score a whole RFC 5322 message (headers and MIME parts count)."""
    if not raw or not raw.strip():
        raise AIError("invalid_input", "The message is empty.")
    if prospect is None and company is None and sender is None:  # a message alone: no pydantic
        return scoring.score_message(raw)
    from .models import CompanyInput, ProspectInput, SenderProfile

    return scoring.score_message(
        raw,
        prospect=coerce(ProspectInput, prospect) if prospect is not None else None,
        company=coerce(CompanyInput, company) if company is not None else None,
        sender=coerce(SenderProfile, sender) if sender is not None else None,
    )
