"""The outbox (f4): every email's delivery state, the selected one's events, retry, cancel, the worker.

The table refreshes itself about once a second from a thread worker, so the rep watches a send go
from Queued to Sent without pressing anything, and a slow disk never freezes the screen. A load
that is still running when the next tick comes is not doubled up: the tick waits for it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.content import Content
from textual.events import ScreenResume, ScreenSuspend
from textual.message import Message
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import DataTable, Footer, Select, Static

from lumina_tui.services import email_state, mailbox_sync, outbox, worker_control, worker_status
from lumina_tui.services.email_state import EmailStatus
from lumina_tui.services.errors import LuminaError
from lumina_tui.services.terminal_text import terminal_safe as safe
from lumina_tui.tui.bindings import Where, bindings_for, key_display
from lumina_tui.tui.service_jobs import run_service

if TYPE_CHECKING:
    from textual import getters

    from lumina_tui.tui.app import LuminaApp

REFRESH_SECONDS = 1.0
PAGE_SIZE = 200
LOCAL_OUTBOX = "local outbox, not delivered"

# The filter's choices: (label, status or None for all).
FILTERS: tuple[tuple[str, str | None], ...] = (
    ("All", None),
    ("Queued", EmailStatus.PENDING_SEND),
    ("Sending", EmailStatus.SENDING),
    ("Sent", EmailStatus.SENT),
    ("Failed", EmailStatus.FAILED),
    ("Cancelled", EmailStatus.CANCELLED),
    ("Bounced", EmailStatus.BOUNCED),
)
ALL = "all"


def local_time(value: datetime | None) -> str:
    """A stored (naive UTC) time in the rep's local zone, short enough for a table cell."""
    if value is None:
        return ""
    return value.replace(tzinfo=UTC).astimezone().strftime("%b %d %H:%M")


def local_time_seconds(value: datetime | None) -> str:
    if value is None:
        return ""
    return value.replace(tzinfo=UTC).astimezone().strftime("%b %d %H:%M:%S")


def _clip(text: str | None, width: int) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= width else text[: width - 1] + "…"


@dataclass(frozen=True, slots=True)
class OutboxEmail:
    """One email as the outbox shows it; plain values, so nothing lazy crosses the thread boundary."""

    id: str
    status: str
    provider: str
    from_email: str
    to_email: str
    to_name: str
    subject: str
    body: str  # the exact text that went (or goes) out
    attempts: int
    last_error: str | None
    created_at: datetime
    send_after: datetime
    next_attempt_at: datetime | None
    sent_at: datetime | None

    @classmethod
    def from_row(cls, row: Any) -> OutboxEmail:
        return cls(
            id=row.id,
            status=row.status,
            provider=row.provider,
            from_email=row.from_email,
            to_email=row.to_email,
            to_name=row.to_name,
            subject=row.subject,
            body=row.body_text or "",
            attempts=row.attempts,
            last_error=row.last_error,
            created_at=row.created_at,
            send_after=row.send_after,
            next_attempt_at=row.next_attempt_at,
            sent_at=row.sent_at,
        )

    @property
    def is_local(self) -> bool:
        return self.provider == "maildir"

    def in_undo_window(self, now: datetime) -> bool:
        return self.status == EmailStatus.PENDING_SEND and self.send_after > now

    def status_label(self, now: datetime) -> str:
        """The status in words (with the state's name kept recognisable for the CLI's users)."""
        if self.status == EmailStatus.PENDING_SEND:
            if self.in_undo_window(now):
                seconds = max(1, int((self.send_after - now).total_seconds() + 0.999))
                return f"◷ Queued · {seconds} s"
            note = email_state.status_note(self)
            if note is not None:  # waiting for a mailbox limit or a sign-in: not a failure
                return f"◷ {note[0].upper()}{note[1:]}"
            if self.attempts and self.next_attempt_at is not None:
                return "↻ Retrying"
            return "◷ Queued"
        if self.status == EmailStatus.SENDING:
            return "➤ Sending"
        if self.status == EmailStatus.SENT:
            return "✓ Local outbox" if self.is_local else "✓ Sent"
        if self.status == EmailStatus.FAILED:
            return "✖ Failed"
        if self.status == EmailStatus.CANCELLED:
            return "⊘ Cancelled"
        if self.status == EmailStatus.BOUNCED:
            return "↩ Bounced"
        return self.status

    def cells(self, now: datetime) -> tuple[str, ...]:
        return (
            self.status_label(now),
            _clip(self.to_name or self.to_email, 24),
            _clip(self.subject or "(no subject)", 30),
            str(self.attempts),
            _clip(self.last_error, 32),
            local_time(self.created_at),
            local_time(self.sent_at),
        )


@dataclass(frozen=True, slots=True)
class OutboxEvent:
    event_type: str
    occurred_at: datetime
    summary: str

    @classmethod
    def from_row(cls, row: Any) -> OutboxEvent:
        return cls(event_type=row.event_type, occurred_at=row.occurred_at, summary=event_summary(row))


def event_summary(row: Any) -> str:
    """One line saying what the event means; ids and file paths stay in `lumina emails show`."""
    data: dict[str, Any] = dict(row.event_data or {})
    kind = row.event_type
    if kind == "sent":
        where = (
            LOCAL_OUTBOX
            if data.get("provider") == "maildir"
            else f"accepted by {data.get('provider') or 'the provider'}"
        )
        text = f"{where} · attempt {data.get('attempts', '?')}"
        return text + (" · found already delivered after an interruption" if data.get("recovered") else "")
    if kind == "failed":
        code = f" ({data['code']})" if data.get("code") not in (None, "") else ""
        return f"{data.get('reason', '')}{code} · {data.get('kind', 'failure')}".strip(" ·")
    if kind == "queued":
        window = data.get("undo_window_seconds")
        if isinstance(window, int | float) and window > 0:
            return f"undo window {window:g} s"
        return "no undo window"
    if kind == "deferred" and data.get("result") == "needs_sign_in":
        return f"attempt {data.get('attempt', '?')} waits for the rep to sign in again"
    if kind == "deferred":
        code = f" ({data['code']})" if data.get("code") not in (None, "") else ""
        attempt = data.get("attempt", "?")
        return f"attempt {attempt} failed for now: {data.get('reason', '')}{code} · will retry"
    if kind == "interrupted":
        return f"attempt {data.get('attempt', '?')} interrupted (the worker stopped mid-send)"
    if kind == "cancelled":
        return "undone before it was sent"
    if kind == "replied":
        who = data.get("from_name") or data.get("from") or "the prospect"
        return f"{_clip(str(who), 40)}: “{_clip(str(data.get('snippet') or ''), 80)}”"
    if kind == "bounced":
        why = " ".join(str(data.get(k) or "") for k in ("status", "diagnostic")).strip()
        return f"{data.get('kind', '')} bounce · {_clip(why, 70)}".strip(" ·")
    if kind == "retried":
        previous = data.get("previous_error")
        return "queued again" + (f" after: {_clip(str(previous), 60)}" if previous else "")
    parts = [
        f"{key}={_clip(str(value), 40)}"
        for key, value in data.items()
        if value not in (None, "") and not key.endswith("_id") and key != "detail"
    ]
    return " ".join(parts)


@dataclass(frozen=True, slots=True)
class WorkerLine:
    online: bool | None  # None: the status could not be read
    detail: str = ""


@dataclass(slots=True)
class OutboxSnapshot:
    status_filter: str | None
    emails: list[OutboxEmail]
    total: int
    worker: WorkerLine
    events_for: str | None = None
    events: list[OutboxEvent] = field(default_factory=list)
    error: str | None = None


def read_worker_line(settings: Any) -> WorkerLine:
    """Online/offline from the worker's heartbeat, said in words; never raises."""
    try:
        status = worker_status.read_status(settings)
    except Exception as error:  # a broken heartbeat file must not break the outbox
        return WorkerLine(online=None, detail=f"status unknown ({error})")
    if status.online or status.last_beat is None:
        return WorkerLine(online=status.online)
    return WorkerLine(online=False, detail=f"last seen {local_time(status.last_beat)}")


class OutboxScreen(Screen[None]):
    """Emails newest first; the selected email's details and events below the table."""

    if TYPE_CHECKING:  # screens see the app's runtime typed (no run-time change)
        app = getters.app(LuminaApp)

    HELP_GROUP: ClassVar[str] = "Outbox"

    def clock(self) -> datetime:
        """Now, naive UTC, from the runtime's clock: the undo countdown and the cancel rule read it
        (a test gives the runtime its own clock)."""
        now: datetime = self.app.runtime.clock()
        return now

    BINDINGS: ClassVar[list[BindingType]] = bindings_for(Where.OUTBOX)  # keys: tui/bindings.py

    CSS_PATH = "outbox.tcss"  # its layout (tui/screens/*.tcss: one per screen)

    def __init__(self, name: str | None = None, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._timer: Timer | None = None
        self._loading = False
        self._load_again = False
        self._emails: dict[str, OutboxEmail] = {}
        self._order: list[str] = []
        self._events_for: str | None = None
        self._events: list[OutboxEvent] = []
        self.loads = 0  # completed loads; tests wait on it

    def compose(self) -> ComposeResult:
        with Horizontal(id="outbox-bar"):
            yield Static("Outbox", id="outbox-title")
            yield Select(
                [(label, status or ALL) for label, status in FILTERS],
                value=ALL,
                allow_blank=False,
                compact=True,
                id="outbox-filter",
            )
            yield Static("", id="outbox-count")
            yield Static("worker …", id="outbox-worker")
        table: DataTable[str] = DataTable(id="outbox-table", cursor_type="row", zebra_stripes=True)
        for label, key in (
            ("Status", "status"),
            ("To", "to"),
            ("Subject", "subject"),
            ("Tries", "attempts"),
            ("Last error", "last_error"),
            ("Created", "created"),
            ("Sent", "sent"),
        ):
            table.add_column(label, key=key)
        yield table
        with VerticalScroll(id="outbox-detail"):
            yield Static(self._no_emails_yet(), id="outbox-detail-text")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(DataTable).focus()
        self._timer = self.set_interval(REFRESH_SECONDS, self.refresh_outbox)
        self.refresh_outbox()

    def on_screen_suspend(self, _event: ScreenSuspend) -> None:
        if self._timer is not None:
            self._timer.pause()

    def on_screen_resume(self, _event: ScreenResume) -> None:
        if self._timer is not None:
            self._timer.resume()
        self.refresh_outbox()

    # ---- loading -------------------------------------------------------------------------------

    @property
    def status_filter(self) -> str | None:
        value = self.query_one("#outbox-filter", Select).value
        return None if value in (ALL, Select.BLANK) else str(value)

    def refresh_outbox(self) -> None:
        """Start a load unless one is running (then one more runs right after it)."""
        if self._loading:
            self._load_again = True
            return
        self._loading = True
        self._load_again = False
        self._load(self.status_filter, self.selected_email_id)

    def _load(self, status_filter: str | None, selected: str | None) -> None:
        runtime = self.app.runtime
        run_service(
            self, lambda: read_outbox(runtime, status_filter, selected), group="outbox-load", exclusive=False
        )

    def on_outbox_read(self, message: OutboxRead) -> None:
        self._loading = False
        snapshot = message.snapshot
        if snapshot is None:
            self._show_detail(Content(f"Could not read the outbox: {message.error}"))
        elif snapshot.status_filter == self.status_filter:
            self._apply(snapshot)
        else:
            self._load_again = True  # the filter changed while this load ran
        self.loads += 1
        if self._load_again and self.is_attached:
            self.refresh_outbox()

    # ---- showing -------------------------------------------------------------------------------

    def _apply(self, snapshot: OutboxSnapshot) -> None:
        now = self.clock()
        table = self.query_one(DataTable)
        new_order = [email.id for email in snapshot.emails]
        selected = self.selected_email_id
        if new_order == self._order:
            # Same rows in the same order: change only the cells that changed (keeps scroll and cursor).
            for email in snapshot.emails:
                old = self._emails.get(email.id)
                new_cells = email.cells(now)
                old_cells = old.cells(now) if old is not None else ()
                for key, old_value, new_value in zip(
                    ("status", "to", "subject", "attempts", "last_error", "created", "sent"),
                    old_cells or (None,) * len(new_cells),
                    new_cells,
                    strict=True,
                ):
                    if old_value != new_value:
                        table.update_cell(email.id, key, new_value)
        else:
            table.clear()
            for email in snapshot.emails:
                table.add_row(*(Text(safe(cell)) for cell in email.cells(now)), key=email.id)
            if selected in new_order:
                table.move_cursor(row=new_order.index(selected), animate=False)
        self._order = new_order
        self._emails = {email.id: email for email in snapshot.emails}
        self._events_for, self._events = snapshot.events_for, snapshot.events
        self._show_bar(snapshot)
        if snapshot.error:
            self._show_detail(Content(snapshot.error))
        else:
            self._show_selected()
        self.refresh_bindings()

    def _show_bar(self, snapshot: OutboxSnapshot) -> None:
        shown = len(snapshot.emails)
        noun = "email" if snapshot.total == 1 else "emails"
        count = f"{snapshot.total} {noun}" + (f" (newest {shown})" if shown < snapshot.total else "")
        self.query_one("#outbox-count", Static).update(count)
        worker = self.query_one("#outbox-worker", Static)
        if snapshot.worker.online is None:
            worker.update(f"worker ? {snapshot.worker.detail}".strip())
        else:
            text = "worker ● online" if snapshot.worker.online else "worker ○ offline"
            worker.update(f"{text} · {snapshot.worker.detail}" if snapshot.worker.detail else text)
        worker.set_class(snapshot.worker.online is True, "-online")
        worker.set_class(snapshot.worker.online is False, "-offline")

    def _show_selected(self) -> None:
        email_id = self.selected_email_id
        email = self._emails.get(email_id) if email_id else None
        if email is None:
            filtered = self.status_filter is not None
            self._show_detail(Content("No emails with this status." if filtered else self._no_emails_yet()))
            return
        now = self.clock()
        lines: list[Content] = []
        via = f" ({LOCAL_OUTBOX})" if email.is_local else ""
        lines.append(Content.assemble(("From     ", "$text-muted"), safe(f"{email.from_email}{via}")))
        to = f"{email.to_name} <{email.to_email}>" if email.to_name else email.to_email
        lines.append(Content.assemble(("To       ", "$text-muted"), safe(to)))
        lines.append(Content.assemble(("Subject  ", "$text-muted"), safe(email.subject) or "(no subject)"))
        lines.append(Content.assemble(("Status   ", "$text-muted"), self._status_sentence(email, now)))
        if email.last_error:
            error = (safe(email.last_error), "$text-error")
            lines.append(Content.assemble(("Error    ", "$text-muted"), error))
        if self._events_for == email.id and self._events:
            lines.append(Content.styled("Events", "bold"))
            for event in self._events:
                lines.append(
                    Content.assemble(
                        f"  {local_time_seconds(event.occurred_at)}  ",
                        (f"{event.event_type:<10}", "bold"),
                        " ",
                        safe(event.summary),
                    )
                )
        elif self._events_for == email.id:
            lines.append(Content.styled("No events yet.", "$text-muted"))
        # The whole message as it goes out, blank lines kept (the detail pane scrolls).
        lines.append(Content.styled("Message", "bold"))
        if email.body.strip():
            lines.append(Content(safe(email.body, multiline=True)))
        else:
            lines.append(Content.styled("(empty body)", "$text-muted"))
        self._show_detail(Content("\n").join(lines))

    def _no_emails_yet(self) -> str:
        return f"No emails yet: send one from the composer ({key_display(self.app, 'compose')})."

    def _status_sentence(self, email: OutboxEmail, now: datetime) -> str:
        if email.status == EmailStatus.PENDING_SEND:
            if email.in_undo_window(now):
                seconds = max(1, int((email.send_after - now).total_seconds() + 0.999))
                return f"Queued — sending in {seconds} s · {key_display(self.app, 'outbox_cancel')} undoes it"
            if email.attempts and email.next_attempt_at is not None:
                at = local_time_seconds(email.next_attempt_at)
                return f"Waiting to retry (attempt {email.attempts + 1}) at {at}"
            return "Queued — the worker sends it when it is online"
        if email.status == EmailStatus.SENDING:
            return f"Sending (attempt {max(1, email.attempts)})"
        if email.status == EmailStatus.SENT:
            where = LOCAL_OUTBOX if email.is_local else "delivered to the provider"
            return f"Sent {local_time_seconds(email.sent_at)} — {where}"
        if email.status == EmailStatus.FAILED:
            retry = key_display(self.app, "outbox_retry")
            return f"Failed after {email.attempts} attempt(s) · {retry} retries it"
        if email.status == EmailStatus.CANCELLED:
            return "Cancelled — it was never sent; the draft is back in your drafts"
        if email.status == EmailStatus.BOUNCED:
            return "Bounced — the address does not take mail; it is now on the suppression list"
        return email.status

    def _show_detail(self, content: Content) -> None:
        self.query_one("#outbox-detail-text", Static).update(content)

    # ---- selection, filter and actions ---------------------------------------------------------

    @property
    def selected_email_id(self) -> str | None:
        if not self.is_mounted:
            return None
        table = self.query_one(DataTable)
        if table.row_count == 0:
            return None
        row_key, _ = table.coordinate_to_cell_key(table.cursor_coordinate)
        return None if row_key.value is None else str(row_key.value)

    @property
    def selected_email(self) -> OutboxEmail | None:
        email_id = self.selected_email_id
        return self._emails.get(email_id) if email_id else None

    @on(DataTable.RowHighlighted, "#outbox-table")
    def _row_highlighted(self, _event: DataTable.RowHighlighted) -> None:
        self._show_selected()
        self.refresh_bindings()
        if self.selected_email_id != self._events_for:
            self.refresh_outbox()

    @on(Select.Changed, "#outbox-filter")
    def _filter_changed(self, _event: Select.Changed) -> None:
        self.refresh_outbox()

    def action_next_filter(self) -> None:
        select = self.query_one("#outbox-filter", Select)
        values = [status or ALL for _, status in FILTERS]
        current = select.value if select.value in values else ALL
        select.value = values[(values.index(current) + 1) % len(values)]

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # Retry and undo stay live whenever an email is selected: on one they cannot apply to, the
        # key says why instead of doing nothing.
        if action in ("retry", "cancel_send"):
            return True if self.selected_email is not None else None
        return True

    def action_retry(self) -> None:
        email = self.selected_email
        if email is None:
            return
        if email.status == EmailStatus.FAILED:
            self._run_verb("retry", email.id)
            return
        reasons: dict[str, str] = {
            EmailStatus.SENT: "it was sent already",
            EmailStatus.CANCELLED: "it was cancelled; its draft is back in your drafts",
            EmailStatus.SENDING: "it is being sent right now",
            EmailStatus.PENDING_SEND: "it is still queued: the worker sends (and retries) it by itself",
        }
        why = reasons.get(email.status, f"it is {email.status}")
        self.notify(f"Nothing to retry: {why}. Only a failed email can be retried.", title="Retry")

    def action_cancel_send(self) -> None:
        email = self.selected_email
        if email is None:
            return
        now = self.clock()
        if email.in_undo_window(now):
            self._run_verb("cancel", email.id)
            return
        reasons: dict[str, str] = {
            EmailStatus.SENT: "it was sent already",
            EmailStatus.CANCELLED: "it was cancelled already",
            EmailStatus.SENDING: "it is being sent right now",
            EmailStatus.FAILED: "it failed and will not be sent unless you retry it",
            EmailStatus.PENDING_SEND: "its undo window has closed: the worker may be sending it",
        }
        why = reasons.get(email.status, f"it is {email.status}")
        self.notify(f"Too late to undo: {why}.", title="Undo send")

    def action_sync_mailboxes(self) -> None:
        self.notify("Reading the mailboxes for replies and bounces…")
        self._run_verb("sync", "")

    def _run_verb(self, verb: str, email_id: str) -> None:
        """Retry, cancel or sync in a thread; `OutboxVerbDone` says what happened."""
        runtime = self.app.runtime
        run_service(self, lambda: run_verb(runtime, verb, email_id), group="outbox-verb", exclusive=False)

    def on_outbox_verb_done(self, message: OutboxVerbDone) -> None:
        if message.error:
            self.notify(message.error, title="Not done", severity="error")
        else:
            self.notify(message.done)
        self.refresh_outbox()


@dataclass
class OutboxRead(Message):
    """The outbox's first page and the selected email's events (None, with `error`: unreadable)."""

    snapshot: OutboxSnapshot | None
    error: str = ""


@dataclass
class OutboxVerbDone(Message):
    """What a retry, cancel or sync did (`error`: why it did not)."""

    done: str
    error: str | None


def read_outbox(runtime: Any, status_filter: str | None, selected: str | None) -> OutboxRead:
    """Thread worker: the first page for the filter, and the events of the email to show."""
    try:
        worker = read_worker_line(runtime.settings)
        try:
            page = outbox.list_emails(runtime.db, runtime.actor, status=status_filter, limit=PAGE_SIZE)
        except LuminaError as error:
            return OutboxRead(OutboxSnapshot(status_filter, [], 0, worker, error=error.message))
        emails = [OutboxEmail.from_row(row) for row in page.items]
        ids = {email.id for email in emails}
        events_for = selected if selected in ids else (emails[0].id if emails else None)
        events: list[OutboxEvent] = []
        if events_for is not None:
            try:
                events = [
                    OutboxEvent.from_row(row)
                    for row in outbox.list_events(runtime.db, runtime.actor, events_for)
                ]
            except LuminaError:
                events = []
    except Exception as exc:  # a broken store must not kill the screen: say it
        return OutboxRead(None, f"{exc}")
    return OutboxRead(OutboxSnapshot(status_filter, emails, page.total, worker, events_for, events))


def run_verb(runtime: Any, verb: str, email_id: str) -> OutboxVerbDone:
    """Thread worker: retry, cancel or sync."""
    try:
        if verb == "sync":
            done, error = mailbox_sync.summary(
                mailbox_sync.sync_all(runtime.db, runtime.settings, runtime.actor)
            )
            return OutboxVerbDone(done, error)
        if verb == "retry":
            outbox.retry(runtime.db, runtime.actor, email_id, settings=runtime.settings, clock=runtime.clock)
            worker_control.ensure_running(runtime.settings)
            return OutboxVerbDone("Queued again: the worker retries it now.", None)
        outbox.cancel(runtime.db, runtime.actor, email_id, clock=runtime.clock)
        return OutboxVerbDone("Cancelled: it will not be sent. Its text is back in your drafts.", None)
    except LuminaError as error:
        return OutboxVerbDone("", error.message)
    except Exception as exc:
        return OutboxVerbDone("", str(exc))
