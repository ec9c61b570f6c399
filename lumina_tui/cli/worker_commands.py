"""`lumina worker`: run the send worker in the foreground (the composer normally starts it as a sidecar)."""

from __future__ import annotations

import sys

import click

from lumina_tui.cli.output import fail, run_guarded


@click.command("worker")
@click.option(
    "--exit-when-idle",
    type=click.FloatRange(min=0),
    default=None,
    metavar="SECONDS",
    help="Exit after this many seconds with no email pending (how the sidecar runs).",
)
def worker(exit_when_idle: float | None) -> None:
    """Deliver queued emails. SIGTERM or ctrl+c lets the current send finish, then exits."""
    from lumina_tui.queue import QueueConfigurationError
    from lumina_tui.worker.run import run_worker

    def start() -> int:
        return run_worker(exit_when_idle=exit_when_idle, say=lambda line: click.echo(line, err=True))

    try:
        code = run_guarded(start, as_json=False)
    except QueueConfigurationError as exc:
        fail("queue_error", str(exc), exit_code=1, as_json=False)
    sys.exit(code)
