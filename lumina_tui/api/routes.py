"""The design document's endpoints (spec "API Endpoints (MVP)"), plus sign-in, events and stats.

Each handler is a plain `def` (FastAPI runs it in its threadpool, api.threads per process; the two
routes that wait on the model run in threads of their own, api.ai_threads), takes the caller's Actor from the
bearer token and hands it to the service verb; a workspace never sees another's rows because every
verb filters by `actor.workspace_id` (another workspace's id is simply not found: 404).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, TypeVar

import anyio
from fastapi import APIRouter, Header, Query, Response, status

from lumina_tui.api import schemas
from lumina_tui.api.deps import Caller, Ctx, ServerContext
from lumina_tui.services import drafts, outbox, prospects, sending, team, worker_control
from lumina_tui.services import events as events_service

MAX_OFFSET = 1_000_000_000
_T = TypeVar("_T")

auth_router = APIRouter(prefix="/auth", tags=["auth"])
router = APIRouter()


# -- sign-in ---------------------------------------------------------------------------------------


@auth_router.post("/token", summary="Sign in: an access token and a refresh token")
def sign_in(body: schemas.SignIn, ctx: Ctx) -> dict[str, Any]:
    pair = team.sign_in(
        ctx.db,
        email=body.email,
        password=body.password,
        workspace_id=body.workspace_id,
        key=ctx.jwt_key,
        access_seconds=ctx.settings.api.access_token_seconds,
        refresh_days=ctx.settings.api.refresh_token_days,
    )
    return pair.as_json()


@auth_router.post("/refresh", summary="A new token pair for a refresh token (which is used up)")
def refresh(body: schemas.RefreshRequest, ctx: Ctx) -> dict[str, Any]:
    pair = team.refresh(
        ctx.db,
        body.refresh_token,
        key=ctx.jwt_key,
        access_seconds=ctx.settings.api.access_token_seconds,
        refresh_days=ctx.settings.api.refresh_token_days,
    )
    return pair.as_json()


@auth_router.post("/logout", status_code=status.HTTP_204_NO_CONTENT, summary="Revoke a refresh token")
def logout(body: schemas.RefreshRequest, ctx: Ctx) -> Response:
    team.sign_out(ctx.db, body.refresh_token)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@auth_router.get("/me", summary="Who the token speaks for")
def me(actor: Caller, ctx: Ctx) -> dict[str, Any]:
    user = next(u for u in team.list_users(ctx.db, actor) if u.id == actor.user_id)
    return team.as_json(user)


# -- drafts ----------------------------------------------------------------------------------------


@router.get("/emails/drafts/{draft_id}", tags=["drafts"])
def get_draft(draft_id: str, actor: Caller, ctx: Ctx) -> dict[str, Any]:
    draft = drafts.get(ctx.db, actor, draft_id)
    return drafts.as_json(draft, drafts.status_of(ctx.db, actor, draft))


@router.get("/emails/drafts", tags=["drafts"])
def list_drafts(
    actor: Caller,
    ctx: Ctx,
    include_sent: bool = False,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> dict[str, Any]:
    page = drafts.list_overview(ctx.db, actor, include_sent=include_sent, limit=limit, offset=offset)
    return page.as_json(lambda row: drafts.as_json(row.draft, row.status))


@router.post("/emails/draft", status_code=status.HTTP_201_CREATED, tags=["drafts"])
def create_draft(body: schemas.DraftCreate, actor: Caller, ctx: Ctx) -> dict[str, Any]:
    draft = drafts.create(
        ctx.db,
        actor,
        prospect_id=body.prospect_id,
        subject=body.subject,
        body=body.body,
        template_id=body.template_id,
        account_id=body.account_id,
        draft_id=body.id,
    )
    return drafts.as_json(draft)


@router.put("/emails/draft/{draft_id}", tags=["drafts"])
def save_draft(draft_id: str, body: schemas.DraftSave, actor: Caller, ctx: Ctx) -> dict[str, Any]:
    result = drafts.save(
        ctx.db,
        actor,
        draft_id,
        body.revision,
        subject=body.subject,
        body=body.body,
        prospect_id=body.prospect_id,
        template_id=body.template_id,
        account_id=body.account_id,
        tone=body.tone,
    )
    return {**drafts.as_json(result.draft), "outcome": result.outcome}


@router.delete("/emails/draft/{draft_id}", status_code=status.HTTP_204_NO_CONTENT, tags=["drafts"])
def delete_draft(draft_id: str, actor: Caller, ctx: Ctx) -> Response:
    drafts.delete(ctx.db, actor, draft_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# -- AI --------------------------------------------------------------------------------------------
# These wait seconds on the model: each runs in the AI routes' own threads (ServerContext.ai_limiter),
# not in the handler pool the store-bound routes share (api.threads).


async def _in_ai_thread(ctx: ServerContext, call: Callable[[], _T]) -> _T:
    return await anyio.to_thread.run_sync(call, limiter=ctx.ai_limiter)


@router.post("/ai/personalize", tags=["ai"])
async def personalize(body: schemas.PersonalizeRequest, actor: Caller, ctx: Ctx) -> dict[str, Any]:
    from lumina_tui.services import ai

    def call() -> dict[str, Any]:
        suggestion = ai.personalize(
            ctx.db, actor, body.draft_id, body.tone, body.revision, settings=ctx.settings
        )
        return ai.suggestion_json(suggestion)

    return await _in_ai_thread(ctx, call)


@router.post("/ai/rewrite", tags=["ai"])
async def rewrite(body: schemas.RewriteRequest, actor: Caller, ctx: Ctx) -> dict[str, Any]:
    from lumina_tui.services import ai

    def call() -> dict[str, Any]:
        suggestion = ai.rewrite(
            ctx.db, actor, body.draft_id, body.instruction, body.revision, settings=ctx.settings
        )
        return ai.suggestion_json(suggestion)

    return await _in_ai_thread(ctx, call)


@router.post("/ai/score", tags=["ai"])
def score(body: schemas.ScoreRequest, actor: Caller, ctx: Ctx) -> dict[str, Any]:
    from lumina_tui.services import ai

    return ai.score_json(ai.score(ctx.db, actor, body.draft_id))


@router.post("/ai/feedback", status_code=status.HTTP_201_CREATED, tags=["ai"])
def feedback(body: schemas.FeedbackRequest, actor: Caller, ctx: Ctx) -> dict[str, Any]:
    from lumina_tui.services import ai

    row = ai.feedback(
        ctx.db,
        actor,
        body.suggestion_id,
        body.action,
        body.note,
        draft_id=body.draft_id,
        tone=body.tone,
        kind=body.kind,
    )
    return ai.feedback_json(row)


# -- sending ---------------------------------------------------------------------------------------


@router.post(
    "/emails/send",
    status_code=status.HTTP_202_ACCEPTED,
    tags=["emails"],
    summary="Queue a draft for sending, exactly once per Idempotency-Key",
    responses={200: {"description": "The same key and request again: the email already queued"}},
)
def send(
    body: schemas.SendRequest,
    actor: Caller,
    ctx: Ctx,
    response: Response,
    idempotency_key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            description="The same semantics as `lumina send --idempotency-key`: a retry with the same "
            "key and request returns the first email; the key with another request is a 409.",
        ),
    ] = None,
) -> dict[str, Any]:
    result = sending.send(
        ctx.db,
        actor,
        draft_id=body.draft_id,
        idempotency_key=idempotency_key,
        from_account=body.from_account,
        to_email=body.to_email,
        revision=body.revision,
        accepted_suggestion_ids=body.accepted_suggestion_ids,
        settings=ctx.settings,
    )
    if result.created:
        worker_control.ensure_running(ctx.settings)  # as before: the send service itself starts none
    else:
        response.status_code = status.HTTP_200_OK
    return {**outbox.as_json(result.email), "created": result.created}


@router.get("/emails", tags=["emails"])
def list_emails(
    actor: Caller,
    ctx: Ctx,
    status_filter: Annotated[str | None, Query(alias="status")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> dict[str, Any]:
    page = outbox.list_emails(ctx.db, actor, status=status_filter, limit=limit, offset=offset)
    return page.as_json(outbox.as_json)


@router.get("/emails/{email_id}", tags=["emails"])
def get_email(email_id: str, actor: Caller, ctx: Ctx) -> dict[str, Any]:
    return outbox.as_json(outbox.get_email(ctx.db, actor, email_id))


@router.get("/emails/{email_id}/events", tags=["emails"])
def email_events(email_id: str, actor: Caller, ctx: Ctx) -> dict[str, Any]:
    rows = events_service.list_events(ctx.db, actor, email_id)
    return {"items": [events_service.as_json(row) for row in rows], "total": len(rows)}


@router.post("/emails/{email_id}/cancel", tags=["emails"], summary="Undo a send still waiting")
def cancel_email(email_id: str, actor: Caller, ctx: Ctx) -> dict[str, Any]:
    result = outbox.cancel(ctx.db, actor, email_id)
    return {**outbox.as_json(result.email), "new_draft_id": result.draft_id}


# -- prospects -------------------------------------------------------------------------------------


@router.get("/prospects", tags=["prospects"])
def list_prospects(
    actor: Caller,
    ctx: Ctx,
    search: Annotated[str | None, Query(max_length=500)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> dict[str, Any]:
    page = prospects.list_prospects(ctx.db, actor, search=search, limit=limit, offset=offset)
    return page.as_json(prospects.as_json)


@router.get("/prospects/{prospect_id}", tags=["prospects"])
def get_prospect(prospect_id: str, actor: Caller, ctx: Ctx) -> dict[str, Any]:
    return prospects.as_json(prospects.get(ctx.db, actor, prospect_id))


@router.post("/prospects", status_code=status.HTTP_201_CREATED, tags=["prospects"])
def create_prospect(body: schemas.ProspectCreate, actor: Caller, ctx: Ctx) -> dict[str, Any]:
    fields = body.model_dump()
    email = fields.pop("email")
    return prospects.as_json(prospects.create(ctx.db, actor, email=email, **fields))


@router.put("/prospects/{prospect_id}", tags=["prospects"])
def update_prospect(
    prospect_id: str, body: schemas.ProspectUpdate, actor: Caller, ctx: Ctx
) -> dict[str, Any]:
    changes = body.model_dump(exclude_unset=True)
    return prospects.as_json(prospects.update(ctx.db, actor, prospect_id, **changes))


# -- stats -----------------------------------------------------------------------------------------


@router.get("/stats", tags=["stats"])
def stats(actor: Caller, ctx: Ctx, days: Annotated[int, Query(ge=1, le=366)] = 14) -> dict[str, Any]:
    from lumina_tui.services import stats as stats_service

    return stats_service.stats(ctx.db, actor, days=days)
