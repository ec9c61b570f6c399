"""Provider webhooks and tracking links: the routes a provider or a prospect's mail client calls.

Neither carries a bearer token: a webhook is verified on its raw body (services/webhooks.py), a
tracking link by its HMAC (services/tracking.py). Webhook bodies are read raw (never parsed before
the signature is checked) and capped at `api.webhook_max_body_bytes` (413); the verification and
the write run in the threadpool, and the answer (200 with counts) goes back at once.
"""

from __future__ import annotations

import base64
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse
from starlette.concurrency import run_in_threadpool

from lumina_tui.api.deps import Ctx, server
from lumina_tui.services import tracking, webhooks

tracking_router = APIRouter(prefix="/t", tags=["tracking"])

# A transparent 1x1 GIF.
PIXEL = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")
NO_STORE = {"Cache-Control": "no-store, private", "Referrer-Policy": "no-referrer"}

_WEBHOOK_DOC: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": {}}},
    },
}


async def _webhook(provider: str, request: Request) -> dict[str, Any]:
    context = server(request)
    raw = await request.body()
    result = await run_in_threadpool(
        webhooks.receive,
        context.db,
        provider,
        raw,
        dict(request.headers),
        tolerance_seconds=context.settings.api.webhook_tolerance_seconds,
    )
    return result.as_json()


def webhook_router() -> APIRouter:
    """POST /webhooks/{mailgun,sendgrid,postmark} (their body limit: api/limits.py)."""
    router = APIRouter(prefix="/webhooks", tags=["webhooks"])
    for provider in webhooks.PROVIDERS:
        router.add_api_route(
            f"/{provider}",
            _handler(provider),
            methods=["POST"],
            summary=f"{provider.capitalize()} events (verified on the raw body)",
            openapi_extra=_WEBHOOK_DOC,
        )
    return router


def _handler(provider: str) -> Any:
    async def handler(request: Request) -> dict[str, Any]:
        return await _webhook(provider, request)

    handler.__name__ = f"{provider}_webhook"
    return handler


@tracking_router.get("/o/{token}", summary="The open-tracking pixel", response_class=Response)
def open_pixel(token: str, ctx: Ctx) -> Response:
    tracking.record_open(ctx.db, ctx.tracking_key, token)
    return Response(PIXEL, media_type="image/gif", headers=NO_STORE)


@tracking_router.get("/c/{token}", summary="A tracked link: to the URL signed into it, nowhere else")
def click(token: str, ctx: Ctx) -> RedirectResponse:
    url = tracking.record_click(ctx.db, ctx.tracking_key, token)
    return RedirectResponse(url, status_code=302, headers=NO_STORE)
