"""`lumina team init`, `lumina users add|list|remove`: team mode's people (issue 13 point 3).

Passwords are read from stdin (a hidden prompt at a terminal), never from an argument, which any
user on the machine could read in `ps`. Only their argon2 hash is stored.
"""

from __future__ import annotations

from typing import Any

import click

from lumina_tui.cli.output import emit_json, json_option, run_guarded


def _runtime() -> Any:
    from lumina_tui.services.runtime import runtime

    return runtime()


def _password() -> str:
    from lumina_tui.cli.account_commands import _read_secret

    return _read_secret("password")


def _print_user(user: Any, verb: str, as_json: bool) -> None:
    from lumina_tui.services import team
    from lumina_tui.services.terminal_text import terminal_safe as safe

    if as_json:
        emit_json(team.as_json(user))
        return
    click.echo(f"{verb} {safe(user.email)} ({user.role}, id {user.id})")


@click.group("team")
def team() -> None:
    """Make this workspace a team whose users sign in to `lumina serve`."""


@team.command("init")
@click.option("--name", required=True, help="The team's name.")
@click.option("--email", required=True, help="Your email address: you become the team's owner.")
@click.option("--owner-name", default="", help="Your name.")
@json_option
def init(name: str, email: str, owner_name: str, as_json: bool) -> None:
    """Name the team and set your sign-in (the password is read from stdin)."""
    from lumina_tui.services import team as service

    rt = _runtime()

    def run() -> Any:
        password = _password()
        user = service.init_team(
            rt.db, rt.actor, name=name, owner_email=email, password=password, owner_name=owner_name
        )
        service.signing_key()  # made now, so `lumina serve` processes share one from the start
        return user

    user = run_guarded(run, as_json=as_json)
    _print_user(user, "Team ready; owner", as_json)


@click.group("users")
def users() -> None:
    """Add, list and remove the team's users."""


@users.command("add")
@click.argument("email")
@click.option("--name", default="", help="The user's name.")
@click.option("--role", type=click.Choice(["member", "owner"]), default="member", show_default=True)
@json_option
def add(email: str, name: str, role: str, as_json: bool) -> None:
    """Add a user who signs in with EMAIL (the password is read from stdin)."""
    from lumina_tui.services import team as service

    rt = _runtime()
    user = run_guarded(
        lambda: service.add_user(rt.db, rt.actor, email=email, password=_password(), name=name, role=role),
        as_json=as_json,
    )
    _print_user(user, "Added", as_json)


@users.command("list")
@click.option("--all", "include_removed", is_flag=True, help="Include removed users.")
@json_option
def list_(include_removed: bool, as_json: bool) -> None:
    """The team's users."""
    from lumina_tui.services import team as service
    from lumina_tui.services.terminal_text import terminal_safe as safe

    rt = _runtime()
    rows = run_guarded(
        lambda: service.list_users(rt.db, rt.actor, include_removed=include_removed), as_json=as_json
    )
    if as_json:
        emit_json({"items": [service.as_json(user) for user in rows], "total": len(rows)})
        return
    for user in rows:
        state = " (removed)" if user.removed_at else ("" if user.password_hash else " (cannot sign in)")
        click.echo(f"{user.id}  {safe(user.email):<32} {user.role:<6} {safe(user.name)}{state}")


@users.command("remove")
@click.argument("user")
@json_option
def remove(user: str, as_json: bool) -> None:
    """Remove USER (email or id): no more sign-ins; their refresh tokens are revoked at once."""
    from lumina_tui.services import team as service

    rt = _runtime()
    removed = run_guarded(lambda: service.remove_user(rt.db, rt.actor, user), as_json=as_json)
    _print_user(removed, "Removed", as_json)
