"""The CLI's output contract: JSON documents on stdout, errors on stderr, exit codes by error type.

Every failure a command can meet ends here, as one line on stderr (with `--json`:
`{"error": {"code", "field", "message"}}`) and an exit code: 2 for the caller's input or state, 1
for AI, provider or I/O failures. `failure_of` knows the families: `LuminaError` (the services'
errors and the store's `StoreError`: locked, full, read-only, not Lumina's), the settings'
`ConfigError`, click's usage errors, unreadable input files and text that is not UTF-8. Anything
else is a bug: the rep sees one line (exit 1) and the traceback goes to the log file, never to the
terminal.

The error classes are looked up in `sys.modules` rather than imported: an error can only be of a
class whose module is already loaded, and importing the store or settings just to compare would
slow every command's start.
"""

from __future__ import annotations

import errno
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NoReturn, TypeVar

import click

from lumina_tui.services.terminal_text import json_safe, terminal_safe

T = TypeVar("T")

json_option = click.option("--json", "as_json", is_flag=True, help="Print one JSON document on stdout.")

# Paging past this many rows is a typo, not a request (SQLite integers stop at 2**63 - 1).
MAX_OFFSET = 1_000_000_000
offset_type = click.IntRange(0, MAX_OFFSET)
revision_type = click.IntRange(0, 2**62)  # services.validation.MAX_REVISION (not imported: start-up cost)

# An input file the rep named cannot be read: their input, so exit 2.
_INPUT_FILE_ERRORS = (FileNotFoundError, IsADirectoryError, NotADirectoryError, PermissionError)


@dataclass(frozen=True, slots=True)
class Failure:
    code: str
    message: str
    field: str | None = None
    exit_code: int = 1

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "field": self.field, "message": self.message}


def emit_json(document: Any) -> None:
    # Stored text is data: escaped C1/BiDi characters parse back to the same document.
    click.echo(json_safe(json.dumps(document, ensure_ascii=False, indent=2, default=str)))


def report(failure: Failure, *, as_json: bool, details: dict[str, Any] | None = None) -> NoReturn:
    """Print one failure on stderr as the contract says and exit with its code.

    Error text can quote a server's reply: it is scrubbed of secrets, and escaped for the terminal.
    """
    from lumina_tui.logs import scrub

    message = scrub(failure.message)
    if as_json:
        body = {**failure.as_dict(), "message": message}
        if details:
            body["details"] = details
        click.echo(json_safe(json.dumps({"error": body}, ensure_ascii=False, default=str)), err=True)
    else:
        click.echo(f"error: {terminal_safe(message)}", err=True)
    sys.exit(failure.exit_code)


def fail(
    code: str, message: str, *, field: str | None = None, exit_code: int = 2, as_json: bool = True
) -> NoReturn:
    report(Failure(code, message, field, exit_code), as_json=as_json)


def _loaded(module: str, name: str) -> type | None:
    loaded = sys.modules.get(module)
    found = getattr(loaded, name, None) if loaded is not None else None
    return found if isinstance(found, type) else None


def _is(exc: BaseException, module: str, name: str) -> bool:
    cls = _loaded(module, name)
    return cls is not None and isinstance(exc, cls)


def _click_failure(exc: click.ClickException) -> Failure:
    field = None
    param = getattr(exc, "param", None)
    option_name = getattr(exc, "option_name", None)
    if param is not None and param.name:
        field = param.name
    elif option_name:
        field = str(option_name).lstrip("-").replace("-", "_")
    if isinstance(exc, click.BadParameter | click.MissingParameter):
        code = "invalid"
    elif isinstance(exc, click.UsageError):
        code = "usage"
    else:
        code = "error"
    message = exc.format_message()
    if isinstance(exc, click.UsageError) and exc.ctx is not None:
        message = f"{message} (see '{exc.ctx.command_path} --help')"
    return Failure(code, message, field, exc.exit_code)


def failure_of(exc: BaseException) -> Failure | None:
    """The contract's error for a known family of exception; None for an unexpected one (a bug)."""
    for module, name in (
        ("lumina_tui.errors", "LuminaError"),  # the services' and the store's errors
        ("lumina_tui.config", "ConfigError"),
    ):
        if _is(exc, module, name):
            # _is() checked the class by name, so this module need not import the services' errors.
            body = exc.as_dict()  # type: ignore[attr-defined]  # a LuminaError or ConfigError (see _is)
            exit_code = exc.exit_code  # type: ignore[attr-defined]  # a LuminaError or ConfigError (see _is)
            return Failure(body["code"], body["message"], body.get("field"), exit_code)
    sqlite = sys.modules.get("sqlite3")
    if sqlite is not None and isinstance(getattr(exc, "orig", exc), sqlite.Error):
        # A SQLite failure outside the store's transactions (the queue file, a raw connection).
        from lumina_tui.store.errors import translate

        translated = translate(exc, None)
        if translated is not None:
            return Failure(translated.code, translated.message, translated.field, translated.exit_code)
    if _is(exc, "lumina_tui.queue", "QueueConfigurationError"):
        return Failure("queue_error", str(exc), "queue_url", 1)
    if isinstance(exc, click.ClickException):
        return _click_failure(exc)
    if isinstance(exc, _INPUT_FILE_ERRORS):
        where = exc.filename or "the file"
        code = "not_found" if isinstance(exc, FileNotFoundError) else "unreadable"
        return Failure(code, f"cannot read {where}: {exc.strerror or exc}", "file", 2)
    if isinstance(exc, OSError):
        if exc.errno == errno.ENOSPC:
            return Failure("disk_full", "the disk is full; nothing more could be written", None, 1)
        where = f" ({exc.filename})" if exc.filename else ""
        return Failure("io_error", f"{exc.strerror or exc.__class__.__name__}{where}", None, 1)
    if isinstance(exc, UnicodeError):
        return Failure("invalid_text", "some input is not valid UTF-8 text", None, 2)
    if isinstance(exc, OverflowError):
        return Failure("invalid", "a number given is too large", None, 2)
    if isinstance(exc, RecursionError):
        return Failure("too_complex", "the input is nested too deeply to be read", None, 2)
    return None


def _log_unexpected(exc: BaseException) -> str | None:
    """The traceback goes to the log file (secrets scrubbed); returns the file's path."""
    try:
        import logging

        from lumina_tui.config import log_dir
        from lumina_tui.logs import setup_logging

        path = setup_logging(log_dir())
        logging.getLogger("lumina_tui.cli").error(
            "unexpected %s", exc.__class__.__name__, exc_info=(type(exc), exc, exc.__traceback__)
        )
        return str(path)
    except Exception:  # the log itself may be what is broken (read-only, full disk)
        return None


def unexpected(exc: BaseException) -> Failure:
    where = _log_unexpected(exc)
    tail = f"; the details are in {where}" if where else ""
    return Failure("internal_error", f"unexpected {exc.__class__.__name__}{tail}", None, 1)


def exit_for(exc: BaseException, *, as_json: bool) -> NoReturn:
    """Report any exception as the contract says: a known family as itself, anything else as a bug."""
    if isinstance(exc, click.ClickException) and not as_json:
        exc.show()  # click's own "Usage: ... Error: ..." text, as a shell user expects
        sys.exit(exc.exit_code)
    failure = failure_of(exc)
    if failure is None:
        failure = unexpected(exc)
    details = getattr(exc, "details", None) if _is(exc, "lumina_tui.errors", "LuminaError") else None
    report(failure, as_json=as_json, details=details or None)


def run_guarded(action: Callable[[], T], *, as_json: bool) -> T:
    """Run a service call, turning every failure into the contract's stderr line and exit code."""
    try:
        return action()
    except (SystemExit, KeyboardInterrupt, click.exceptions.Exit, click.Abort):
        raise
    except Exception as exc:
        exit_for(exc, as_json=as_json)


def wants_json(argv: list[str]) -> bool:
    """Whether the command line asks for JSON (`--json` before a `--` end-of-options marker)."""
    for arg in argv:
        if arg == "--":
            return False
        if arg == "--json":
            return True
    return False


def check_text_arguments(ctx: click.Context) -> None:
    """Refuse a text argument that is not UTF-8 (the shell passed raw bytes), naming the option.

    Python keeps such bytes as lone surrogates; stored, they would fail half-way through a write
    or print as garbage. File paths are exempt: a file name may legally be any bytes.
    """
    for param in ctx.command.params:
        value = ctx.params.get(param.name or "")
        if isinstance(param.type, click.Path) or (param.name or "").endswith(("file", "path")):
            continue
        for text in value if isinstance(value, tuple | list) else (value,):
            if not isinstance(text, str):
                continue
            bad = next((i for i, char in enumerate(text) if "\udc80" <= char <= "\udcff"), None)
            if bad is None:
                continue
            byte = ord(text[bad]) - 0xDC00
            raise click.BadParameter(
                f"not valid UTF-8 text (byte 0x{byte:02x} at position {bad}); "
                "check the terminal's or the script's encoding",
                ctx=ctx,
                param=param,
            )
