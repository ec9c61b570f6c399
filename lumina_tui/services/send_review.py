"""The send review: everything a rep should see before one keystroke sends a draft.

`build_review` reads the draft, its recipient, the From account, the score and the send history, and
returns a plain `SendReview`. Warnings inform (an empty subject, high spam risk, "attached" with
nothing attached, a recent email to the same person, unsupported claims the composer passes in);
blockers stop the send and say why (leftover `{{fields}}`, no From account, no recipient, a
do-not-contact address, an already sent draft). The idempotency key is made here, once, when the
review opens: the composer reuses it for every retry of this send, so a double Enter or a retry
after a timeout can never send twice.

It reads the store and may score the draft, so callers run it off the UI's event loop.
"""

from __future__ import annotations

import importlib.util
import logging
import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from lumina_tui.config import Settings
from lumina_tui.providers.headers import header_value_problem
from lumina_tui.providers.maildir import LABEL as MAILDIR_LABEL
from lumina_tui.services import accounts, drafts, outbox, suppressions, templates
from lumina_tui.services import prospects as prospect_service
from lumina_tui.services.actors import Actor
from lumina_tui.services.errors import LuminaError
from lumina_tui.store import Database, utcnow

log = logging.getLogger(__name__)

PREVIEW_LINES = 3
PREVIEW_CHARS = 240
HIGH_SPAM_RISK = 0.5
RECENT_DAYS = 30
_ATTACHMENT_WORD = re.compile(r"\b(attach(?:ed|ments?|ing)?)\b", re.IGNORECASE)
# How each provider is named after the From address; the Maildir says plainly that nothing leaves.
PROVIDER_NAMES = {"smtp": "SMTP", "gmail": "Gmail", "outlook": "Outlook"}


@dataclass(slots=True)
class SendReview:
    """What the review shows, and the idempotency key the send must use."""

    draft_id: str
    revision: int
    idempotency_key: str
    account_id: str | None
    from_label: str
    to_email: str
    to_label: str
    subject: str
    preview: str
    body: str = ""  # the exact text that goes out (the review shows all of it, blank lines kept)
    spam_risk: float | None = None
    reply_probability: float | None = None
    warnings: list[str] = field(default_factory=list)
    blockers: list[str] = field(default_factory=list)
    score_note: str | None = None  # why there is no score, when there is none

    @property
    def can_send(self) -> bool:
        return not self.blockers


def build_review(
    db: Database,
    actor: Actor,
    settings: Settings,
    draft_id: str,
    extra_warnings: Iterable[str] = (),
    *,
    score: Any | None = None,
    now: datetime | None = None,
) -> SendReview:
    """The review of the stored draft (the caller saves first, so the revision is the one it shows).

    `extra_warnings` come from the composer (unsupported claims of an accepted suggestion); `score`
    is the composer's fresh score card, when it has one, to avoid scoring twice; `now` pins the clock.
    """
    now = now or utcnow()
    draft = drafts.get(db, actor, draft_id)
    blockers: list[str] = []
    warnings: list[str] = []

    if draft.sent_at is not None:
        blockers.append("This draft was already sent; start a new one.")

    to_email, to_label, first_name = "", "", ""
    prospect = None
    if draft.prospect_id:
        try:
            prospect = prospect_service.get(db, actor, draft.prospect_id)
        except LuminaError as error:
            blockers.append(f"No recipient: {error.message}")
        else:
            to_email = prospect.email
            name = f"{prospect.first_name} {prospect.last_name}".strip()
            to_label = f"{name} <{prospect.email}>" if name else prospect.email
            first_name = prospect.first_name.strip() or name or prospect.email
    else:
        blockers.append("No recipient: pick a prospect first.")

    account_id, from_label = _from_account(db, actor, draft.account_id, blockers)

    header_problems = [
        (label, header_value_problem(value))
        for label, value in (
            ("subject", draft.subject),
            ("prospect's first name", prospect.first_name if prospect is not None else ""),
            ("prospect's last name", prospect.last_name if prospect is not None else ""),
        )
    ]
    for label, problem in header_problems:
        if problem is not None:
            blockers.append(f"The {label} contains {problem}, which an email header cannot carry; remove it.")

    leftovers = templates.leftover_fields(draft.subject, draft.body_text)
    if leftovers:
        names = ", ".join(leftovers)
        blockers.append(f"Fill in {names} before sending: the template left them unfilled.")

    if to_email:
        with db.read() as session:
            suppressed = suppressions.is_suppressed(session, actor.workspace_id, to_email)
        if suppressed is not None:
            blockers.append(f"{to_email} is on the do-not-contact list ({suppressed.value}).")

    if not draft.subject.strip():
        warnings.append("The subject is empty.")
    if prospect is not None:
        warnings.extend(field_warnings(db, actor, prospect, f"{draft.subject}\n{draft.body_text}"))
    warnings.extend(text for text in extra_warnings if text)
    attachment = _ATTACHMENT_WORD.search(f"{draft.subject}\n{draft.body_text}")
    if attachment:
        warnings.append(
            f'The email says "{attachment.group(1)}", but nothing is attached (Lumina sends no attachments).'
        )

    spam_risk, reply_probability, score_note = _score(db, actor, draft.id, score)
    if spam_risk is not None and spam_risk >= HIGH_SPAM_RISK:
        warnings.append(f"High spam risk ({spam_risk:.2f}): see the score card's advice before sending.")

    if to_email:
        recent = _recent_email_note(db, actor, to_email, first_name, now)
        if recent:
            warnings.append(recent)

    return SendReview(
        draft_id=draft.id,
        revision=draft.revision,
        idempotency_key=str(uuid.uuid4()),
        account_id=account_id,
        from_label=from_label,
        to_email=to_email,
        to_label=to_label,
        subject=draft.subject,
        preview=preview_of(draft.body_text),
        body=draft.body_text,
        spam_risk=spam_risk,
        reply_probability=reply_probability,
        warnings=warnings,
        blockers=blockers,
        score_note=score_note,
    )


def _field_texts(prospect: Any, company: Any) -> list[tuple[str, str]]:
    """(label, value) of every prospect and company field whose text a template can copy."""
    fields = [
        ("first name", prospect.first_name),
        ("last name", prospect.last_name),
        ("company", prospect.company),
        ("job title", prospect.job_title),
    ]
    fields += [(str(key), str(value)) for key, value in (prospect.custom_fields or {}).items()]
    if company is not None:
        fields += [("company name", company.name), ("industry", company.industry),
                   ("company size", company.size), ("location", company.location)]
        fields += [(f"company {key}", str(value)) for key, value in (company.extra or {}).items()]
    return [(label, value) for label, value in fields if value and len(value.strip()) >= 3]


def field_warnings(db: Database, actor: Actor, prospect: Any, email_text: str) -> list[str]:
    """Prospect or company text inside the email that carries a link, payment instructions or an
    instruction: the same scrutiny AI output gets (`ai.data_risks`), for text a template copied."""
    from lumina_tui.ai.data_risks import data_risks
    from lumina_tui.services import company_data

    try:
        company = company_data.for_prospect(db, actor, prospect)
    except LuminaError:
        company = None
    warnings = []
    for label, value in _field_texts(prospect, company):
        if value.strip() not in email_text:
            continue  # only what reaches the recipient
        risks = data_risks(value)
        if risks:
            warnings.append(
                f'Text from the prospect\'s "{label}" field is in the email and carries '
                f"{' and '.join(risks)}: it came from your data, not from you; check it before sending."
            )
    return warnings


def preview_of(body: str) -> str:
    """The first non-blank lines of the body, cut to fit a few lines of a dialog."""
    lines = [line.strip() for line in body.replace("\r\n", "\n").split("\n") if line.strip()]
    text = "\n".join(lines[:PREVIEW_LINES])
    if len(text) > PREVIEW_CHARS:
        text = text[: PREVIEW_CHARS - 1].rstrip() + "…"
    elif len(lines) > PREVIEW_LINES:
        text += " …"
    return text


def from_label(email: str, provider: str) -> str:
    if provider == "maildir":
        return f"{email} ({MAILDIR_LABEL})"
    return f"{email} ({PROVIDER_NAMES.get(provider, provider)})"


def _from_account(
    db: Database, actor: Actor, account_id: str | None, blockers: list[str]
) -> tuple[str | None, str]:
    try:
        account = accounts.resolve_account(db, actor, account_id)
    except LuminaError as error:
        blockers.append(f"No From account: {error.message.removeprefix('from: ')}")
        return None, "(no account)"
    return account.id, from_label(account.email, account.provider)


def _value(obj: Any, name: str) -> Any:
    return obj.get(name) if isinstance(obj, dict) else getattr(obj, name, None)


def _score(
    db: Database, actor: Actor, draft_id: str, score: Any | None
) -> tuple[float | None, float | None, str | None]:
    """Spam risk and reply probability; a failing scorer is reported and never blocks a send."""
    if score is None:
        if importlib.util.find_spec("lumina_tui.services.ai") is None:
            return None, None, "Score unavailable: the AI service is not installed."
        from lumina_tui.services import ai

        try:
            score = ai.score(db, actor, draft_id)
        except LuminaError as error:
            return None, None, f"Score unavailable: {error.message}"
        except Exception as error:  # the scorer is advice: whatever breaks in it never stops a send
            log.warning("scoring for the send review failed", exc_info=True)
            return None, None, f"Score unavailable: {error.__class__.__name__}"
    spam = _value(score, "spam_risk")
    reply = _value(score, "reply_probability")
    return (
        None if spam is None else float(spam),
        None if reply is None else float(reply),
        None,
    )


def _recent_email_note(
    db: Database, actor: Actor, address: str, first_name: str, now: datetime
) -> str | None:
    """'You emailed Ana 6 days ago.' when an email to this address went out in the last 30 days."""
    last = outbox.last_sent_to(db, actor, address, within_days=RECENT_DAYS)
    if last is None:
        return None
    when = last if isinstance(last, datetime) else (_value(last, "sent_at") or _value(last, "created_at"))
    if when is None:
        return f"You emailed {first_name} in the last {RECENT_DAYS} days."
    days = max(0, (now.replace(tzinfo=None) - when.replace(tzinfo=None)).days)
    ago = "today" if days == 0 else "yesterday" if days == 1 else f"{days} days ago"
    return f"You emailed {first_name} {ago}."
