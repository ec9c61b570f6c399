"""Fixtures of the API tests: a signed-in team workspace and an app client over the test's store.

The pieces they are made of (`team_workspace`, `client_for`, `send_through_api`, `access_claims`)
live in api_support.py, for tests that need a second workspace or other settings.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from api_support import Workspace, client_for, team_workspace
from fastapi.testclient import TestClient


@pytest.fixture
def ws(db: Any) -> Workspace:
    """A team workspace ("Northwind") with its owner signed in and a local sending account."""
    return team_workspace(db, "Northwind", "lead@north.test")


@pytest.fixture
def api(settings: Any, db: Any) -> Iterator[TestClient]:
    """The REST app over the test's store, through Starlette's TestClient."""
    with client_for(settings, db) as client:
        yield client
