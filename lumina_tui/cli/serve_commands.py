"""`lumina serve`: the REST API, provider webhooks and tracking links (team mode, issue 13).

uvicorn runs `lumina_tui.api.app:create_app` as a factory, so `--workers N` starts N processes that
each build the app from the same settings and keyring. Its imports (FastAPI, uvicorn) load only here.
`lumina webhooks set PROVIDER` keeps a provider's verification key in the keyring (from stdin).
"""

from __future__ import annotations

import click

from lumina_tui.cli.output import emit_json, json_option, run_guarded


@click.command("serve")
@click.option("--host", default=None, help="Address to listen on (default: api.host, 127.0.0.1).")
@click.option("--port", type=click.IntRange(0, 65535), default=None, help="Port (default: api.port, 8000).")
@click.option("--workers", type=click.IntRange(1, 64), default=1, show_default=True, help="Server processes.")
def serve(host: str | None, port: int | None, workers: int) -> None:
    """Serve the REST API (bearer JWT), webhooks and tracking links until interrupted."""
    from lumina_tui.services.runtime import runtime

    rt = run_guarded(runtime, as_json=False)
    from lumina_tui.api.app import server_context

    run_guarded(lambda: server_context(rt.settings, rt.db), as_json=False)  # keys made once, up front
    import uvicorn

    uvicorn.run(
        "lumina_tui.api.app:create_app",
        factory=True,
        host=host or rt.settings.api.host,
        port=rt.settings.api.port if port is None else port,
        workers=workers,
        log_level="warning",
        server_header=False,
        # Longer than uvicorn's 5 s: a busy client reusing a connection must not meet its close.
        timeout_keep_alive=30,
        proxy_headers=False,
    )


@click.group("webhooks")
def webhooks() -> None:
    """Keep the providers' webhook verification keys (in the keyring)."""


@webhooks.command("set")
@click.argument("provider", type=click.Choice(["mailgun", "sendgrid", "postmark"]))
@json_option
def set_key(provider: str, as_json: bool) -> None:
    """Read PROVIDER's key from stdin: Mailgun's signing key, SendGrid's verification key (base64),
    or Postmark's `user:password` for basic auth."""
    from lumina_tui.cli.account_commands import _read_secret
    from lumina_tui.services import webhooks as service

    run_guarded(lambda: service.configure(provider, _read_secret("key")), as_json=as_json)
    if as_json:
        emit_json({"provider": provider, "configured": True})
    else:
        click.echo(f"{provider} webhook key stored in the keyring; point {provider} at /webhooks/{provider}")
