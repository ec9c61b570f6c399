"""Accounts (f9, or "Accounts…" in the palette): every sending account, and what a rep does with one.

The table lists each account's name, address, where its mail goes, its status ("needs sign-in" when
Google or Microsoft refused its refresh token), its send limits and which one is the default. The
keys (tui/bindings.py) test the selected account (`accounts.test_account`: sign-in and connection,
nothing sent), sign a Gmail or Outlook account in again (the same OAuth flow as `lumina accounts
signin`: Outlook's device code and address, or Gmail's consent page in the browser and its address
here), make it the default, or remove it after a yes/no question.

Every service call runs in a thread worker and reports back with one typed message (`Loaded`,
`Done`, `SignInSaid`); only the UI thread touches widgets. A sign-in waits for the rep in a browser
for minutes: it shows its progress and esc (or the Cancel button) stops it. Stored text (names,
addresses, provider errors) is shown escaped (`terminal_safe`), and no secret is ever read here.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Button, DataTable, Footer, Static

from lumina_tui.services import accounts
from lumina_tui.services.terminal_text import terminal_safe as safe
from lumina_tui.tui.bindings import Where, bindings_for, key_display
from lumina_tui.tui.messages import error_text
from lumina_tui.tui.screens.dialogs import ConfirmDialog

if TYPE_CHECKING:
    from textual import getters

    from lumina_tui.tui.app import LuminaApp

#: The kinds of account that sign in over OAuth (the others keep a password or nothing).
SIGNS_IN = ("gmail", "outlook")


@dataclass(frozen=True, slots=True)
class AccountRow:
    """One account as the screen shows it (plain values, read in the worker thread)."""

    id: str
    name: str
    email: str
    provider: str
    where: str  # where its mail goes ("Gmail API (OAuth)", "SMTP host:587 (starttls)", …)
    status: str  # "" or "needs sign-in"
    reason: str
    limits: str
    is_default: bool

    @classmethod
    def of(cls, account: Any, settings: Any) -> AccountRow:
        return cls(
            id=account.id,
            name=account.name,
            email=account.email,
            provider=account.provider,
            where=accounts.label(account),
            status=accounts.status_text(account),
            reason=account.status_reason or "",
            limits=accounts.limits_text(settings, account),
            is_default=bool(account.is_default),
        )

    def cells(self) -> tuple[Text, ...]:
        status = self.status or "ok"
        # What a rep acts on first (status, default) comes before what fits less at 80 columns.
        return (
            Text(safe(self.name)),
            Text(safe(self.email)),
            Text(status, style="bold yellow" if self.status else ""),
            Text("default" if self.is_default else ""),
            Text(self.limits),
            Text(safe(self.where)),
        )


class AccountsScreen(Screen[None]):
    """The accounts table, the selected account's details, and a sign-in's progress while one runs."""

    if TYPE_CHECKING:  # screens see the app's runtime typed (no run-time change)
        app = getters.app(LuminaApp)

    HELP_GROUP: ClassVar[str] = "Accounts"
    BINDINGS: ClassVar[list[BindingType]] = bindings_for(Where.ACCOUNTS)  # keys: tui/bindings.py
    CSS_PATH = "accounts.tcss"

    #: Open the rep's browser for Gmail's consent page (tests play the browser from the shown address).
    open_browser: ClassVar[bool] = True

    @dataclass
    class Loaded(Message):
        rows: list[AccountRow]
        error: str | None = None

    @dataclass
    class Done(Message):
        """A test, sign-in, default or remove finished: `note` to show, or `error`."""

        verb: str
        account_id: str
        note: str = ""
        error: str | None = None

    @dataclass
    class SignInSaid(Message):
        """The sign-in's instructions: Outlook's device code and address, or Gmail's consent page."""

        text: str

    def __init__(self, name: str | None = None, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.rows: list[AccountRow] = []
        self.loads = 0  # completed loads; tests wait on it
        self.notes: dict[str, str] = {}  # the last test or sign-in result per account
        self.busy: str | None = None  # the verb running now ("test", "sign_in", …)
        self._cancel: threading.Event | None = None

    def compose(self) -> ComposeResult:
        with Horizontal(id="accounts-bar"):
            yield Static("Accounts", id="accounts-title")
            yield Static("", id="accounts-count")
        table: DataTable[Text] = DataTable(id="accounts-table", cursor_type="row", zebra_stripes=True)
        for label, key in (
            ("Name", "name"),
            ("Address", "email"),
            ("Status", "status"),
            ("", "default"),
            ("Limits", "limits"),
            ("Where mail goes", "where"),
        ):
            table.add_column(label, key=key)
        yield table
        with Vertical(id="accounts-signin"):
            yield Static("", id="accounts-signin-text", markup=False)
            yield Button("Cancel sign-in", id="accounts-signin-cancel", compact=True)
        with VerticalScroll(id="accounts-detail"):
            yield Static("Loading accounts…", id="accounts-detail-text")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(DataTable).focus()
        self.reload()

    # ---- loading -------------------------------------------------------------------------------

    def reload(self) -> None:
        self._load()

    @work(thread=True, group="accounts-load", exclusive=True, exit_on_error=False)
    def _load(self) -> None:
        runtime = self.app.runtime
        try:
            found = accounts.list_accounts(runtime.db, runtime.actor)
            rows = [AccountRow.of(account, runtime.settings) for account in found]
        except Exception as error:  # shown on the screen; the rep can press a key again
            self.post_message(self.Loaded([], error_text(error)))
            return
        self.post_message(self.Loaded(rows))

    @on(Loaded)
    def _loaded(self, message: Loaded) -> None:
        self.loads += 1
        if message.error:
            self._show_detail(f"Could not read the accounts: {message.error}")
            return
        table = self.query_one(DataTable)
        selected = self.selected.id if self.selected is not None else None
        self.rows = message.rows
        table.clear()
        for row in self.rows:
            table.add_row(*row.cells(), key=row.id)
        for index, row in enumerate(self.rows):
            if row.id == selected:
                table.move_cursor(row=index, animate=False)
        count = len(self.rows)
        self.query_one("#accounts-count", Static).update(f"{count} account" + ("" if count == 1 else "s"))
        self._show_selected()

    # ---- showing -------------------------------------------------------------------------------

    @property
    def selected(self) -> AccountRow | None:
        table = self.query_one(DataTable)
        if not self.rows or table.cursor_row < 0 or table.cursor_row >= len(self.rows):
            return None
        return self.rows[table.cursor_row]

    @on(DataTable.RowHighlighted)
    def _highlighted(self, _event: DataTable.RowHighlighted) -> None:
        self._show_selected()

    def _show_detail(self, text: str) -> None:
        self.query_one("#accounts-detail-text", Static).update(Content(text))

    def _show_selected(self) -> None:
        row = self.selected
        if row is None:
            self._show_detail(
                "No sending accounts yet: `lumina accounts add gmail|outlook|smtp` adds one "
                "(or `lumina demo` for a local outbox)."
            )
            return
        lines = [
            f"{safe(row.name)} <{safe(row.email)}>" + ("  · default" if row.is_default else ""),
            f"Mail goes   {safe(row.where)}",
            f"Limits      {row.limits}",
        ]
        if row.status:
            lines.append(f"Status      {row.status}: {safe(row.reason, multiline=False)}")
            if row.provider in SIGNS_IN:
                lines.append(f"{key_display(self.app, 'accounts_sign_in')} signs it in again.")
        else:
            lines.append("Status      ok")
        note = self.notes.get(row.id)
        if note:
            lines += ["", safe(note, multiline=True)]
        lines += [
            "",
            f"{key_display(self.app, 'accounts_test')} test · "
            f"{key_display(self.app, 'accounts_sign_in')} sign in again · "
            f"{key_display(self.app, 'accounts_default')} make default · "
            f"{key_display(self.app, 'accounts_remove')} remove",
        ]
        self._show_detail("\n".join(lines))

    def _start(self, verb: str, row: AccountRow, doing: str) -> bool:
        if self.busy is not None:
            self.notify(f"Wait a moment: {self.busy.replace('_', ' ')} is still running.", title="Accounts")
            return False
        self.busy = verb
        self.notes[row.id] = doing
        self._show_selected()
        return True

    @on(Done)
    def _done(self, message: Done) -> None:
        self.busy = None
        if message.verb == "sign_in":
            self._cancel = None
            self.query_one("#accounts-signin").display = False
        if message.error:
            self.notes[message.account_id] = f"Not done: {message.error}"
            self.notify(message.error, title="Not done", severity="error")
        else:
            self.notes[message.account_id] = message.note
            self.notify(message.note, title="Accounts")
        self.reload()

    # ---- actions -------------------------------------------------------------------------------

    def action_test_account(self) -> None:
        row = self.selected
        if row is not None and self._start("test", row, f"Testing {row.name}: signing in, nothing is sent…"):
            self._call("test", row.id)

    def action_make_default(self) -> None:
        row = self.selected
        if row is None:
            return
        if row.is_default:
            self.notify(f"{row.name} is already the default.", title="Accounts")
            return
        if self._start("default", row, f"Making {row.name} the default…"):
            self._call("default", row.id)

    def action_remove(self) -> None:
        row = self.selected
        if row is None or self.busy is not None:
            return

        def answered(yes: bool | None) -> None:
            if yes and self._start("remove", row, f"Removing {row.name}…"):
                self._call("remove", row.id)

        self.app.push_screen(
            ConfirmDialog(
                f"Remove {row.name}?",
                f"{row.email}: its stored password or sign-in is deleted from the keyring. Drafts that "
                "used it will ask for another account. Refused while its emails are waiting to send.",
            ),
            answered,
        )

    def action_sign_in(self) -> None:
        row = self.selected
        if row is None:
            return
        if row.provider not in SIGNS_IN:
            self.notify(
                f"{row.name} is a {row.provider} account: only Gmail and Outlook accounts sign in "
                "(change an SMTP password by adding the account again).",
                title="Sign in",
            )
            return
        if not self._start("sign_in", row, f"Signing in to {row.email}…"):
            return
        self._cancel = threading.Event()
        panel = self.query_one("#accounts-signin")
        panel.display = True
        self.query_one("#accounts-signin-text", Static).update(f"Signing in to {safe(row.email)}: starting…")
        self._sign_in(row.id, self._cancel)

    def action_close(self) -> None:
        """esc: cancel a running sign-in first; otherwise back to where the rep was."""
        if self._cancel is not None:
            self._cancel_sign_in()
            return
        self.app.pop_screen()

    @on(Button.Pressed, "#accounts-signin-cancel")
    def _cancel_pressed(self, _event: Button.Pressed) -> None:
        self._cancel_sign_in()

    def _cancel_sign_in(self) -> None:
        if self._cancel is not None and not self._cancel.is_set():
            self._cancel.set()
            self.query_one("#accounts-signin-text", Static).update("Cancelling the sign-in…")

    @on(SignInSaid)
    def _said(self, message: SignInSaid) -> None:
        if self._cancel is not None and not self._cancel.is_set():
            self.query_one("#accounts-signin-text", Static).update(safe(message.text, multiline=True))

    # ---- workers -------------------------------------------------------------------------------

    @work(thread=True, group="accounts-verb", exit_on_error=False)
    def _call(self, verb: str, account_id: str) -> None:
        runtime = self.app.runtime
        db, actor = runtime.db, runtime.actor
        try:
            if verb == "test":
                result = accounts.test_account(db, actor, account_id, runtime.settings)
                note = f"Test passed: {result['detail']}"
            elif verb == "default":
                account = accounts.make_default(db, actor, account_id)
                note = f"New drafts send from {account.name}."
            else:
                account = accounts.remove_account(db, actor, account_id)
                note = f"Removed {account.name} ({account.email})."
        except Exception as error:  # every failure is shown; nothing is half done by the services
            self.post_message(self.Done(verb, account_id, error=error_text(error)))
            return
        self.post_message(self.Done(verb, account_id, note=note))

    @work(thread=True, group="accounts-sign-in", exit_on_error=False)
    def _sign_in(self, account_id: str, cancel: threading.Event) -> None:
        from lumina_tui.services import oauth_accounts  # loads the OAuth libraries only when used

        runtime = self.app.runtime
        try:
            result = oauth_accounts.sign_in_again(
                runtime.db,
                runtime.actor,
                runtime.settings,
                account_id,
                say=lambda text: self.post_message(self.SignInSaid(text)),
                open_browser=self.open_browser,
                say_url=True,
                cancel=cancel,
            )
        except Exception as error:
            text = "Sign-in cancelled." if cancel.is_set() else error_text(error)
            self.post_message(self.Done("sign_in", account_id, error=text))
            return
        released = result.released
        note = f"Signed in again as {result.account.email}." + (
            f" {released} waiting email(s) go out now." if released else ""
        )
        self.post_message(self.Done("sign_in", account_id, note=note))
