"""Workspace isolation through every endpoint and the service verbs behind them (issue 13).

Two team workspaces on one database (SQLite and PostgreSQL): B's token gets 404 for each of A's ids
on every endpoint that takes one, B's lists show none of A's rows, and nothing of A's changes. Every
operation that needs a token answers 401 to no token, an expired one, a forged signature and
`alg: none`; the test walks the OpenAPI document, so an endpoint added later is checked too.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from api_support import access_claims, client_for, rows_snapshot, send_through_api, team_workspace

from lumina_tui.services import (
    accounts,
    ai,
    drafts,
    events,
    outbox,
    prospects,
    sending,
    stats,
    suppressions,
    team,
    tracking,
)
from lumina_tui.services.errors import NotFoundError, ValidationError

# Two workspaces on one database, on both engines (PostgreSQL skips, saying why, where it cannot start).
pytestmark = pytest.mark.parametrize("store_engine", ["sqlite", "postgresql"], indirect=True)


@pytest.fixture
def world(settings, db):
    a = team_workspace(db, "Alpha", "lead@alpha.test")
    b = team_workspace(db, "Beta", "lead@beta.test")
    with client_for(settings, db) as api:
        sent = send_through_api(api, a)
        draft = api.post(
            "/emails/draft",
            headers=a.headers,
            json={"prospect_id": sent.prospect_id, "subject": "Open draft"},
        ).json()
        yield {
            "api": api,
            "a": a,
            "b": b,
            "ids": {
                "prospect": sent.prospect_id,
                "prospect_email": "ana@bright.test",
                "draft": draft["id"],
                "sent_draft": sent.draft_id,
                "email": sent.email["id"],
                "account": a.account_id,
            },
        }


def test_b_gets_404_for_every_one_of_as_ids(world, settings, db) -> None:
    api, b, ids = world["api"], world["b"], world["ids"]
    before = rows_snapshot(db)
    h = b.headers
    calls = [
        api.get(f"/emails/drafts/{ids['draft']}", headers=h),
        api.put(f"/emails/draft/{ids['draft']}", headers=h, json={"revision": 5, "subject": "mine now"}),
        api.delete(f"/emails/draft/{ids['draft']}", headers=h),
        api.get(f"/emails/{ids['email']}", headers=h),
        api.get(f"/emails/{ids['email']}/events", headers=h),
        api.post(f"/emails/{ids['email']}/cancel", headers=h),
        api.post("/emails/send", headers=h, json={"draft_id": ids["draft"]}),
        api.post("/ai/score", headers=h, json={"draft_id": ids["draft"]}),
        api.post("/ai/personalize", headers=h, json={"draft_id": ids["draft"]}),
        api.post("/ai/rewrite", headers=h, json={"draft_id": ids["draft"], "instruction": "more formal"}),
        api.get(f"/prospects/{ids['prospect']}", headers=h),
        api.get(f"/prospects/{ids['prospect_email']}", headers=h),
        api.put(f"/prospects/{ids['prospect']}", headers=h, json={"first_name": "Mallory"}),
        api.post(
            "/ai/feedback",
            headers=h,
            json={"suggestion_id": "0" * 64, "action": "accepted", "draft_id": ids["draft"]},
        ),
    ]
    for response in calls:
        assert response.status_code == 404, (response.request.method, response.request.url, response.text)
        assert response.json()["error"]["code"] == "not_found"
    # A's ids as references in B's own writes are unknown too (400 naming the field), never linked.
    linked = api.post("/emails/draft", headers=h, json={"prospect_id": ids["prospect"]})
    assert linked.status_code == 400 and linked.json()["error"]["field"] == "prospect_id"
    via_account = api.post("/emails/draft", headers=h, json={"account_id": ids["account"]})
    assert via_account.status_code == 400 and via_account.json()["error"]["field"] == "account_id"
    # Lists show none of A's rows.
    for path in ("/prospects", "/emails", "/emails/drafts?include_sent=true"):
        assert api.get(path, headers=h).json() == {"items": [], "total": 0}, path
    assert api.get("/stats", headers=h).json()["totals"]["sent"] == 0
    assert rows_snapshot(db) == before  # nothing of anyone's changed
    # And A still sees its own.
    assert api.get(f"/emails/{ids['email']}", headers=world["a"].headers).status_code == 200


def test_every_service_verb_behind_the_endpoints_is_scoped(world, db, settings) -> None:
    """The verbs the isolation test of issue 3 does not cover (sending, events, AI, stats, accounts,
    suppressions, team, tracking), called as B with A's ids."""
    b, ids = world["b"].actor, world["ids"]
    before = rows_snapshot(db)
    not_found = [
        lambda: outbox.get_email(db, b, ids["email"]),
        lambda: outbox.cancel(db, b, ids["email"]),
        lambda: outbox.retry(db, b, ids["email"], settings=settings),
        lambda: outbox.list_events(db, b, ids["email"]),
        lambda: events.list_events(db, b, ids["email"]),
        lambda: sending.send(db, b, draft_id=ids["draft"], settings=settings),
        lambda: ai.score(db, b, ids["draft"]),
        lambda: ai.personalize(db, b, ids["draft"], settings=settings),
        lambda: ai.rewrite(db, b, ids["draft"], "more formal", settings=settings),
        lambda: accounts.get_account(db, b, ids["account"]),
        lambda: accounts.remove_account(db, b, ids["account"]),
        lambda: tracking.set_tracking(db, b, ids["account"], True),
        lambda: team.remove_user(db, b, world["a"].actor.user_id),
        lambda: team.remove_user(db, b, "lead@alpha.test"),
    ]
    for call in not_found:
        with pytest.raises((NotFoundError, ValidationError)):
            call()
    assert outbox.list_emails(db, b).total == 0
    assert outbox.last_sent_to(db, b, "ana@bright.test") is None
    assert drafts.list_drafts(db, b, include_sent=True).total == 0
    assert prospects.list_prospects(db, b).total == 0
    assert accounts.list_accounts(db, b)[0].id == world["b"].account_id
    assert len(accounts.list_accounts(db, b)) == 1
    assert [u.email for u in team.list_users(db, b)] == ["lead@beta.test"]
    assert stats.stats(db, b)["totals"]["sent"] == 0
    suppressions.add(db, world["a"].actor, "ana@bright.test", "asked")
    assert suppressions.list_suppressions(db, b) == []
    before = rows_snapshot(db)
    with pytest.raises(NotFoundError):
        suppressions.remove(db, b, "ana@bright.test")
    assert rows_snapshot(db) == before


def test_every_protected_operation_refuses_bad_tokens_with_401(world) -> None:
    api, a = world["api"], world["a"]
    key = team.signing_key()
    now = datetime.now(UTC)
    bad_tokens = {
        "none": None,
        "expired": jwt.encode(
            access_claims(a.actor, iat=now - timedelta(hours=1), exp=now - timedelta(seconds=5)), key
        ),
        "forged": jwt.encode(access_claims(a.actor), "not the server's key, but long enough 0123456789"),
        "alg none": jwt.encode(access_claims(a.actor), None, algorithm="none"),
        "garbage": "abc.def.ghi",
        "refresh token as access": a.refresh_token,
    }
    document = api.get("/openapi.json").json()
    checked = 0
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            if not operation.get("security"):
                continue
            url = re.sub(r"\{[^}]+\}", str(uuid.uuid4()), path)
            for name, token in bad_tokens.items():
                headers = {} if token is None else {"Authorization": f"Bearer {token}"}
                kwargs = {"json": {}} if method in ("post", "put") else {}
                response = api.request(method.upper(), url, headers=headers, **kwargs)
                assert response.status_code == 401, (method, path, name, response.text)
                assert response.headers["www-authenticate"] == "Bearer"
                assert response.json()["error"]["code"] == "unauthorized"
            checked += 1
    assert checked >= 18  # the design's endpoints, events, stats, cancel, me
    # The valid token works on the same routes (a control: 401 is about the token).
    assert api.get("/prospects", headers=a.headers).status_code == 200
