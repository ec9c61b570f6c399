"""SQLModel tables: the one picture of what Lumina stores.

Ids are dashed UUID text (exactly as the CLI prints them), times are naive UTC datetimes, and every
row that belongs to a workspace carries `workspace_id` so services can scope each query. The schema
itself is created by `store.migrations` (plain SQL, versioned); a test keeps these classes and the
migrated schema in agreement.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from pydantic import NaiveDatetime
from sqlalchemy import JSON, Column, UniqueConstraint
from sqlmodel import Field, SQLModel


def new_id() -> str:
    return str(uuid.uuid4())


def utcnow() -> datetime:
    """Naive UTC: SQLite has no time zones, and every time we store is UTC.

    Columns are annotated `NaiveDatetime`: sqlmodel >= 0.0.50 maps a plain `datetime` to a type that
    refuses naive values, which would break every insert.
    """
    return datetime.now(UTC).replace(tzinfo=None)


def _json(default: Any = None) -> Any:
    factory = (lambda: {}) if default is None else default
    return Field(default_factory=factory, sa_column=Column(JSON, nullable=False))


class Workspace(SQLModel, table=True):
    __tablename__ = "workspaces"

    id: str = Field(default_factory=new_id, primary_key=True)
    name: str
    created_at: NaiveDatetime = Field(default_factory=utcnow)


class User(SQLModel, table=True):
    __tablename__ = "users"
    __table_args__ = (UniqueConstraint("workspace_id", "email"),)

    id: str = Field(default_factory=new_id, primary_key=True)
    workspace_id: str = Field(foreign_key="workspaces.id", index=True)
    email: str
    name: str = ""
    # Team mode (migration 0009): an argon2 hash (never the password), "owner" | "member", and when
    # `users remove` took the user out (rows stay: drafts and emails keep their author).
    password_hash: str | None = None
    role: str = "member"
    removed_at: NaiveDatetime | None = None
    created_at: NaiveDatetime = Field(default_factory=utcnow)


class RefreshToken(SQLModel, table=True):
    """A refresh token, kept only as its SHA-256; one use each (rotation), in families (reuse = theft)."""

    __tablename__ = "refresh_tokens"

    id: str = Field(default_factory=new_id, primary_key=True)
    workspace_id: str = Field(foreign_key="workspaces.id")
    user_id: str = Field(foreign_key="users.id", index=True)
    family_id: str = Field(index=True)
    token_hash: str = Field(unique=True)
    created_at: NaiveDatetime = Field(default_factory=utcnow)
    expires_at: NaiveDatetime
    used_at: NaiveDatetime | None = None
    revoked_at: NaiveDatetime | None = None


class WebhookReceipt(SQLModel, table=True):
    """A provider webhook's token or signature already accepted: the same one again is a replay."""

    __tablename__ = "webhook_receipts"

    provider: str = Field(primary_key=True)
    receipt_id: str = Field(primary_key=True)
    received_at: NaiveDatetime = Field(default_factory=utcnow, index=True)


class Prospect(SQLModel, table=True):
    __tablename__ = "prospects"
    __table_args__ = (UniqueConstraint("workspace_id", "email"),)

    id: str = Field(default_factory=new_id, primary_key=True)
    workspace_id: str = Field(foreign_key="workspaces.id", index=True)
    email: str
    first_name: str = ""
    last_name: str = ""
    company: str = ""
    job_title: str = ""
    custom_fields: dict[str, Any] = _json()
    is_demo: bool = False
    created_at: NaiveDatetime = Field(default_factory=utcnow)
    updated_at: NaiveDatetime = Field(default_factory=utcnow)


class CompanyData(SQLModel, table=True):
    __tablename__ = "company_data"
    __table_args__ = (UniqueConstraint("workspace_id", "domain"),)

    id: str = Field(default_factory=new_id, primary_key=True)
    workspace_id: str = Field(foreign_key="workspaces.id", index=True)
    domain: str
    name: str = ""
    industry: str = ""
    size: str = ""
    location: str = ""
    # `metadata` is reserved by SQLAlchemy's declarative base, so the attribute has another name.
    extra: dict[str, Any] = Field(default_factory=dict, sa_column=Column("metadata", JSON, nullable=False))
    is_demo: bool = False
    created_at: NaiveDatetime = Field(default_factory=utcnow)
    updated_at: NaiveDatetime = Field(default_factory=utcnow)


class Template(SQLModel, table=True):
    __tablename__ = "templates"
    __table_args__ = (UniqueConstraint("workspace_id", "name"),)

    id: str = Field(default_factory=new_id, primary_key=True)
    workspace_id: str = Field(foreign_key="workspaces.id", index=True)
    name: str
    subject: str = ""
    body: str = ""
    is_demo: bool = False
    created_at: NaiveDatetime = Field(default_factory=utcnow)
    updated_at: NaiveDatetime = Field(default_factory=utcnow)


class EmailDraft(SQLModel, table=True):
    __tablename__ = "email_drafts"

    id: str = Field(primary_key=True)  # chosen by the client, so saves are idempotent
    workspace_id: str = Field(foreign_key="workspaces.id", index=True)
    user_id: str = Field(foreign_key="users.id")
    prospect_id: str | None = Field(default=None, foreign_key="prospects.id", index=True)
    template_id: str | None = Field(default=None, foreign_key="templates.id")
    account_id: str | None = Field(default=None, foreign_key="accounts.id")
    subject: str = ""
    body_text: str = ""
    body_html: str = ""
    tone: float | None = None  # 0.0 formal .. 1.0 casual; None: the sender's default (migration 0006)
    revision: int = 0
    sent_at: NaiveDatetime | None = None
    email_id: str | None = None
    is_demo: bool = False
    created_at: NaiveDatetime = Field(default_factory=utcnow)
    updated_at: NaiveDatetime = Field(default_factory=utcnow)


class Account(SQLModel, table=True):
    """A provider connection. Secrets live in the keyring under `secret_ref`, never here."""

    __tablename__ = "accounts"
    __table_args__ = (UniqueConstraint("workspace_id", "name"),)

    id: str = Field(default_factory=new_id, primary_key=True)
    workspace_id: str = Field(foreign_key="workspaces.id", index=True)
    user_id: str = Field(foreign_key="users.id")
    provider: str  # maildir | smtp | gmail | outlook
    name: str
    email: str
    display_name: str = ""
    settings: dict[str, Any] = _json()
    secret_ref: str | None = None
    is_default: bool = False
    is_demo: bool = False
    # "ok", or "needs_sign_in" after the provider refused its refresh token (why: status_reason).
    status: str = "ok"
    status_reason: str | None = None
    created_at: NaiveDatetime = Field(default_factory=utcnow)
    updated_at: NaiveDatetime = Field(default_factory=utcnow)


class Email(SQLModel, table=True):
    """The immutable snapshot of one send. Only the delivery-state columns may change (triggers)."""

    __tablename__ = "emails"
    __table_args__ = (UniqueConstraint("workspace_id", "idempotency_key"),)

    id: str = Field(default_factory=new_id, primary_key=True)
    workspace_id: str = Field(foreign_key="workspaces.id", index=True)
    user_id: str = Field(foreign_key="users.id")
    draft_id: str | None = Field(default=None, index=True)
    account_id: str | None = None
    provider: str = ""
    from_email: str
    from_name: str = ""
    to_email: str = Field(index=True)
    to_name: str = ""
    cc: list[str] = _json(list)
    bcc: list[str] = _json(list)
    subject: str = ""
    body_text: str = ""
    body_html: str = ""
    template_id: str | None = None
    prospect_id: str | None = Field(default=None, index=True)
    prospect_snapshot: dict[str, Any] = _json()
    score_snapshot: dict[str, Any] = _json()
    accepted_suggestion_ids: list[str] = _json(list)
    idempotency_key: str
    request_fingerprint: str = ""
    message_id: str = ""
    send_after: NaiveDatetime = Field(default_factory=utcnow)
    created_at: NaiveDatetime = Field(default_factory=utcnow)
    # Delivery state: the only columns an UPDATE may touch.
    status: str = Field(default="PENDING_SEND", index=True)
    attempts: int = 0
    last_error: str | None = None
    next_attempt_at: NaiveDatetime | None = None
    lease_owner: str | None = None
    lease_expires_at: NaiveDatetime | None = None
    provider_message_id: str | None = None
    # Set with SENT: the provider's thread (Gmail threadId, Graph conversationId) and the Message-ID
    # the message really went out with (Gmail replaces ours; Graph assigns its own), for reply matching.
    provider_thread_id: str | None = Field(default=None, index=True)
    sent_message_id: str | None = Field(default=None, index=True)
    sent_at: NaiveDatetime | None = None
    updated_at: NaiveDatetime = Field(default_factory=utcnow)


EMAIL_MUTABLE_COLUMNS: frozenset[str] = frozenset(
    {
        "status",
        "attempts",
        "last_error",
        "next_attempt_at",
        "lease_owner",
        "lease_expires_at",
        "provider_message_id",
        "provider_thread_id",
        "sent_message_id",
        "sent_at",
        "updated_at",
    }
)


class EmailEvent(SQLModel, table=True):
    """Append-only: triggers refuse UPDATE and DELETE."""

    __tablename__ = "email_events"
    __table_args__ = (UniqueConstraint("provider", "provider_event_id"),)

    id: str = Field(default_factory=new_id, primary_key=True)
    workspace_id: str = Field(foreign_key="workspaces.id", index=True)
    email_id: str = Field(foreign_key="emails.id", index=True)
    provider: str = "lumina"
    provider_event_id: str
    event_type: str
    event_data: dict[str, Any] = _json()
    occurred_at: NaiveDatetime = Field(default_factory=utcnow)
    recorded_at: NaiveDatetime = Field(default_factory=utcnow, index=True)


class AIFeedback(SQLModel, table=True):
    __tablename__ = "ai_feedback"

    id: str = Field(default_factory=new_id, primary_key=True)
    workspace_id: str = Field(foreign_key="workspaces.id", index=True)
    user_id: str = Field(foreign_key="users.id")
    suggestion_id: str = Field(index=True)
    draft_id: str | None = None
    action: str  # accepted | rejected | edited
    note: str | None = None
    created_at: NaiveDatetime = Field(default_factory=utcnow)
    #: The suggestion's tone (0.0 formal .. 1.0 casual) and kind (personalize | rewrite): what the
    #: learning consumer learns the rep's default tone and preferred kinds from (migration 0009).
    tone: float | None = None
    kind: str | None = None


class UserPreferences(SQLModel, table=True):
    """The sender's profile (context and a fact source for the AI) and composer preferences."""

    __tablename__ = "user_preferences"

    user_id: str = Field(foreign_key="users.id", primary_key=True)
    workspace_id: str = Field(foreign_key="workspaces.id", index=True)
    sender_name: str = ""
    sender_title: str = ""
    company_name: str = ""
    company_website: str = ""
    value_proposition: str = ""
    proof_points: list[str] = _json(list)
    signature: str = ""
    default_tone: float = 0.5
    banned_phrases: list[str] = _json(list)
    default_account_id: str | None = None
    updated_at: NaiveDatetime = Field(default_factory=utcnow)


class Suppression(SQLModel, table=True):
    """Do-not-contact addresses and domains, checked at send."""

    __tablename__ = "suppressions"
    __table_args__ = (UniqueConstraint("workspace_id", "value"),)

    id: str = Field(default_factory=new_id, primary_key=True)
    workspace_id: str = Field(foreign_key="workspaces.id", index=True)
    kind: str  # address | domain
    value: str
    reason: str = ""
    created_at: NaiveDatetime = Field(default_factory=utcnow)


class ConsumerCursor(SQLModel, table=True):
    """Where an analytics consumer has read the event log to; advanced with its writes."""

    __tablename__ = "consumer_cursors"
    __table_args__ = (UniqueConstraint("workspace_id", "name"),)

    id: str = Field(default_factory=new_id, primary_key=True)
    workspace_id: str = Field(foreign_key="workspaces.id", index=True)
    name: str
    last_recorded_at: NaiveDatetime | None = None
    last_event_id: str | None = None
    updated_at: NaiveDatetime = Field(default_factory=utcnow)
    # The rowid of the last event applied (rowid order is commit order: SQLite has one writer).
    last_seq: int = 0
    # A failing consumer backs off: how many failures in a row, the last one, when to try again.
    failures: int = 0
    last_error: str | None = None
    next_try_at: NaiveDatetime | None = None


class MailboxCursor(SQLModel, table=True):
    """Where mailbox sync last read one account's mailbox (IMAP UIDVALIDITY + UID, Gmail historyId,
    Graph delta link), so each run reads only what is new. Losing it costs a full resync, never a
    duplicate: every event it leads to is keyed by the provider's own id."""

    __tablename__ = "mailbox_cursors"
    __table_args__ = (UniqueConstraint("account_id", "source"),)

    id: str = Field(default_factory=new_id, primary_key=True)
    workspace_id: str = Field(foreign_key="workspaces.id", index=True)
    account_id: str = Field(foreign_key="accounts.id", ondelete="CASCADE")
    source: str  # imap:INBOX | gmail | outlook
    cursor: dict[str, Any] = _json()
    last_synced_at: NaiveDatetime | None = None
    last_error: str | None = None
    updated_at: NaiveDatetime = Field(default_factory=utcnow)


class EmailOutcome(SQLModel, table=True):
    """One email's outcome so far, kept by the dashboard consumer (never computed from the log on read)."""

    __tablename__ = "email_outcomes"

    email_id: str = Field(primary_key=True)
    workspace_id: str = Field(foreign_key="workspaces.id", index=True)
    user_id: str | None = None
    template_id: str | None = None
    account_id: str | None = None
    sent_at: NaiveDatetime | None = None
    replied_at: NaiveDatetime | None = None
    bounced_at: NaiveDatetime | None = None
    failed_at: NaiveDatetime | None = None


class OutcomeDaily(SQLModel, table=True):
    """Sent, replied, bounced, failed per day of sending, template and account ('' for none)."""

    __tablename__ = "outcome_daily"

    workspace_id: str = Field(foreign_key="workspaces.id", primary_key=True)
    day: str = Field(primary_key=True)
    template_id: str = Field(primary_key=True)
    account_id: str = Field(primary_key=True)
    sent: int = 0
    replied: int = 0
    bounced: int = 0
    failed: int = 0
    reply_seconds_sum: float = 0.0


class TemplateOutcome(SQLModel, table=True):
    """All-time sends and replies of one template: what the Wilson ranking reads."""

    __tablename__ = "template_outcomes"

    workspace_id: str = Field(foreign_key="workspaces.id", primary_key=True)
    template_id: str = Field(primary_key=True)
    sent: int = 0
    replied: int = 0
    bounced: int = 0


class Alert(SQLModel, table=True):
    """Something the rep should see (a reply, a hard bounce, a failed send, a sign-in); read when marked."""

    __tablename__ = "alerts"
    __table_args__ = (UniqueConstraint("workspace_id", "source_key"),)

    id: str = Field(default_factory=new_id, primary_key=True)
    workspace_id: str = Field(foreign_key="workspaces.id")
    user_id: str | None = None
    kind: str  # replied | bounced | failed | needs_sign_in
    email_id: str | None = None
    account_id: str | None = None
    source_key: str  # what it came from (an event's rowid, an account's sign-in), so it is made once
    title: str
    detail: str
    created_at: NaiveDatetime = Field(default_factory=utcnow)
    read_at: NaiveDatetime | None = None


class LearnedSetting(SQLModel, table=True):
    """What the learning consumer concluded: a user's default tone, the workspace's calibration."""

    __tablename__ = "learned_settings"

    workspace_id: str = Field(foreign_key="workspaces.id", primary_key=True)
    scope: str = Field(primary_key=True)  # "user:<id>" | "calibration"
    data: dict[str, Any] = _json()
    updated_at: NaiveDatetime = Field(default_factory=utcnow)
