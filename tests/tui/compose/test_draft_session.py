"""`DraftSession` without an app: only the latest switch opens, answers for another draft are
ignored, a sent draft stays as it is, and the first read fills the selectors and says its problems."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flow_fakes import Autosave, snapshot

from lumina_tui.tui.compose.draft_session import DraftSession
from lumina_tui.tui.compose.reads import (
    Choices,
    ComposerOpened,
    DraftRead,
    DraftView,
    Recipient,
    RecipientRead,
    TemplateFilled,
)


@dataclass
class Row:
    """A stored draft as the services return it (the fields the session reads)."""

    id: str
    subject: str = "Hello"
    body_text: str = "Hi Ana"
    prospect_id: str | None = None
    template_id: str | None = None
    account_id: str | None = None
    tone: float | None = None
    revision: int = 1
    sent_at: datetime | None = None


@dataclass
class Named:
    id: str
    name: str = ""


@dataclass
class Filled:
    subject: str
    body: str
    missing: tuple[str, ...] = ()


@dataclass
class DraftHostFake:
    subject: str = ""
    body: str = ""
    tone: float = 0.5
    runtime: Any = None
    jobs: list[tuple[str, Callable[[], Any]]] = field(default_factory=list)
    notes: list[tuple[str, str]] = field(default_factory=list)
    shown: list[str] = field(default_factory=list)
    recipients: list[Any] = field(default_factory=list)
    replaced: list[tuple[str | None, str]] = field(default_factory=list)
    edits: int = 0
    choices_shown: int = 0
    autosaves: list[Autosave] = field(default_factory=list)

    def run_service(self, job: Callable[[], Any], *, group: str, exclusive: bool = True) -> None:
        self.jobs.append((group, job))

    def new_autosave(self, *, stored_revision: int, stored: Any) -> Any:
        autosave = Autosave(snapshot(), revision=stored_revision)
        self.autosaves.append(autosave)
        return autosave

    def notify(
        self, message: str, *, title: str = "", severity: Any = "information", timeout: Any = None
    ) -> None:
        self.notes.append((message, severity))

    def ask(self, screen: Any, answered: Callable[[Any], None]) -> None:
        pass

    def explain_read_only(self) -> None:
        self.notes.append(("read-only", "warning"))

    def screen_text(self) -> tuple[str, str, float]:
        return self.subject, self.body, self.tone

    def show_draft(self, subject: str, body: str, *, tone: Any, read_only: bool, frozen_as: Any) -> float:
        self.subject, self.body = subject, body
        self.shown.append(body)
        return 0.5 if tone is None else float(tone)

    def show_recipient(self, recipient: Recipient) -> None:
        self.recipients.append(recipient.prospect_id)

    def show_choices(self, choices: Choices) -> None:
        self.choices_shown += 1

    def show_selected(self, account_id: Any, template_id: Any) -> None:
        pass

    def draft_shown(self) -> None:
        pass

    def recipient_changed(self) -> None:
        self.edits += 1

    def replace_text(self, subject: str | None, body: str) -> None:
        self.replaced.append((subject, body))

    def edited(self) -> None:
        self.edits += 1

    def focus_body(self) -> None:
        pass

    def suspend(self) -> Any:
        return nullcontext()

    def save_open_draft(self) -> None:
        pass


@dataclass
class Prospect:
    id: str


def session() -> tuple[DraftSession, DraftHostFake]:
    host = DraftHostFake()
    return DraftSession(host), host  # type: ignore[arg-type]


def test_the_first_read_fills_the_selectors_says_its_problems_and_opens_the_draft() -> None:
    drafts, host = session()
    choices = Choices([Named("a-1"), Named("a-2")], [Named("t-1", "Hook")], default_account_id="a-2")
    view = DraftView(Row("d-1", body_text="stored text"), Recipient())
    drafts.opened(ComposerOpened(choices, view, [("Prospect unavailable: gone", "warning")]))
    assert host.choices_shown == 1 and host.notes == [("Prospect unavailable: gone", "warning")]
    assert drafts.draft_id == "d-1" and host.shown == ["stored text"]
    assert drafts.account_id == "a-2"  # the sender's default, the draft naming none
    assert host.autosaves[-1].revision == 1


def test_a_new_draft_gets_a_fresh_id_and_is_kept_only_with_a_prospect() -> None:
    drafts, host = session()
    drafts.open(DraftView(None, Recipient()))
    first = drafts.draft_id
    assert first and host.autosaves[-1].edits == 0  # an empty new draft is not stored
    drafts.open(DraftView(None, Recipient(Prospect("p-1"))))
    assert drafts.draft_id != first and drafts.prospect_id == "p-1"
    assert host.autosaves[-1].edits == 1  # one for a chosen prospect is worth keeping


def test_only_the_latest_switch_opens() -> None:
    drafts, host = session()
    drafts.open(DraftView(Row("d-1"), Recipient()))
    opened: list[str] = []
    drafts.open_by_id("d-2", after=lambda: opened.append("d-2"))
    drafts.open_by_id("d-3", after=lambda: opened.append("d-3"))
    assert [group for group, _job in host.jobs] == ["switch", "switch"]
    drafts.draft_read(DraftRead(1, DraftView(Row("d-2"), Recipient())))  # the older answer
    assert drafts.draft_id == "d-1" and opened == []
    drafts.draft_read(DraftRead(2, DraftView(Row("d-3"), Recipient())))
    assert drafts.draft_id == "d-3" and opened == ["d-3"]


def test_a_switch_saves_the_open_draft_in_the_same_job_that_reads_the_next() -> None:
    drafts, host = session()
    drafts.open(DraftView(Row("d-1"), Recipient()))
    old = host.autosaves[-1]
    drafts.new_draft()
    assert old.cancelled and old.saved == []  # no timer save after this; nothing on the loop
    group, job = host.jobs[-1]
    message = job()  # what the thread worker runs
    assert group == "switch" and old.saved == [1]
    drafts.draft_read(message)
    assert drafts.draft_id not in ("", "d-1") and host.shown[-1] == ""


def test_a_draft_that_cannot_be_read_is_said_and_what_waited_still_runs() -> None:
    drafts, host = session()
    drafts.open(DraftView(Row("d-1"), Recipient()))
    ran: list[bool] = []
    drafts.open_by_id("d-9", after=lambda: ran.append(True))
    drafts.draft_read(DraftRead(1, None, error="draft d-9 not found"))
    assert drafts.draft_id == "d-1" and ("draft d-9 not found", "error") in host.notes and ran == [True]


def test_answers_for_another_draft_are_ignored_and_a_sent_draft_does_not_change() -> None:
    drafts, host = session()
    drafts.open(DraftView(Row("d-1"), Recipient()))
    drafts.recipient_read(RecipientRead("d-0", Recipient(Prospect("p-9"))))
    drafts.template_filled(TemplateFilled("d-0", "t-1", Filled("S", "B")))
    assert drafts.prospect_id is None and host.replaced == []
    drafts.template_filled(TemplateFilled("d-1", "t-1", Filled("S", "B {{title}}", ("title",))))
    assert host.replaced == [("S", "B {{title}}")] and drafts.template_id == "t-1"
    assert host.notes[-1][1] == "warning"  # the field with no value is said
    drafts.open(DraftView(Row("d-2", sent_at=datetime(2026, 3, 2)), Recipient()))
    assert drafts.read_only
    drafts.recipient_read(RecipientRead("d-2", Recipient(Prospect("p-9"))))
    drafts.account_selected("a-9")
    assert drafts.prospect_id is None and drafts.account_id != "a-9"
    drafts.edit_in_editor()
    assert ("read-only", "warning") in host.notes


def test_compose_to_readdresses_a_blank_draft_and_starts_a_new_one_otherwise() -> None:
    drafts, host = session()
    drafts.open(DraftView(None, Recipient()))
    drafts.compose_to("p-1")
    assert host.jobs[-1][0] == "recipient"  # the blank draft itself, once the prospect is read
    host.body = "something typed"
    drafts.compose_to("p-2")
    assert host.jobs[-1][0] == "switch"  # saved, then a new draft for p-2
