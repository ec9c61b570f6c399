"""The request bodies, as pydantic models: they make the OpenAPI document; services do the checking.

Unknown fields are refused (422) so a typo is never silently ignored; lengths and formats are the
services' to judge, with their messages naming the field (400).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SignIn(Body):
    email: str
    password: str
    workspace_id: str | None = Field(
        default=None, description="Needed only when the address signs in to several workspaces."
    )


class RefreshRequest(Body):
    refresh_token: str


class DraftCreate(Body):
    id: str | None = Field(default=None, description="A client-chosen UUID makes the create idempotent.")
    prospect_id: str | None = None
    template_id: str | None = None
    account_id: str | None = None
    subject: str = ""
    body: str = ""


class DraftSave(Body):
    revision: int = Field(description="The client's revision; the save rule decides (docs/invariants.md).")
    subject: str = ""
    body: str = ""
    prospect_id: str | None = None
    template_id: str | None = None
    account_id: str | None = None
    tone: float | None = None


class PersonalizeRequest(Body):
    draft_id: str
    tone: float | None = None
    revision: int | None = None


class RewriteRequest(Body):
    draft_id: str
    instruction: str
    revision: int | None = None


class ScoreRequest(Body):
    draft_id: str


class FeedbackRequest(Body):
    suggestion_id: str
    action: str = Field(description="accepted | rejected | edited")
    note: str | None = None
    draft_id: str | None = None
    tone: float | None = Field(default=None, description="The suggestion's tone (Suggestion.tone)")
    kind: str | None = Field(default=None, description="The suggestion's kind (Suggestion.operation)")


class SendRequest(Body):
    draft_id: str
    revision: int | None = None
    from_account: str | None = None
    to_email: str | None = None
    accepted_suggestion_ids: list[str] = Field(default_factory=list)


class ProspectCreate(Body):
    email: str
    first_name: str = ""
    last_name: str = ""
    company: str = ""
    job_title: str = ""
    custom_fields: dict[str, Any] = Field(default_factory=dict)


class ProspectUpdate(Body):
    email: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    company: str | None = None
    job_title: str | None = None
    custom_fields: dict[str, Any] | None = None
