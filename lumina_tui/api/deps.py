"""What every handler needs: the server's context (settings, store, keys) and the caller's Actor."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated

import anyio
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from lumina_tui.config import Settings
from lumina_tui.services import team
from lumina_tui.services.actors import Actor
from lumina_tui.services.errors import AuthenticationError

if TYPE_CHECKING:
    from lumina_tui.services.runtime import Database


@dataclass(frozen=True)
class ServerContext:
    """One per server process: read once at start-up (the keys come from the keyring)."""

    settings: Settings
    db: Database
    jwt_key: str
    tracking_key: str
    # The AI routes' own threads (api.ai_threads, set at start-up): they wait on the model.
    ai_limiter: anyio.CapacityLimiter = field(default_factory=lambda: anyio.CapacityLimiter(16))


def server(request: Request) -> ServerContext:
    context: ServerContext = request.app.state.lumina
    return context


async def _context(request: Request) -> ServerContext:
    """`server` as a dependency. Async on purpose: it only reads app.state, and FastAPI runs a
    plain-def dependency in its thread pool, one more hand-off (and GIL switch) per request for
    nothing; under load each hand-off costs milliseconds."""
    return server(request)


_bearer = HTTPBearer(auto_error=False, description="An access token from POST /auth/token.")


def current_actor(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Actor:
    """The workspace and user the bearer token speaks for; 401 for a missing or bad token."""
    if credentials is None or not credentials.credentials:
        raise AuthenticationError("a bearer token is required (Authorization: Bearer <access token>)")
    context = server(request)
    return team.authenticate(context.db, credentials.credentials, key=context.jwt_key)


Ctx = Annotated[ServerContext, Depends(_context)]
Caller = Annotated[Actor, Depends(current_actor)]
