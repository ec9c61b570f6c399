"""The AI as a service: read the draft and its context, call the pure orchestrator, return its result.

Everything the AI needs is read here (draft, prospect, company data, the sender's profile) and
handed to `lumina_tui.ai` as plain values, together with the engine the settings choose. The
result comes back untouched. Personalize, rewrite and score read and never write; `feedback` is the
one write (an `ai_feedback` row), and the composer calls it off its UI path.

Errors: a missing draft or bad input is a `ValidationError`/`NotFoundError` (exit 2); a draft that
changed since the caller read it is a `StaleRevisionError` (exit 2); an AI failure is an
`AIServiceError` (exit 1) whose code says which (`ai_timeout`, `ai_rate_limited`,
`ai_server_error`, `ai_unreachable`, `ai_bad_response`, `ai_truncated`, `ai_auth`, ...).
"""

from __future__ import annotations

import dataclasses
import logging
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from lumina_tui import ai as pure
from lumina_tui.ai.errors import AIError
from lumina_tui.logs import register_secret, register_url_credentials
from lumina_tui.services import readability_cache, validation
from lumina_tui.services.errors import (
    AIServiceError,
    NotFoundError,
    StaleRevisionError,
    ValidationError,
)
from lumina_tui.services.jsonable import iso

# Imported where they are used, not here: `lumina ai score --file` must not pay for SQLAlchemy,
# the settings or openai (issue 9 point 22; tests/cli/test_cli_lazy_imports.py keeps it so).
if TYPE_CHECKING:
    from lumina_tui.ai.engines.base import Engine
    from lumina_tui.config import Settings
    from lumina_tui.services.actors import Actor
    from lumina_tui.store import Database
    from lumina_tui.store.models import AIFeedback, CompanyData, EmailDraft, Prospect, UserPreferences

log = logging.getLogger(__name__)
T = TypeVar("T")

FEEDBACK_ACTIONS = ("accepted", "rejected", "edited")
FEEDBACK_KINDS = ("personalize", "rewrite")  # the suggestion's `operation`
NOTE_LIMIT = 2_000
#: Where an API key kept only in the OS keyring lives (`lumina_tui.secrets`).
KEYRING_REF = "ai:api_key"
_SUGGESTION_ID = re.compile(r"^[0-9a-f]{64}$")
#: AIError codes that are the caller's input, not an AI failure.
_INPUT_CODES = {"invalid_input": None, "unsupported_instruction": "instruction"}


# --------------------------------------------------------------------------------- inputs


class _DraftSnapshot:
    """The draft and everything around it, read in one snapshot."""

    def __init__(self, draft: EmailDraft, prospect: Prospect | None,
                 company: CompanyData | None, prefs: UserPreferences | None) -> None:
        from lumina_tui.ai.models import DraftInput
        from lumina_tui.services import ai_inputs

        self.draft = draft
        self.draft_input = DraftInput(
            subject=draft.subject, body=draft.body_text, prospect_id=draft.prospect_id
        )
        self.prospect = ai_inputs.prospect_input(prospect)
        self.company = ai_inputs.company_input(company)
        self.sender = ai_inputs.sender_profile(prefs)


def _load(db: Database, actor: Actor, draft_id: str, revision: int | None) -> _DraftSnapshot:
    from sqlmodel import select

    from lumina_tui.services import company_data
    from lumina_tui.store.models import EmailDraft, Prospect, UserPreferences

    draft_id = validation.uuid_text(draft_id, "draft_id")
    if revision is not None:
        revision = validation.revision_number(revision)
    with db.read() as session:
        draft = session.get(EmailDraft, draft_id)
        if draft is None or draft.workspace_id != actor.workspace_id:
            raise NotFoundError(f"draft {draft_id} not found", field="draft_id")
        if revision is not None and revision != draft.revision:
            raise StaleRevisionError(
                f"revision: the request names revision {revision} but the draft is at "
                f"{draft.revision}; ask again about the current text",
                field="revision",
                stored_revision=draft.revision,
            )
        prospect = session.get(Prospect, draft.prospect_id) if draft.prospect_id else None
        if prospect is not None and prospect.workspace_id != actor.workspace_id:
            prospect = None
        company = company_data.find_for_prospect(session, actor, prospect) if prospect else None
        prefs = session.execute(
            select(UserPreferences).where(
                UserPreferences.user_id == actor.user_id,
                UserPreferences.workspace_id == actor.workspace_id,
            )
        ).scalar_one_or_none()
    return _DraftSnapshot(draft, prospect, company, prefs)


# --------------------------------------------------------------------------------- engine


def _keyring_key() -> str | None:
    """A key kept only in the OS keyring; a keyring that cannot be read is not an error here."""
    try:
        from lumina_tui import secrets
    except ImportError:
        return None
    try:
        return secrets.get_secret(KEYRING_REF)
    except Exception as exc:  # no usable keyring: the settings and environment were the answer
        log.info("AI key not read from the keyring: %s", exc)
        return None


def engine_for(settings: Settings) -> Engine:
    """The engine the settings ask for (key: settings, then OPENAI_API_KEY, then the keyring)."""
    key = settings.resolved_ai_api_key()
    if key is None and settings.ai_engine != "offline":
        key = _keyring_key()
    # So that an AI error quoting the URL or the key can never print or store them.
    register_secret(key)
    register_url_credentials(settings.ai_base_url)
    return _guard(lambda: pure.choose_engine(
        settings.ai_engine,
        base_url=settings.ai_base_url,
        api_key=key,
        model=settings.ai_model,
        timeout=settings.ai_timeout_seconds,
        rate_limit=settings.ai_requests_per_minute,
        response_format=settings.ai_response_format,
        max_tokens=settings.ai_max_tokens,
    ))


def _guard(call: Callable[[], T]) -> T:
    """AIError -> the services' error family; the rep sees the AI's own message."""
    try:
        return call()
    except AIError as error:
        if error.code in _INPUT_CODES:
            raise ValidationError(error.message, field=_INPUT_CODES[error.code]) from error
        details: dict[str, Any] = {"retry_after": error.retry_after} if error.retry_after else {}
        failure = AIServiceError(error.message, ai_code=error.code, **details)
        failure.code = f"ai_{error.code}"
        raise failure from error


def _load_settings() -> Settings:
    from lumina_tui.config import load_settings

    return load_settings()


# ------------------------------------------------------------------------------ the verbs


def personalize(
    db: Database,
    actor: Actor,
    draft_id: str,
    tone: str | float | None = None,
    revision: int | None = None,
    *,
    settings: Settings | None = None,
) -> pure.Suggestion:
    """A suggestion that writes the draft for its prospect (tone: formal 0 .. casual 1, or the
    sender's default). `revision`: the draft revision the caller saw; another one is an error."""
    tone_value = validation.tone(tone)
    context = _load(db, actor, draft_id, revision)
    engine = engine_for(settings or _load_settings())
    return _guard(lambda: pure.personalize(
        context.draft_input, context.prospect, context.company, context.sender,
        tone=tone_value, engine=engine,
    ))


def rewrite(
    db: Database,
    actor: Actor,
    draft_id: str,
    instruction: str,
    revision: int | None = None,
    *,
    settings: Settings | None = None,
) -> pure.Suggestion:
    """A suggestion that rewrites the draft as the rep's instruction says."""
    if not isinstance(instruction, str) or not instruction.strip():
        raise ValidationError("instruction: say what to change, e.g. 'make it shorter'",
                              field="instruction")
    if len(instruction) > NOTE_LIMIT:
        raise ValidationError(f"instruction: at most {NOTE_LIMIT} characters",
                              field="instruction")
    context = _load(db, actor, draft_id, revision)
    engine = engine_for(settings or _load_settings())
    return _guard(lambda: pure.rewrite(
        context.draft_input, instruction, context.prospect, context.company, context.sender,
        engine=engine,
    ))


def score(db: Database, actor: Actor, draft_id: str) -> pure.Score:
    """Spam risk, reply probability, signals and advice for the stored draft (text and HTML)."""
    context = _load(db, actor, draft_id, None)
    readability_cache.warm()
    result = _guard(lambda: pure.score(
        context.draft_input, context.prospect, context.company, context.sender,
        html=context.draft.body_html or None,
    ))
    return _apply_calibration(db, actor, result)


def _apply_calibration(db: Database, actor: Actor, result: pure.Score) -> pure.Score:
    """The workspace's calibrated reply probability in place of the rule's, when learning found one
    that beats the rule on held-out sends (services.learning); the rule's value stays beside it."""
    from lumina_tui.services import learning

    calibration = learning.stored_calibration(db, actor.workspace_id)
    probability = learning.calibrated_probability(calibration, result.as_json())
    if probability is None or calibration is None:
        return result
    note = (
        f"Reply probability is calibrated on this workspace's {calibration['n_known']} sends with a "
        f"known result (Brier score on held-out sends {calibration['brier_calibrated']:.3f}, against "
        f"{calibration['brier_rule']:.3f} for the built-in rule's {result.reply_probability:.2f})."
    )
    advice = [
        dataclasses.replace(item, message=note) if item.signal == "reply_probability" else item
        for item in result.advice
    ]
    return dataclasses.replace(
        result,
        reply_probability=round(probability, 4),
        rule_reply_probability=result.reply_probability,
        calibrated=True,
        advice=advice,
    )


def score_message(raw: bytes | str) -> pure.Score:
    """Score a whole RFC 5322 message (headers and MIME parts included)."""
    if raw is None or not (raw.strip() if isinstance(raw, bytes | str) else True):
        raise ValidationError("message: the message is empty", field="message")
    from lumina_tui.ai.mime_reader import limit_problem

    problem = limit_problem(raw.encode("utf-8", errors="replace") if isinstance(raw, str) else raw)
    if problem is not None:
        raise ValidationError(f"message: {problem}", field="message")
    readability_cache.warm()
    return _guard(lambda: pure.score_message(raw))


def feedback(
    db: Database,
    actor: Actor,
    suggestion_id: str,
    action: str,
    note: str | None = None,
    *,
    draft_id: str | None = None,
    tone: float | None = None,
    kind: str | None = None,
) -> AIFeedback:
    """Record what the rep did with a suggestion (accepted, rejected, edited): the only AI write.

    `tone` and `kind` are the suggestion's own (`Suggestion.tone`, `Suggestion.operation`): the
    learning consumer learns the rep's default tone and preferred kinds from them.
    """
    suggestion_id = (suggestion_id or "").strip().lower()
    if not _SUGGESTION_ID.match(suggestion_id):
        raise ValidationError(f"suggestion_id: {suggestion_id!r} is not a suggestion id",
                              field="suggestion_id")
    action = (action or "").strip().lower()
    if action not in FEEDBACK_ACTIONS:
        raise ValidationError(f"action: use {', '.join(FEEDBACK_ACTIONS)}", field="action")
    if note is not None:
        note = note.strip() or None
        if note and len(note) > NOTE_LIMIT:
            raise ValidationError(f"note: at most {NOTE_LIMIT} characters", field="note")
    if draft_id is not None:
        draft_id = validation.uuid_text(draft_id, "draft_id")
    if tone is not None:
        if isinstance(tone, bool) or not isinstance(tone, int | float) or not 0.0 <= float(tone) <= 1.0:
            raise ValidationError("tone: a number from 0.0 (formal) to 1.0 (casual)", field="tone")
        tone = round(float(tone), 2)
    if kind is not None:
        kind = kind.strip().lower()
        if kind not in FEEDBACK_KINDS:
            raise ValidationError(f"kind: use {', '.join(FEEDBACK_KINDS)}", field="kind")
    from lumina_tui.store import new_id, utcnow
    from lumina_tui.store.models import AIFeedback

    row = AIFeedback(
        id=new_id(), workspace_id=actor.workspace_id, user_id=actor.user_id,
        suggestion_id=suggestion_id, draft_id=draft_id, action=action, note=note,
        created_at=utcnow(), tone=tone, kind=kind,
    )
    with db.write() as session:
        if draft_id is not None:
            from lumina_tui.store.models import EmailDraft

            # Another workspace's draft is not named in this one's log (a deleted draft of our own
            # still is: the feedback may arrive after it went).
            draft = session.get(EmailDraft, draft_id)
            if draft is not None and draft.workspace_id != actor.workspace_id:
                raise NotFoundError(f"draft {draft_id} not found", field="draft_id")
        session.add(row)
    return row


# --------------------------------------------------------------------------------- as JSON


def suggestion_json(suggestion: pure.Suggestion) -> dict[str, Any]:
    return suggestion.model_dump(mode="json")


def score_json(result: pure.Score) -> dict[str, Any]:
    return result.as_json()


def feedback_json(row: AIFeedback) -> dict[str, Any]:
    return {
        "id": row.id,
        "suggestion_id": row.suggestion_id,
        "draft_id": row.draft_id,
        "action": row.action,
        "note": row.note,
        "tone": row.tone,
        "kind": row.kind,
        "created_at": iso(row.created_at),
    }
