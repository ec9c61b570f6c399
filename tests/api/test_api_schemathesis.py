"""schemathesis against `lumina serve`'s own OpenAPI document: no input makes a server error.

In-process (ASGI), over a real SQLite store seeded with a prospect, a draft and a queued email, with a
valid bearer token, so the generated requests reach the services and not only the 401 gate. Both
schema-conforming and non-conforming data are generated; the one check is "not a 5xx". The number
of examples per operation is bounded for CI (LUMINA_API_FUZZ_EXAMPLES, default 3; each operation
also gets schemathesis's coverage phase: boundary and negative cases).
"""

from __future__ import annotations

import os

import pytest
import schemathesis
from api_support import send_through_api, team_workspace
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from schemathesis.checks import not_a_server_error

from lumina_tui.api.app import create_app

EXAMPLES = int(os.environ.get("LUMINA_API_FUZZ_EXAMPLES", "3"))


@pytest.fixture
def api_world(settings, db):
    ws = team_workspace(db, "Fuzz", "lead@fuzz.test")
    app = create_app(settings, db=db)
    from fastapi.testclient import TestClient

    with TestClient(app) as client:
        pid = send_through_api(client, ws).prospect_id
        client.post("/emails/draft", headers=ws.headers, json={"prospect_id": pid, "subject": "Open"})
    return app, ws


@pytest.fixture
def api_schema(api_world):
    app, _ws = api_world
    return schemathesis.openapi.from_asgi("/openapi.json", app)


@pytest.fixture
def auth_headers(api_world):
    return api_world[1].headers


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@hypothesis_settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_no_input_makes_a_server_error(case, auth_headers) -> None:
    case.call_and_validate(headers=auth_headers, checks=[not_a_server_error])
