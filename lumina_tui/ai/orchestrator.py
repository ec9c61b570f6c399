"""The AI as a pure function: inputs in, a `Suggestion` or a `Score` out.

Nothing here writes, enqueues or sends. The service layer reads the draft, prospect, company and
sender profile, hands them over as plain values together with the engine it chose, and returns
what comes back untouched. Every suggestion, whatever engine made it, goes through the same
post-processing: grounding (unsupported facts listed), source signals and Lumina's own confidence,
a word diff against the draft, the draft's `input_hash` and the request's `suggestion_id`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from .cache import SuggestionCache
from .diff import word_diff
from .engines.base import Engine
from .errors import AIError
from .grounding import Sources, build_sources, check_output
from .hashing import hash_draft, request_key
from .instructions import parse_instruction
from .models import (
    CompanyInput,
    DraftInput,
    EngineOutput,
    EngineRequest,
    Operation,
    ProspectInput,
    SenderProfile,
    Suggestion,
    SuggestionContent,
)
from .placeholders import PLACEHOLDER
from .prompt import PROMPT_VERSION
from .scoring_api import coerce as _coerce
from .scoring_api import score as score
from .scoring_api import score_message as score_message
from .signals import banned_phrases_in, confidence, source_signals
from .tone import measure_tone

log = logging.getLogger(__name__)

_cache: SuggestionCache[Suggestion] = SuggestionCache(maxsize=256)


def suggestion_cache() -> SuggestionCache[Suggestion]:
    """The process-wide cache (exposed for tests and for `clear_cache`)."""
    return _cache


def clear_cache() -> None:
    _cache.clear()


def _default_engine() -> Engine:
    from .engines.offline_engine import OfflineEngine

    return OfflineEngine()


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _rewrite_tone(instruction: str, body: str) -> float:
    """The tone a rewrite aims for: what the instruction asks, else the draft's own."""
    intents = parse_instruction(instruction)
    if "formal" in intents:
        return 0.15
    if "casual" in intents:
        return 0.85
    if "friendly" in intents:
        return 0.75
    return measure_tone(body)


#: A suggestion that wrote a stand-in for a missing field ("your area") or skipped part of the
#: instruction is at most this confident; one that still holds a `{{field}}` to fill, at most the
#: second (it cannot be sent as it is).
PARTIAL_CAP = 0.6
UNFILLED_PLACEHOLDER_CAP = 0.35
#: A personalize with neither a prospect nor company facts to use had nothing to personalize from:
#: only its tone could be checked, so a perfect tone match must not read as a confident suggestion.
UNGROUNDED_CAP = 0.5
UNGROUNDED_NOTE = (
    "Nothing to personalize from (no prospect or company details): only the tone was adjusted. "
    "Choose a prospect for a personal version."
)


def _grounding_cap(
    request: EngineRequest, applicable: Mapping[str, float | None]
) -> tuple[float, str | None]:
    """The cap (and the note saying why) for what the suggestion could be checked against."""
    if request.operation == "personalize" and applicable.get("prospect") is None and (
        applicable.get("company") is None
    ):
        return UNGROUNDED_CAP, UNGROUNDED_NOTE
    return 1.0, None


def _shortfalls(request: EngineRequest, output: EngineOutput) -> tuple[list[str], list[str], float]:
    """What the suggestion did not do (notes, unfilled fields) and the confidence cap that follows.

    Engine-agnostic: a personalized suggestion that still holds `{{field}}` is reported whichever
    engine wrote it. (A rewrite keeps the rep's template fields on purpose.)
    """
    notes = list(output.notes)
    unfilled = list(dict.fromkeys(output.unfilled_fields))
    cap = PARTIAL_CAP if unfilled or output.not_applied else 1.0
    if request.operation == "personalize":
        left = [m.group(0) for m in PLACEHOLDER.finditer(f"{output.subject or ''}\n{output.body}")]
        if left:
            cap = UNFILLED_PLACEHOLDER_CAP
            unseen = [field for field in dict.fromkeys(left) if not any(field in note for note in notes)]
            if unseen:
                notes.append(
                    f"Still to fill: {', '.join(unseen)} (no value for this prospect); "
                    "a send refuses it until you do."
                )
            for field in left:
                match = PLACEHOLDER.fullmatch(field)
                name = match["key"].strip() if match else field
                if name not in unfilled:
                    unfilled.append(name)
    return notes, unfilled, cap


def _build(request: EngineRequest, output: EngineOutput, key: str, engine: Engine,
           sources: Sources | None = None) -> Suggestion:
    draft = request.draft
    subject_for_signals = output.subject if output.subject is not None else draft.subject
    claims = check_output(output, request, sources)
    signals, applicable = source_signals(
        f"{subject_for_signals}\n{output.body}", request.prospect, request.company, request.tone,
        tone_text=output.body,
    )
    banned = banned_phrases_in(f"{output.subject or ''}\n{output.body}",
                               request.sender.banned_phrases)
    notes, unfilled, cap = _shortfalls(request, output)
    grounding_cap, grounding_note = _grounding_cap(request, applicable)
    if grounding_note:
        notes.append(grounding_note)
    cap = min(cap, grounding_cap)
    return Suggestion(
        suggestion_id=key,
        operation=request.operation,
        suggestion=SuggestionContent(
            subject=output.subject,
            body=output.body,
            diff=word_diff(draft.body, output.body),
        ),
        confidence=min(confidence(applicable, claims, len(banned)), cap),
        source_signals=signals,
        unsupported_claims=claims,
        timestamp=_now(),
        input_hash=hash_draft(draft.subject, draft.body, draft.prospect_id or request.prospect.id),
        engine=engine.name,
        model=engine.model,
        tone=round(request.tone, 3),
        instruction=request.instruction,
        notes=notes,
        unfilled_fields=unfilled,
        not_applied=list(output.not_applied),
    )


def _generate(engine: Engine, request: EngineRequest) -> tuple[EngineOutput, Sources | None]:
    """The engine's output, and the grounding sources when they could be built while a remote
    model was working (they depend on the inputs only): the wait for the server is dead time,
    and reading the draft's facts is most of the grounding check."""
    overlapping = getattr(engine, "generate_overlapping", None)
    if overlapping is None:
        return engine.generate(request), None
    built: list[Sources] = []
    output = overlapping(request, lambda: built.append(build_sources(request)))
    return output, (built[0] if built else None)


def _suggest(request: EngineRequest, engine: Engine, use_cache: bool) -> Suggestion:
    key = request_key(
        operation=request.operation,
        tone=request.tone,
        instruction=request.instruction,
        inputs={
            "draft": request.draft,
            "prospect": request.prospect,
            "company": request.company,
            "sender": request.sender,
        },
        engine=engine.name,
        model=engine.model,
        prompt_version=PROMPT_VERSION,
    )

    def compute() -> Suggestion:
        try:
            output, sources = _generate(engine, request)
            return _build(request, output, key, engine, sources)
        except AIError:
            raise
        except Exception as exc:  # a bug must still reach the rep as one clear error
            log.exception("%s suggestion failed", engine.name)
            raise AIError(
                "bad_response",
                f"The {engine.name} engine failed unexpectedly ({type(exc).__name__}); your "
                "draft is unchanged.",
                engine=engine.name,
            ) from exc

    return _cache.get_or_compute(key, compute) if use_cache else compute()


def _request(
    operation: Operation,
    draft: DraftInput | Mapping[str, Any],
    prospect: ProspectInput | Mapping[str, Any] | None,
    company: CompanyInput | Mapping[str, Any] | None,
    sender: SenderProfile | Mapping[str, Any] | None,
    tone: float | None,
    instruction: str | None,
) -> EngineRequest:
    draft_in = _coerce(DraftInput, draft)
    sender_in = _coerce(SenderProfile, sender)
    if tone is not None and not 0.0 <= float(tone) <= 1.0:
        raise AIError("invalid_input", f"tone must be between 0 (formal) and 1 (casual), not {tone}")
    if operation == "rewrite":
        if not (instruction or "").strip():
            raise AIError("invalid_input", "A rewrite needs an instruction, e.g. 'make it shorter'.")
        if not draft_in.body.strip():
            raise AIError("invalid_input", "The draft is empty: there is nothing to rewrite yet.")
        target = float(tone) if tone is not None else _rewrite_tone(instruction or "",
                                                                     draft_in.body)
    else:
        target = float(tone) if tone is not None else sender_in.default_tone
    return EngineRequest(
        operation=operation,
        draft=draft_in,
        prospect=_coerce(ProspectInput, prospect),
        company=_coerce(CompanyInput, company),
        sender=sender_in,
        tone=target,
        instruction=(instruction or "").strip() or None,
    )


def personalize(
    draft: DraftInput | Mapping[str, Any],
    prospect: ProspectInput | Mapping[str, Any] | None = None,
    company: CompanyInput | Mapping[str, Any] | None = None,
    sender: SenderProfile | Mapping[str, Any] | None = None,
    *,
    tone: float | None = None,
    engine: Engine | None = None,
    use_cache: bool = True,
) -> Suggestion:
    """Propose a version of the draft written for this prospect, in the requested tone
    (formal 0.0 .. casual 1.0; default: the sender's default tone)."""
    request = _request("personalize", draft, prospect, company, sender, tone, None)
    return _suggest(request, engine or _default_engine(), use_cache)


def rewrite(
    draft: DraftInput | Mapping[str, Any],
    instruction: str,
    prospect: ProspectInput | Mapping[str, Any] | None = None,
    company: CompanyInput | Mapping[str, Any] | None = None,
    sender: SenderProfile | Mapping[str, Any] | None = None,
    *,
    tone: float | None = None,
    engine: Engine | None = None,
    use_cache: bool = True,
) -> Suggestion:
    """Propose the draft rewritten as the rep's instruction says ("shorter", "more formal"...)."""
    request = _request("rewrite", draft, prospect, company, sender, tone, instruction)
    return _suggest(request, engine or _default_engine(), use_cache)
