"""Every service call the composer makes, as a job for a thread worker that returns one message.

The composer never calls a service on the event loop (docs/invariants.md: the UI thread rule). Each
function here runs in a thread worker started by `ComposeScreen.run_service`, catches what the
service raises, and returns a typed message which the worker posts to the screen; the screen hands
it to the flow that asked (`DraftSession`, `SuggestionSession`, `SendFlow`). One way back, always.
The rows are store models as the services return them (read-only here).
"""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from textual.message import Message
from textual.notifications import SeverityLevel

from lumina_tui.services.errors import LuminaError
from lumina_tui.tui.messages import error_text
from lumina_tui.tui.widgets.prospect_card import company_name, prospect_name

if TYPE_CHECKING:
    from lumina_tui.services.runtime import Runtime

log = logging.getLogger(__name__)

#: The drafts list (ctrl+o from the palette) shows this many, newest first.
DRAFTS_LISTED = 100


# ---------------------------------------------------------------------------------------- rows


@dataclass(frozen=True)
class Choices:
    """What the From and Template selectors offer, and the sender's defaults."""

    accounts: list[Any]
    templates: list[Any]
    default_account_id: str | None = None
    default_tone: float | None = None

    def default_account(self) -> str | None:
        """The sender's default account if it still exists, else the first one."""
        if self.default_account_id and any(a.id == self.default_account_id for a in self.accounts):
            return self.default_account_id
        return self.accounts[0].id if self.accounts else None

    def shown_as(self) -> tuple[list[tuple[str, str]], list[str]]:
        """What the selectors show (an account's label changes with its status, e.g. "needs sign-in"):
        two reads that compare equal need no repaint."""
        from lumina_tui.services import accounts as account_service

        return [(a.id, account_service.choice_label(a)) for a in self.accounts], [
            t.id for t in self.templates
        ]


@dataclass(frozen=True)
class Recipient:
    """A prospect and its company data (either may be None), as the card and the To line show them."""

    prospect: Any = None
    company: Any = None

    @property
    def prospect_id(self) -> str | None:
        return self.prospect.id if self.prospect is not None else None


@dataclass(frozen=True)
class DraftView:
    """A draft to show: a stored one (`draft`) or a new one (`draft` None), with its recipient.
    `frozen_as` says what became of a sent draft ("sent", or "cancelled" for a send undone)."""

    draft: Any
    recipient: Recipient
    frozen_as: str | None = None


# ---------------------------------------------------------------------------------------- messages


@dataclass
class ComposerOpened(Message):
    """The first read: the selectors' choices and the draft to open, with what went wrong as
    (text, severity) pairs to say (the composer opens all the same, on a new draft if need be)."""

    choices: Choices | None
    view: DraftView
    problems: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class ChoicesRead(Message):
    """Accounts and templates read again (back from another screen)."""

    choices: Choices


@dataclass
class DraftRead(Message):
    """A draft to open, in answer to request `request` (`error`: it could not be read; `warning`: its
    prospect could not be); `note` is said once it is shown."""

    request: int
    view: DraftView | None
    error: str | None = None
    warning: str | None = None
    note: str | None = None


@dataclass
class RecipientRead(Message):
    """The prospect chosen for draft `draft_id` (None with `error` when it could not be read)."""

    draft_id: str
    recipient: Recipient | None
    error: str | None = None


@dataclass
class TemplateFilled(Message):
    """Template `template_id` filled from draft `draft_id`'s prospect."""

    draft_id: str
    template_id: str
    filled: Any = None  # services.templates.FilledTemplate
    error: str | None = None


@dataclass
class DraftsListed(Message):
    """The drafts list: (draft id, label) pairs, newest first."""

    choices: list[tuple[str, str]] = field(default_factory=list)
    error: str | None = None


@dataclass
class DraftFlushed(Message):
    """The open draft was saved (or did not need to be) for request `request`."""

    request: int


@dataclass
class AccountChecked(Message):
    """What `accounts.test_account` said about the From account."""

    text: str
    severity: SeverityLevel


@dataclass
class Rediffed(Message):
    """A stale suggestion diffed again against `body` (for AI request `request_id`)."""

    body: str
    ops: list[Any]
    request_id: int


# ---------------------------------------------------------------------------------------- jobs


def read_choices(runtime: Runtime) -> Choices:
    """Accounts, templates and the sender's defaults (small reads). Raises LuminaError."""
    from lumina_tui.services import accounts as account_service
    from lumina_tui.services import preferences, templates

    accounts = account_service.list_accounts(runtime.db, runtime.actor)
    template_rows = templates.list_templates(runtime.db, runtime.actor)
    default_account_id: str | None = None
    default_tone: float | None = None
    with contextlib.suppress(LuminaError, TypeError, ValueError):
        prefs = preferences.get(runtime.db, runtime.actor)
        default_account_id = prefs.default_account_id
        default_tone = round(float(prefs.default_tone), 1)
    return Choices(accounts, template_rows, default_account_id, default_tone)


def read_recipient(runtime: Runtime, prospect_id: str | None) -> Recipient:
    """The prospect and its company data. Raises LuminaError."""
    from lumina_tui.services import company_data
    from lumina_tui.services import prospects as prospect_service

    if not prospect_id:
        return Recipient()
    prospect = prospect_service.get(runtime.db, runtime.actor, prospect_id)
    return Recipient(prospect, company_data.for_prospect(runtime.db, runtime.actor, prospect))


def read_view(
    runtime: Runtime, draft: Any, *, prospect_id: str | None = None
) -> tuple[DraftView, str | None]:
    """A stored draft (or a new one for `prospect_id`) with its recipient; the second item is why the
    prospect could not be read (the draft opens without it, as before)."""
    from lumina_tui.services import drafts

    pid = draft.prospect_id if draft is not None else prospect_id
    problem = None
    try:
        recipient = read_recipient(runtime, pid)
    except LuminaError as exc:
        recipient, problem = Recipient(), f"Prospect unavailable: {error_text(exc)}"
    frozen_as = None
    if draft is not None and draft.sent_at is not None:
        # A send undone in its window reads "cancelled", not "sent" (one indexed read).
        frozen_as = drafts.status_of(runtime.db, runtime.actor, draft)
    return DraftView(draft, recipient, frozen_as), problem


def open_composer(runtime: Runtime, draft_id: str | None) -> ComposerOpened:
    """The composer's first read: choices, then the draft asked for (else the latest unsent one)."""
    from lumina_tui.services import drafts

    choices: Choices | None = None
    problems: list[tuple[str, str]] = []
    try:
        choices = read_choices(runtime)
    except LuminaError as exc:
        problems.append((error_text(exc), "error"))
    draft = None
    try:
        if draft_id:
            draft = drafts.get(runtime.db, runtime.actor, draft_id)
        else:
            draft = drafts.latest_unsent(runtime.db, runtime.actor)
    except LuminaError as exc:
        problems.append((f"Could not open draft: {error_text(exc)}", "error"))
    view, problem = read_view(runtime, draft)
    if problem:
        problems.append((problem, "warning"))
    return ComposerOpened(choices, view, problems)


def refresh_choices(runtime: Runtime) -> ChoicesRead | None:
    try:
        return ChoicesRead(read_choices(runtime))
    except LuminaError as exc:
        log.info("reading the composer's choices again failed: %s", exc)
        return None


def open_draft(runtime: Runtime, request: int, draft_id: str, *, note: str | None = None) -> DraftRead:
    from lumina_tui.services import drafts

    try:
        draft = drafts.get(runtime.db, runtime.actor, draft_id)
    except LuminaError as exc:
        return DraftRead(request, None, error_text(exc))
    view, problem = read_view(runtime, draft)
    return DraftRead(request, view, warning=problem, note=note)


def new_draft_for(runtime: Runtime, request: int, prospect_id: str | None) -> DraftRead:
    view, problem = read_view(runtime, None, prospect_id=prospect_id)
    return DraftRead(request, view, warning=problem)


def choose_recipient(runtime: Runtime, draft_id: str, prospect_id: str) -> RecipientRead:
    try:
        return RecipientRead(draft_id, read_recipient(runtime, prospect_id))
    except LuminaError as exc:
        return RecipientRead(draft_id, None, f"Prospect unavailable: {error_text(exc)}")


def fill_template(
    runtime: Runtime, draft_id: str, template_id: str, prospect_id: str | None
) -> TemplateFilled:
    from lumina_tui.services import templates

    try:
        filled = templates.fill_for_prospect(runtime.db, runtime.actor, template_id, prospect_id)
    except LuminaError as exc:
        return TemplateFilled(draft_id, template_id, error=error_text(exc))
    return TemplateFilled(draft_id, template_id, filled)


def list_drafts(runtime: Runtime) -> DraftsListed:
    """Each draft with what became of it: a send undone in its window reads "cancelled" (its
    editable copy is listed beside it), never "sent"."""
    from lumina_tui.services import drafts

    try:
        page = drafts.list_overview(runtime.db, runtime.actor, include_sent=True, limit=DRAFTS_LISTED)
    except LuminaError as exc:
        return DraftsListed(error=error_text(exc))
    choices = []
    for row in page.items:
        draft = row.draft
        empty = not (draft.subject.strip() or draft.body_text.strip() or draft.prospect_id)
        if empty and not draft.sent_at:
            continue  # an empty draft (stored by an older version) is nothing to open
        state = f"rev {draft.revision}" if row.status == drafts.DRAFT else row.status
        when = draft.updated_at.strftime("%Y-%m-%d %H:%M")
        label = f"{draft.subject or '(no subject)'} — {row.prospect or 'no prospect'} · {when} · {state}"
        choices.append((draft.id, label))
    return DraftsListed(choices)


@dataclass(frozen=True)
class Duplicate:
    """The open draft as it is on screen, to copy for another prospect."""

    subject: str
    body: str
    recipient: Recipient
    template_id: str | None
    account_id: str | None


def duplicate_for(runtime: Runtime, request: int, source: Duplicate, prospect_id: str) -> DraftRead:
    """A new stored draft for `prospect_id` with the source's names swapped for the new prospect's."""
    from lumina_tui.services import drafts

    try:
        target = read_recipient(runtime, prospect_id)
        old = source.recipient
        subject = retarget(source.subject, old.prospect, old.company, target.prospect, target.company)
        body = retarget(source.body, old.prospect, old.company, target.prospect, target.company)
        draft = drafts.create(
            runtime.db,
            runtime.actor,
            prospect_id=prospect_id,
            subject=subject,
            body=body,
            template_id=source.template_id,
            account_id=source.account_id,
        )
    except LuminaError as exc:
        return DraftRead(request, None, error_text(exc))
    view, problem = read_view(runtime, draft)
    return DraftRead(request, view, warning=problem, note=f"Duplicated for {prospect_name(target.prospect)}.")


def check_account(runtime: Runtime, ref: str | None) -> AccountChecked:
    """Sign-in and connection of the From account, without sending."""
    from lumina_tui.services import accounts as account_service

    try:
        result = account_service.test_account(runtime.db, runtime.actor, ref, runtime.settings)
    except LuminaError as exc:
        return AccountChecked(error_text(exc), "error")
    return AccountChecked(f"{result['account']['name']}: {result['detail']}", "information")


def rediff(body: str, suggested: str, request_id: int) -> Rediffed:
    from lumina_tui.ai.diff import word_diff

    return Rediffed(body, word_diff(body, suggested), request_id)


def _literally(text: str) -> Callable[[re.Match[str]], str]:
    """A replacement that is `text` itself (a backslash in a name is not a group reference)."""
    return lambda _match: text


def retarget(text: str, old_prospect: Any, old_company: Any, new_prospect: Any, new_company: Any) -> str:
    """Swap the old prospect's name and company for the new one's (duplicate for another prospect)."""
    if old_prospect is None or not text:
        return text
    pairs = [
        (f"{old_prospect.first_name} {old_prospect.last_name}".strip(), prospect_name(new_prospect)),
        (old_prospect.first_name, new_prospect.first_name),
        (company_name(old_prospect, old_company), company_name(new_prospect, new_company)),
    ]
    for old, new in pairs:
        if old and new and old != new:
            # Whole words only; lookarounds rather than \b, which never matches before a name that
            # starts with a non-word character. The replacement is a function so that a backslash
            # in a name is text, not a group reference (`re.error: bad escape`).
            text = re.sub(rf"(?<!\w){re.escape(old)}(?!\w)", _literally(new), text)
    return text
