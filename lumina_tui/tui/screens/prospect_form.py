"""Add or edit one prospect: a small form whose errors appear next to the field the service names.

The service is the only judge of what is valid (`prospects.clean_fields`): the form sends what was
typed and shows the `ValidationError` beside the input its `field` names, so the rules live in one
place and the CLI and the composer agree with this form.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from lumina_tui.services import prospects as prospect_service
from lumina_tui.services.errors import LuminaError
from lumina_tui.tui.bindings import Where, bindings_for
from lumina_tui.tui.messages import error_text
from lumina_tui.tui.service_jobs import run_service
from lumina_tui.tui.widgets.safe_text import SafeInput

if TYPE_CHECKING:
    from textual import getters

    from lumina_tui.tui.app import LuminaApp

# (field name in the service, label) in the order the form shows them.
FIELDS: tuple[tuple[str, str], ...] = (
    ("email", "Email"),
    ("first_name", "First name"),
    ("last_name", "Last name"),
    ("company", "Company"),
    ("job_title", "Title"),
)


@dataclass(frozen=True, slots=True)
class SaveFailed:
    field: str | None
    message: str


class ProspectFormScreen(ModalScreen[str | None]):
    """Dismisses with the saved prospect's id, or None when the rep goes back."""

    if TYPE_CHECKING:  # screens see the app's runtime typed (no run-time change)
        app = getters.app(LuminaApp)

    HELP_GROUP: ClassVar[str] = "Prospect form"

    BINDINGS: ClassVar[list[BindingType]] = bindings_for(Where.PROSPECT_FORM)  # keys: tui/bindings.py

    CSS_PATH = "prospect_form.tcss"  # its layout; the shared dialog box is .dialog in app.tcss

    def __init__(self, prospect_id: str | None) -> None:
        super().__init__()
        self.prospect_id = prospect_id

    def compose(self) -> ComposeResult:
        with Vertical(id="prospect-form", classes="dialog") as form:
            form.border_title = "Edit prospect" if self.prospect_id else "Add a prospect"
            for name, label in FIELDS:
                with Horizontal(classes="form-row"):
                    yield Label(label)
                    yield SafeInput(id=f"field-{name}", compact=True, disabled=bool(self.prospect_id))
                yield Static("", id=f"error-{name}", classes="field-error -empty", markup=False)
            yield Static("", id="form-error", classes="-empty", markup=False)
            with Horizontal(id="form-buttons"):
                yield Button("Save ^s", id="form-save", variant="primary", compact=True)
                yield Button("Back esc", id="form-cancel", compact=True)

    def on_mount(self) -> None:
        if self.prospect_id:
            self._load(self.prospect_id)
        else:
            self.query_one("#field-email", Input).focus()

    def _load(self, prospect_id: str) -> None:
        runtime = self.app.runtime
        run_service(
            self, lambda: read_prospect(runtime, prospect_id), group="prospect-form-load", exclusive=False
        )

    def _save(self, values: dict[str, str]) -> None:
        runtime, prospect_id = self.app.runtime, self.prospect_id
        run_service(self, lambda: save_prospect(runtime, prospect_id, values), group="prospect-form-save")

    def on_prospect_read(self, message: ProspectRead) -> None:
        if message.values is None:
            self._show_error(None, f"Could not open this prospect: {message.error}")
            return
        for name, value in message.values.items():
            field_input = self.query_one(f"#field-{name}", Input)
            field_input.value = value
            field_input.disabled = False
        self.query_one("#field-email", Input).focus()

    def on_prospect_saved(self, message: ProspectSaved) -> None:
        self.query_one("#form-save", Button).disabled = False
        if message.failed is not None:
            self._show_error(message.failed.field, message.failed.message)
        else:
            self.dismiss(message.prospect_id)

    def _clear_errors(self) -> None:
        for widget in self.query(".field-error"):
            assert isinstance(widget, Static)
            widget.update("")
            widget.add_class("-empty")
        form_error = self.query_one("#form-error", Static)
        form_error.update("")
        form_error.add_class("-empty")

    def _show_error(self, field: str | None, message: str) -> None:
        """Put the message under the field it names (or under the form when it names none)."""
        self._clear_errors()
        known = {name for name, _ in FIELDS}
        if field in known:
            target = self.query_one(f"#error-{field}", Static)
            # The service prefixes messages with the field name; the position already says it.
            target.update(message.removeprefix(f"{field}: "))
            target.remove_class("-empty")
            self.query_one(f"#field-{field}", Input).focus()
        else:
            target = self.query_one("#form-error", Static)
            target.update(message)
            target.remove_class("-empty")

    def field_error(self, field: str) -> str:
        """The error shown beside `field` ('' when none): what a test or a screen reader checks."""
        return str(self.query_one(f"#error-{field}", Static).content).strip()

    def action_save(self) -> None:
        save_button = self.query_one("#form-save", Button)
        if save_button.disabled or any(self.query_one(f"#field-{n}", Input).disabled for n, _ in FIELDS):
            return
        save_button.disabled = True
        values = {name: self.query_one(f"#field-{name}", Input).value for name, _ in FIELDS}
        self._save(values)

    def action_cancel(self) -> None:
        self.dismiss(None)

    @on(Input.Submitted)
    def _submitted(self, _event: Input.Submitted) -> None:
        self.action_save()

    @on(Button.Pressed, "#form-save")
    def _save_pressed(self, _event: Button.Pressed) -> None:
        self.action_save()

    @on(Button.Pressed, "#form-cancel")
    def _cancel_pressed(self, _event: Button.Pressed) -> None:
        self.action_cancel()


@dataclass
class ProspectRead(Message):
    """The stored fields of the prospect being edited (None, with `error`: it could not be read)."""

    values: dict[str, str] | None
    error: str = ""


@dataclass
class ProspectSaved(Message):
    """The prospect's id once stored, or why it was not (`failed` names the field)."""

    prospect_id: str | None
    failed: SaveFailed | None = None


def read_prospect(runtime: Any, prospect_id: str) -> ProspectRead:
    try:
        prospect = prospect_service.get(runtime.db, runtime.actor, prospect_id)
    except Exception as exc:
        return ProspectRead(None, error_text(exc))
    return ProspectRead({name: str(getattr(prospect, name) or "") for name, _ in FIELDS})


def save_prospect(runtime: Any, prospect_id: str | None, values: dict[str, str]) -> ProspectSaved:
    """Thread worker: update the prospect, or create it (the service validates every field)."""
    values = dict(values)
    try:
        if prospect_id:
            saved = prospect_service.update(runtime.db, runtime.actor, prospect_id, **values)
        else:
            email = values.pop("email")
            saved = prospect_service.create(runtime.db, runtime.actor, email=email, **values)
    except LuminaError as error:
        return ProspectSaved(None, SaveFailed(field=error.field, message=error.message))
    except Exception as exc:
        return ProspectSaved(None, SaveFailed(field=None, message=f"Could not save: {exc}"))
    return ProspectSaved(saved.id)
