"""The CLI's output contract: JSON documents on stdout, errors on stderr, exit codes by error type."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import Any, NoReturn, TypeVar

import click

from lumina_tui.services.terminal_text import json_safe, terminal_safe

T = TypeVar("T")

json_option = click.option("--json", "as_json", is_flag=True, help="Print one JSON document on stdout.")


def emit_json(document: Any) -> None:
    # Stored text is data: escaped C1/BiDi characters parse back to the same document.
    click.echo(json_safe(json.dumps(document, ensure_ascii=False, indent=2, default=str)))


def fail(
    code: str, message: str, *, field: str | None = None, exit_code: int = 2, as_json: bool = True
) -> NoReturn:
    from lumina_tui.logs import scrub

    message = scrub(message)  # error text can quote a server's reply: never print a secret
    if as_json:
        body = {"error": {"code": code, "field": field, "message": message}}
        click.echo(json_safe(json.dumps(body, ensure_ascii=False)), err=True)
    else:
        click.echo(f"error: {terminal_safe(message)}", err=True)
    sys.exit(exit_code)


def run_guarded(action: Callable[[], T], *, as_json: bool) -> T:
    """Run a service call, turning Lumina errors into the contract's stderr JSON and exit code."""
    from lumina_tui.services.errors import LuminaError

    try:
        return action()
    except LuminaError as exc:
        if as_json:
            document = json.dumps({"error": exc.as_dict()}, ensure_ascii=False, default=str)
            click.echo(json_safe(document), err=True)
        else:
            click.echo(f"error: {terminal_safe(exc.message)}", err=True)
        sys.exit(exc.exit_code)
    except OSError as exc:
        fail("io_error", f"{exc.__class__.__name__}: {exc}", exit_code=1, as_json=as_json)
