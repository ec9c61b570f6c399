"""Typed inputs and outputs of the AI package.

The service layer builds the inputs from database rows; the orchestrator never sees a row, a session
or a setting, which is what keeps it a pure function. Inputs are frozen so a request cannot change
between the moment it is hashed (cache key) and the moment an engine reads it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

# The score's types are plain dataclasses (score_models.py says why); re-exported under their names.
from .score_models import Advice as Advice
from .score_models import Score as Score
from .score_models import ScoreSignals as ScoreSignals
from .score_models import SpamRuleHit as SpamRuleHit

Operation = Literal["personalize", "rewrite"]
ClaimKind = Literal[
    "number", "money", "percent", "date", "time", "url", "email", "title", "entity", "injection"
]
#: Kinds that are facts a reader could check and be misled by; one unsupported caps confidence.
#: A "title" is a role or honorific the inputs do not give the person ("SVP" for a VP, "Dr.").
HARD_FACT_KINDS: frozenset[str] = frozenset(
    {"number", "money", "percent", "date", "time", "url", "email", "title", "injection"}
)


def _text(value: Any) -> str:
    """Missing values arrive as None from the database; the AI treats them as empty text."""
    if value is None:
        return ""
    return str(value).strip()


def _flat_fields(value: Any) -> dict[str, str]:
    """Custom fields and company metadata are free-form JSON; keep scalar text, drop the rest."""
    if not value:
        return {}
    if not isinstance(value, Mapping):
        raise TypeError("expected a mapping of field name to value")
    flat: dict[str, str] = {}
    for key, item in value.items():
        if item is None or isinstance(item, Mapping):
            continue
        if isinstance(item, list | tuple):
            text = ", ".join(_text(part) for part in item if _text(part))
        else:
            text = _text(item)
        if text:
            flat[str(key)] = text
    return flat


class _Model(BaseModel):
    """Every model here builds its validator on first use, not at import: `lumina ai score`
    starts a process per message and uses a third of these models (issue 9 point 22)."""

    model_config = ConfigDict(defer_build=True)


class _Input(_Model):
    model_config = ConfigDict(frozen=True, extra="ignore")


class DraftInput(_Input):
    """What the rep typed. `prospect_id` only feeds `hash_draft` (staleness), never the prompt."""

    subject: str = ""
    body: str = ""
    prospect_id: str | None = None

    @field_validator("subject", "body", mode="before")
    @classmethod
    def _none_is_empty(cls, value: Any) -> str:
        return "" if value is None else str(value)


class ProspectInput(_Input):
    """The person the email is for. Every value here is data, never an instruction."""

    id: str | None = None
    first_name: str = ""
    last_name: str = ""
    email: str = ""
    company: str = ""
    job_title: str = ""
    custom_fields: dict[str, str] = Field(default_factory=dict)

    @field_validator("first_name", "last_name", "email", "company", "job_title", mode="before")
    @classmethod
    def _clean(cls, value: Any) -> str:
        return _text(value)

    @field_validator("custom_fields", mode="before")
    @classmethod
    def _flatten(cls, value: Any) -> dict[str, str]:
        return _flat_fields(value)


class CompanyInput(_Input):
    """The prospect's company as Lumina knows it (company_data row)."""

    name: str = ""
    domain: str = ""
    industry: str = ""
    size: str = ""
    location: str = ""
    metadata: dict[str, str] = Field(default_factory=dict)

    @field_validator("name", "domain", "industry", "size", "location", mode="before")
    @classmethod
    def _clean(cls, value: Any) -> str:
        return _text(value)

    @field_validator("metadata", mode="before")
    @classmethod
    def _flatten(cls, value: Any) -> dict[str, str]:
        return _flat_fields(value)


class SenderProfile(_Input):
    """Who is writing and what they may claim: their proof points are a source of facts."""

    sender_name: str = ""
    sender_title: str = ""
    company_name: str = ""
    company_website: str = ""
    value_proposition: str = ""
    proof_points: tuple[str, ...] = ()
    signature: str = ""
    default_tone: float = 0.5
    banned_phrases: tuple[str, ...] = ()

    @field_validator(
        "sender_name", "sender_title", "company_name", "company_website", "value_proposition",
        mode="before",
    )
    @classmethod
    def _clean(cls, value: Any) -> str:
        return _text(value)

    @field_validator("signature", mode="before")
    @classmethod
    def _signature(cls, value: Any) -> str:
        return "" if value is None else str(value).strip("\n")

    @field_validator("proof_points", "banned_phrases", mode="before")
    @classmethod
    def _phrases(cls, value: Any) -> tuple[str, ...]:
        if not value:
            return ()
        if isinstance(value, str):
            value = value.splitlines()
        return tuple(_text(item) for item in value if _text(item))

    @field_validator("default_tone", mode="before")
    @classmethod
    def _tone(cls, value: Any) -> float:
        return 0.5 if value is None else max(0.0, min(1.0, float(value)))


class EngineRequest(_Input):
    """Everything an engine may use. Nothing outside this object may end up in a suggestion."""

    operation: Operation
    draft: DraftInput
    prospect: ProspectInput = Field(default_factory=ProspectInput)
    company: CompanyInput = Field(default_factory=CompanyInput)
    sender: SenderProfile = Field(default_factory=SenderProfile)
    tone: float = 0.5
    instruction: str | None = None


class EngineOutput(_Input):
    """What an engine proposes: the whole new subject (None keeps the draft's) and body.

    An engine also says what it could not do, so the rep is told and the confidence drops:
    `unfilled_fields` are template fields with no value (written as a stand-in such as "your area",
    or left as `{{field}}`), `not_applied` the parts of a rewrite instruction it did not follow,
    and `notes` says both in the rep's words.
    """

    subject: str | None = None
    body: str
    notes: tuple[str, ...] = ()
    unfilled_fields: tuple[str, ...] = ()
    not_applied: tuple[str, ...] = ()


# ---------------------------------------------------------------------------------------- outputs


class DiffOp(_Model):
    """One word-level change; offsets are character positions in the old and the new body."""

    type: Literal["insert", "delete", "replace"]
    old: str
    new: str
    old_start: int
    old_end: int
    new_start: int
    new_end: int


class Claim(_Model):
    """A fact in the suggestion that none of the inputs supports; offsets point into the body."""

    text: str
    kind: ClaimKind
    start: int
    end: int
    field: Literal["subject", "body"] = "body"


class SourceSignals(_Model):
    """How well the suggestion uses the prospect, the company and the requested tone (0..1)."""

    prospect_match: float
    company_match: float
    tone_match: float


class SuggestionContent(_Model):
    subject: str | None = None
    body: str | None = None
    diff: list[DiffOp] = Field(default_factory=list)


class Suggestion(_Model):
    """What the composer shows in the glow panel. Nothing here is applied until the rep accepts."""

    model_config = ConfigDict(frozen=True)

    suggestion_id: str
    operation: Operation
    suggestion: SuggestionContent
    confidence: float
    source_signals: SourceSignals
    unsupported_claims: list[Claim]
    timestamp: str
    input_hash: str
    engine: str
    model: str
    tone: float
    instruction: str | None = None
    #: What the suggestion did not do, in the rep's words ("No value for {{erp}}: …").
    notes: list[str] = Field(default_factory=list)
    #: Template fields the suggestion could not fill from the inputs.
    unfilled_fields: list[str] = Field(default_factory=list)
    #: Parts of the rewrite instruction that were not followed.
    not_applied: list[str] = Field(default_factory=list)
