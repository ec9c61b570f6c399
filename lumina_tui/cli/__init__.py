"""`lumina`: the composer, and every service verb as a scriptable command.

Commands load lazily (the table below maps a name to `module:attribute`) so that `lumina --help`
and `lumina --version` never import Textual, SQLModel or openai. The output contract lives in
`cli/output.py`: with `--json`, stdout is one JSON document; errors go to stderr as
`{"error": {code, field, message}}`; exit 0 ok, 2 bad input or state, 1 AI/provider/I-O failure.

`LazyGroup.main` is the one guard around every command: click's usage errors follow the JSON
contract under `--json`, a known failure anywhere becomes its documented error, and an unexpected
exception becomes a one-line error (exit 1) with the traceback in the log, never on the terminal.
Every command's text arguments are checked for bytes that are not UTF-8 before it runs.

To add a command group: write `lumina_tui/cli/<name>_commands.py` with a click command or group,
then add one line to `LAZY_COMMANDS`.
"""

from __future__ import annotations

import errno
import functools
import importlib
import sys
from typing import Any

import click

from lumina_tui import __version__

LAZY_COMMANDS: dict[str, str] = {
    "demo": "lumina_tui.cli.demo_commands:demo",
    "doctor": "lumina_tui.cli.doctor_commands:doctor",
    "prospects": "lumina_tui.cli.prospect_commands:prospects",
    "drafts": "lumina_tui.cli.draft_commands:drafts",
    "ai": "lumina_tui.cli.ai_commands:ai",
    "send": "lumina_tui.cli.send_commands:send",
    "emails": "lumina_tui.cli.send_commands:emails",
    "accounts": "lumina_tui.cli.account_commands:accounts",
    "worker": "lumina_tui.cli.worker_commands:worker",
    "stats": "lumina_tui.cli.stats_commands:stats",
    "alerts": "lumina_tui.cli.stats_commands:alerts",
    "team": "lumina_tui.cli.team_commands:team",
    "users": "lumina_tui.cli.team_commands:users",
    "serve": "lumina_tui.cli.serve_commands:serve",
    "webhooks": "lumina_tui.cli.serve_commands:webhooks",
}

HELP_LINES: dict[str, str] = {
    "demo": "Seed the demo workspace (prospects, companies, templates, a local outbox).",
    "doctor": "Show what is configured, where files are, which keyring backend.",
    "prospects": "Import, list, show and add prospects.",
    "drafts": "Create, show, list, save and delete drafts.",
    "ai": "Personalize, rewrite and score drafts; record feedback.",
    "send": "Send a draft (queued; the worker delivers it).",
    "emails": "List, show, retry, cancel and sync (replies, bounces) sent emails.",
    "accounts": "Add, list, test and remove sending accounts.",
    "worker": "Run the send worker (normally started for you as a sidecar).",
    "stats": "Sends, replies and bounces; templates ranked; alerts; what Lumina learned.",
    "alerts": "Mark alerts (replies, bounces, failures, sign-in) read.",
    "team": "Make this workspace a team whose users sign in (team mode).",
    "users": "Add, list and remove the team's users.",
    "serve": "Run the REST API, provider webhooks and tracking (team mode).",
    "webhooks": "Keep the providers' webhook verification keys.",
}


def _checked(command: click.Command) -> click.Command:
    """Wrap the callbacks of `command` and its subcommands so their text arguments are checked first."""
    callback = command.callback
    if callback is not None and not getattr(callback, "_lumina_checked", False):

        @functools.wraps(callback)
        def checked(*args: Any, **kwargs: Any) -> Any:
            from lumina_tui.cli.output import check_text_arguments

            check_text_arguments(click.get_current_context())
            return callback(*args, **kwargs)

        checked._lumina_checked = True  # type: ignore[attr-defined]  # a marker on the wrapper: wrap once
        command.callback = checked
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            _checked(sub)
    return command


class LazyGroup(click.Group):
    """A group whose subcommands are imported only when invoked; its `main` is the error guard."""

    # click types main() as two overloads (standalone_mode=True never returns); one signature serves both.
    def main(  # type: ignore[override]  # see the line above
        self,
        args: list[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        from lumina_tui.cli.output import exit_for, wants_json

        argv = list(sys.argv[1:] if args is None else args)
        as_json = wants_json(argv)
        try:
            rv = super().main(argv, prog_name, complete_var, standalone_mode=False, **extra)
        except SystemExit:
            raise
        except (click.Abort, KeyboardInterrupt, EOFError):
            click.echo("\nerror: interrupted", err=True)
            sys.exit(130)
        except OSError as exc:
            if exc.errno == errno.EPIPE:  # the reader of our output went away (`| head`)
                sys.exit(1)
            exit_for(exc, as_json=as_json)
        except Exception as exc:
            exit_for(exc, as_json=as_json)
        sys.exit(rv if isinstance(rv, int) else 0)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(super().list_commands(ctx)) | set(self._available()))

    def _available(self) -> dict[str, str]:
        available = {}
        for name, target in LAZY_COMMANDS.items():
            module = target.split(":", 1)[0]
            if importlib.util.find_spec(module) is not None:
                available[name] = target
        return available

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        command = super().get_command(ctx, cmd_name)
        if command is not None:
            return _checked(command)
        target = self._available().get(cmd_name)
        if target is None:
            return None
        module_name, attribute = target.split(":", 1)
        return _checked(getattr(importlib.import_module(module_name), attribute))

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, HELP_LINES.get(name, "")) for name in self.list_commands(ctx)]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


@click.group(
    cls=LazyGroup, invoke_without_command=True, context_settings={"help_option_names": ["-h", "--help"]}
)
@click.version_option(__version__, "--version", prog_name="lumina")
@click.option("--draft", "draft_id", metavar="ID", help="Open this draft in the composer.")
@click.option("--no-worker", is_flag=True, help="Do not start the sidecar send worker.")
@click.pass_context
def main(ctx: click.Context, draft_id: str | None, no_worker: bool) -> None:
    """Lumina: write, personalize and send cold emails from the terminal."""
    if ctx.invoked_subcommand is not None:
        return
    from lumina_tui.cli.output import run_guarded

    def start() -> Any:
        from lumina_tui.cli.tui_entry import run_composer

        return run_composer(draft_id=draft_id, start_worker=not no_worker)

    run_guarded(start, as_json=False)


_checked(main)
