"""How service results become the CLI's JSON: ISO-8601 UTC times with `Z`, pages as items+total.

A prospect's and a draft's JSON are shaped here, from any object with their fields, so that the
ORM rows (`prospects.as_json`, `drafts.as_json`) and the plain read path's rows (`plain_reads.py`)
print the same document through one function. Nothing here imports the store.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, Protocol, TypeVar

from lumina_tui.services.email_state import EmailStatus

T = TypeVar("T")


def iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.replace(tzinfo=None).isoformat(timespec="milliseconds") + "Z"


@dataclass(slots=True)
class Page(Generic[T]):
    """One page of a list, with the total that matched (the CLI prints `{items, total}`)."""

    items: list[T] = field(default_factory=list)
    total: int = 0

    def as_json(self, item_json: Any) -> dict[str, Any]:
        return {"items": [item_json(item) for item in self.items], "total": self.total}


class ProspectFields(Protocol):
    """What a prospect's JSON is made of (a `store.models.Prospect`, or a plain read row)."""

    @property
    def id(self) -> str: ...

    @property
    def email(self) -> str: ...

    @property
    def first_name(self) -> str: ...

    @property
    def last_name(self) -> str: ...

    @property
    def company(self) -> str: ...

    @property
    def job_title(self) -> str: ...

    @property
    def custom_fields(self) -> dict[str, Any]: ...

    @property
    def created_at(self) -> datetime: ...

    @property
    def updated_at(self) -> datetime: ...


def prospect_json(prospect: ProspectFields) -> dict[str, Any]:
    return {
        "id": prospect.id,
        "email": prospect.email,
        "first_name": prospect.first_name,
        "last_name": prospect.last_name,
        "company": prospect.company,
        "job_title": prospect.job_title,
        "custom_fields": prospect.custom_fields,
        "created_at": iso(prospect.created_at),
        "updated_at": iso(prospect.updated_at),
    }


class DraftFields(Protocol):
    """What a draft's JSON is made of (a `store.models.EmailDraft`, or a plain read row)."""

    @property
    def id(self) -> str: ...

    @property
    def subject(self) -> str: ...

    @property
    def body_text(self) -> str: ...

    @property
    def body_html(self) -> str: ...

    @property
    def prospect_id(self) -> str | None: ...

    @property
    def template_id(self) -> str | None: ...

    @property
    def account_id(self) -> str | None: ...

    @property
    def revision(self) -> int: ...

    @property
    def sent_at(self) -> datetime | None: ...

    @property
    def email_id(self) -> str | None: ...

    @property
    def created_at(self) -> datetime: ...

    @property
    def updated_at(self) -> datetime: ...


# A draft's status, in the rep's words: "draft" until it is sent, then what its email became.
# A cancelled send (undo) is "cancelled", not "sent": its content lives on in an editable copy.
DRAFT = "draft"
_STATUS_BY_EMAIL: dict[str, str] = {
    EmailStatus.PENDING_SEND: "queued",
    EmailStatus.SENDING: "sending",
    EmailStatus.SENT: "sent",
    EmailStatus.FAILED: "failed",
    EmailStatus.CANCELLED: "cancelled",
    EmailStatus.BOUNCED: "bounced",
}


def draft_status(draft: DraftFields, email_status: str | None) -> str:
    """`draft`, or the status of the email the draft became (`sent` when that row is unknown)."""
    if draft.sent_at is None:
        return DRAFT
    return _STATUS_BY_EMAIL.get(email_status or "", "sent")


def draft_json(draft: DraftFields, status: str | None = None) -> dict[str, Any]:
    """The draft's JSON; `status` defaults to what the draft row alone can tell (`drafts.status_of`)."""
    return {
        "id": draft.id,
        "status": status or draft_status(draft, None),
        "subject": draft.subject,
        "body": draft.body_text,
        "body_html": draft.body_html,
        "prospect_id": draft.prospect_id,
        "template_id": draft.template_id,
        "account_id": draft.account_id,
        "revision": draft.revision,
        "sent_at": iso(draft.sent_at),
        "email_id": draft.email_id,
        "created_at": iso(draft.created_at),
        "updated_at": iso(draft.updated_at),
    }
