"""The server's threads: handlers in a pool of api.threads, the model-bound AI routes in their own.

FastAPI runs plain-def handlers through anyio's default thread limiter (40 by default); `lumina
serve` sizes it from the settings at start-up, and the AI routes, which wait seconds on a model,
take their threads from a separate limiter so a burst of them cannot hold every handler thread.
"""

from __future__ import annotations

import threading
from typing import Any

import anyio.to_thread
from api_support import client_for, send_through_api, team_workspace


def test_the_handler_and_ai_pools_follow_the_settings(settings: Any, db: Any) -> None:
    settings.api.threads = 3
    settings.api.ai_threads = 2
    with client_for(settings, db) as api:
        assert api.portal is not None
        tokens = api.portal.call(lambda: anyio.to_thread.current_default_thread_limiter().total_tokens)
        assert tokens == 3
        assert api.app.state.lumina.ai_limiter.total_tokens == 2  # type: ignore[attr-defined]


def test_a_request_waiting_on_the_model_holds_no_handler_thread(settings: Any, db: Any, monkeypatch) -> None:
    """With one handler thread, a /ai/personalize call that waits on the model does not stop a draft
    read from being answered (it waits in the AI routes' own threads), and then answers itself."""
    from lumina_tui.services import ai

    settings.api.threads = 1
    ws = team_workspace(db, "Northwind", "lead@north.test")
    release, entered = threading.Event(), threading.Event()
    real_personalize = ai.personalize

    def slow_model(*args: Any, **kwargs: Any) -> Any:
        entered.set()
        assert release.wait(60), "the draft read never answered while the AI request waited"
        return real_personalize(*args, **kwargs)

    with client_for(settings, db) as api:
        sent = send_through_api(api, ws)
        made = api.post(
            "/emails/draft",
            headers=ws.headers,
            json={"prospect_id": sent.prospect_id, "subject": "Hi", "body": "Hi Ana, a question."},
        )
        assert made.status_code == 201, made.text
        monkeypatch.setattr(ai, "personalize", slow_model)
        results: dict[str, Any] = {}
        body = {"draft_id": made.json()["id"], "tone": 0.3}
        waiting = threading.Thread(
            target=lambda: results.setdefault(
                "ai", api.post("/ai/personalize", headers=ws.headers, json=body)
            )
        )
        waiting.start()
        if not entered.wait(60):
            waiting.join(60)
            raise AssertionError(f"the AI request did not reach the model: {results}")
        read = api.get(f"/emails/drafts/{made.json()['id']}", headers=ws.headers)
        release.set()
        waiting.join(60)
        assert read.status_code == 200, read.text
        assert results["ai"].status_code == 200, results["ai"].text
        assert results["ai"].json()["operation"] == "personalize"
