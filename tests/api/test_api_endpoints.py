"""`lumina serve`'s REST endpoints over the real services and a real SQLite file (issue 13 point 4).

The app runs in-process through Starlette's TestClient (httpx underneath); test_api_server_process.py
runs the same flow against a real `lumina serve` process.
"""

from __future__ import annotations

import json
import uuid

from api_support import PASSWORD, client_for


def _error(response) -> dict:
    body = response.json()
    assert set(body) == {"error"}, body
    assert {"code", "field", "message"} <= set(body["error"])
    return body["error"]


def test_sign_in_refresh_and_me(api, ws) -> None:
    signed = api.post("/auth/token", json={"email": "lead@north.test", "password": PASSWORD})
    assert signed.status_code == 200
    pair = signed.json()
    assert pair["token_type"] == "bearer" and pair["expires_in"] == 900
    me = api.get("/auth/me", headers={"Authorization": f"Bearer {pair['access_token']}"})
    assert me.status_code == 200 and me.json()["email"] == "lead@north.test"
    wrong = api.post("/auth/token", json={"email": "lead@north.test", "password": "nope nope nope"})
    assert wrong.status_code == 401 and _error(wrong)["code"] == "unauthorized"
    assert wrong.headers["www-authenticate"] == "Bearer"
    again = api.post("/auth/refresh", json={"refresh_token": pair["refresh_token"]})
    assert again.status_code == 200
    reused = api.post("/auth/refresh", json={"refresh_token": pair["refresh_token"]})
    assert reused.status_code == 401
    # Reuse revoked the family: the newer token is dead too.
    assert api.post("/auth/refresh", json={"refresh_token": again.json()["refresh_token"]}).status_code == 401


def test_drafts_crud_and_the_save_rule(api, ws) -> None:
    prospect = api.post(
        "/prospects", headers=ws.headers, json={"email": "ana@bright.test", "first_name": "Ana"}
    )
    assert prospect.status_code == 201, prospect.text
    pid = prospect.json()["id"]
    draft_id = str(uuid.uuid4())
    created = api.post(
        "/emails/draft",
        headers=ws.headers,
        json={"id": draft_id, "prospect_id": pid, "subject": "Hello", "body": "Hi Ana"},
    )
    assert created.status_code == 201, created.text
    assert created.json()["revision"] == 1
    saved = api.put(
        f"/emails/draft/{draft_id}",
        headers=ws.headers,
        json={"revision": 2, "subject": "Hello again", "body": "Hi Ana,\n\nmore", "prospect_id": pid},
    )
    assert saved.status_code == 200 and saved.json()["outcome"] == "updated"
    conflict = api.put(
        f"/emails/draft/{draft_id}", headers=ws.headers, json={"revision": 2, "subject": "Other"}
    )
    assert conflict.status_code == 409 and _error(conflict)["field"] == "revision"
    older = api.put(f"/emails/draft/{draft_id}", headers=ws.headers, json={"revision": 1, "subject": "x"})
    assert older.json()["outcome"] == "ignored_older"
    got = api.get(f"/emails/drafts/{draft_id}", headers=ws.headers)
    assert got.status_code == 200 and got.json()["subject"] == "Hello again"
    listed = api.get("/emails/drafts", headers=ws.headers).json()
    assert [d["id"] for d in listed["items"]] == [draft_id]
    assert api.delete(f"/emails/draft/{draft_id}", headers=ws.headers).status_code == 204
    gone = api.get(f"/emails/drafts/{draft_id}", headers=ws.headers)
    assert gone.status_code == 404 and _error(gone)["code"] == "not_found"


def test_bad_input_is_a_json_error_naming_the_field(api, ws) -> None:
    bad_id = api.get("/emails/drafts/not-a-uuid", headers=ws.headers)
    assert bad_id.status_code == 400 and _error(bad_id)["field"] == "draft_id"
    unknown = api.post("/prospects", headers=ws.headers, json={"email": "a@b.test", "shoe_size": 9})
    assert unknown.status_code == 422 and _error(unknown)["field"] == "shoe_size"
    bad_email = api.post("/prospects", headers=ws.headers, json={"email": "not an address"})
    assert bad_email.status_code == 400 and _error(bad_email)["field"] == "email"
    not_json = api.post(
        "/prospects", headers={**ws.headers, "Content-Type": "application/json"}, content=b"{nope"
    )
    assert not_json.status_code == 422 and _error(not_json)["code"] == "invalid"
    no_route = api.get("/nowhere", headers=ws.headers)
    assert no_route.status_code == 404 and _error(no_route)["code"] == "not_found"
    assert api.get("/prospects", headers=ws.headers).json()["total"] == 0  # nothing was stored


def test_oversized_bodies_get_413_and_store_nothing(api, ws, settings) -> None:
    limit = settings.api.max_body_bytes
    big = {"email": "big@bright.test", "first_name": "x" * (limit + 10)}
    response = api.post("/prospects", headers=ws.headers, json=big)
    assert response.status_code == 413
    assert _error(response)["code"] == "payload_too_large"

    def chunks():  # no Content-Length: the limit counts bytes as they arrive
        yield b'{"email": "big@bright.test", "first_name": "'
        for _ in range(limit // 65536 + 2):
            yield b"x" * 65536
        yield b'"}'

    streamed = api.post(
        "/prospects", headers={**ws.headers, "Content-Type": "application/json"}, content=chunks()
    )
    assert streamed.status_code == 413
    assert api.get("/prospects", headers=ws.headers).json()["total"] == 0


def _draft(api, ws, to: str = "ana@bright.test") -> str:
    pid = api.post("/prospects", headers=ws.headers, json={"email": to, "first_name": "Ana"}).json()["id"]
    draft = api.post(
        "/emails/draft",
        headers=ws.headers,
        json={
            "prospect_id": pid,
            "subject": "Research time",
            "body": "Hi Ana,\n\nA short note.\n\nJordan",
            "account_id": ws.account_id,
        },
    )
    assert draft.status_code == 201, draft.text
    return draft.json()["id"]


def test_send_honours_the_idempotency_key(api, ws) -> None:
    draft_id = _draft(api, ws)
    key = {"Idempotency-Key": "crm-7f1c"}
    first = api.post("/emails/send", headers={**ws.headers, **key}, json={"draft_id": draft_id})
    assert first.status_code == 202, first.text
    email = first.json()
    assert email["status"] == "PENDING_SEND" and email["created"] is True
    assert email["idempotency_key"] == "crm-7f1c"
    retry = api.post("/emails/send", headers={**ws.headers, **key}, json={"draft_id": draft_id})
    assert retry.status_code == 200 and retry.json()["id"] == email["id"] and retry.json()["created"] is False
    other = api.post(
        "/emails/send",
        headers={**ws.headers, **key},
        json={"draft_id": draft_id, "to_email": "someone@else.test"},
    )
    assert other.status_code == 409 and _error(other)["code"] == "idempotency_conflict"
    again = api.post(
        "/emails/send", headers={**ws.headers, "Idempotency-Key": "crm-other"}, json={"draft_id": draft_id}
    )
    assert again.status_code == 409 and _error(again)["code"] == "already_sent"
    got = api.get(f"/emails/{email['id']}", headers=ws.headers)
    assert got.status_code == 200 and got.json()["subject"] == "Research time"
    events = api.get(f"/emails/{email['id']}/events", headers=ws.headers).json()
    assert [e["event_type"] for e in events["items"]] == ["queued"]
    listed = api.get("/emails", headers=ws.headers, params={"status": "pending_send"}).json()
    assert [e["id"] for e in listed["items"]] == [email["id"]]
    cancelled = api.post(f"/emails/{email['id']}/cancel", headers=ws.headers)
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "CANCELLED"


def test_ai_endpoints_and_stats(api, ws) -> None:
    draft_id = _draft(api, ws)
    scored = api.post("/ai/score", headers=ws.headers, json={"draft_id": draft_id})
    assert scored.status_code == 200, scored.text
    assert 0 <= scored.json()["reply_probability"] <= 1
    personalized = api.post("/ai/personalize", headers=ws.headers, json={"draft_id": draft_id, "tone": 0.3})
    assert personalized.status_code == 200, personalized.text
    suggestion = personalized.json()
    rewritten = api.post(
        "/ai/rewrite", headers=ws.headers, json={"draft_id": draft_id, "instruction": "make it more formal"}
    )
    assert rewritten.status_code == 200, rewritten.text
    feedback = api.post(
        "/ai/feedback",
        headers=ws.headers,
        json={
            "suggestion_id": suggestion["suggestion_id"],
            "action": "accepted",
            "draft_id": draft_id,
            "tone": suggestion["tone"],
            "kind": suggestion["operation"],
        },
    )
    assert feedback.status_code == 201, feedback.text
    bad = api.post(
        "/ai/feedback", headers=ws.headers, json={"suggestion_id": suggestion["suggestion_id"], "action": "x"}
    )
    assert bad.status_code == 400 and _error(bad)["field"] == "action"
    stats = api.get("/stats", headers=ws.headers, params={"days": 7})
    assert stats.status_code == 200 and "totals" in stats.json()


def test_openapi_document_lists_the_design_endpoints(api) -> None:
    document = api.get("/openapi.json").json()
    paths = document["paths"]
    for path, method in [
        ("/emails/drafts/{draft_id}", "get"),
        ("/emails/draft", "post"),
        ("/emails/draft/{draft_id}", "put"),
        ("/emails/draft/{draft_id}", "delete"),
        ("/ai/personalize", "post"),
        ("/ai/rewrite", "post"),
        ("/ai/score", "post"),
        ("/ai/feedback", "post"),
        ("/emails/send", "post"),
        ("/emails/{email_id}", "get"),
        ("/emails/{email_id}/events", "get"),
        ("/prospects", "get"),
        ("/prospects/{prospect_id}", "get"),
        ("/prospects", "post"),
        ("/prospects/{prospect_id}", "put"),
        ("/stats", "get"),
    ]:
        assert method in paths[path], (path, method)
    assert "HTTPBearer" in json.dumps(document["components"]["securitySchemes"])
    send_params = {p["name"] for p in paths["/emails/send"]["post"]["parameters"]}
    assert "Idempotency-Key" in send_params


def test_a_locked_store_is_503_with_retry_after_and_no_traceback(settings, ws) -> None:
    """Another process holds SQLite's write lock past the busy timeout: 503, the CLI's error shape."""
    import sqlite3

    from lumina_tui.store import Database

    quick = Database(settings.resolved_database_url, busy_timeout_seconds=0.2)
    quick.migrate()
    holder = sqlite3.connect(settings.db_path, isolation_level=None)
    try:
        with client_for(settings, quick) as api:
            holder.execute("BEGIN IMMEDIATE")
            locked = api.post("/prospects", headers=ws.headers, json={"email": "ana@bright.test"})
            holder.execute("ROLLBACK")
            assert locked.status_code == 503, locked.text
            assert locked.headers["retry-after"] == "1"
            assert _error(locked)["code"] == "database_locked"
            assert "Traceback" not in locked.text
            assert (
                api.post("/prospects", headers=ws.headers, json={"email": "ana@bright.test"}).status_code
                == 201
            )
    finally:
        holder.close()
        quick.dispose()
