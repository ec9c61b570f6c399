"""Team mode's people: team init, users add/list/remove, sign-in, tokens (issue 13 point 3).

A real SQLite file and the in-memory keyring (tests/conftest.py); the JWT key never reaches SQLite.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from api_support import access_claims

from lumina_tui.services import team
from lumina_tui.services.errors import (
    AuthenticationError,
    ConflictError,
    InvalidStateError,
    NotFoundError,
    ValidationError,
)

PASSWORD = "correct horse battery"


@pytest.fixture
def owner(db, actor):
    return team.init_team(
        db, actor, name="Northwind sales", owner_email="Owner@North.test", password=PASSWORD
    )


def test_team_init_makes_the_local_user_the_owner_with_an_argon2_hash(db, actor, owner, settings) -> None:
    assert owner.id == actor.user_id and owner.role == "owner" and owner.email == "owner@north.test"
    assert owner.password_hash.startswith("$argon2id$")
    conn = sqlite3.connect(settings.db_path)
    dump = "\n".join(conn.iterdump())
    assert PASSWORD not in dump
    key = team.signing_key()
    assert key not in dump  # the JWT key lives in the keyring only
    with pytest.raises(ConflictError):
        team.init_team(db, actor, name="Again", owner_email="x@north.test", password=PASSWORD)


def test_bad_input_names_the_field_and_stores_nothing(db, actor, owner) -> None:
    with pytest.raises(ValidationError) as short:
        team.add_user(db, actor, email="ana@north.test", password="short")
    assert short.value.field == "password"
    with pytest.raises(ValidationError) as bad_email:
        team.add_user(db, actor, email="not an address", password=PASSWORD)
    assert bad_email.value.field == "email"
    with pytest.raises(ValidationError) as bad_role:
        team.add_user(db, actor, email="ana@north.test", password=PASSWORD, role="admin")
    assert bad_role.value.field == "role"
    assert [u.email for u in team.list_users(db, actor)] == ["owner@north.test"]


def test_sign_in_refresh_rotation_and_reuse_revokes_the_family(db, actor, owner) -> None:
    key = team.signing_key()
    pair = team.sign_in(db, email="owner@north.test", password=PASSWORD, key=key)
    assert team.authenticate(db, pair.access_token, key=key) == actor
    with pytest.raises(AuthenticationError):
        team.sign_in(db, email="owner@north.test", password=PASSWORD + "x", key=key)
    with pytest.raises(AuthenticationError) as unknown:
        team.sign_in(db, email="nobody@north.test", password=PASSWORD, key=key)
    assert unknown.value.message == team.WRONG_CREDENTIALS  # the same words: no user enumeration

    second = team.refresh(db, pair.refresh_token, key=key)
    assert second.refresh_token != pair.refresh_token
    third = team.refresh(db, second.refresh_token, key=key)
    # The first token again: it was copied; the whole family (third included) is revoked.
    with pytest.raises(AuthenticationError, match="already used"):
        team.refresh(db, pair.refresh_token, key=key)
    with pytest.raises(AuthenticationError):
        team.refresh(db, third.refresh_token, key=key)
    # A fresh sign-in is another family and works.
    fresh = team.sign_in(db, email="owner@north.test", password=PASSWORD, key=key)
    assert team.refresh(db, fresh.refresh_token, key=key).access_token


def test_refresh_tokens_are_stored_hashed(db, actor, owner, settings) -> None:
    pair = team.sign_in(db, email="owner@north.test", password=PASSWORD, key=team.signing_key())
    dump = "\n".join(sqlite3.connect(settings.db_path).iterdump())
    assert pair.refresh_token not in dump
    assert pair.access_token not in dump


def test_users_remove_revokes_refresh_tokens_and_access_tokens(db, actor, owner) -> None:
    key = team.signing_key()
    ana = team.add_user(db, actor, email="ana@north.test", password=PASSWORD, name="Ana")
    assert {u.email for u in team.list_users(db, actor)} == {"owner@north.test", "ana@north.test"}
    pair = team.sign_in(db, email="ana@north.test", password=PASSWORD, key=key)
    assert team.authenticate(db, pair.access_token, key=key).user_id == ana.id
    team.remove_user(db, actor, "ana@north.test")
    with pytest.raises(AuthenticationError):
        team.refresh(db, pair.refresh_token, key=key)
    with pytest.raises(AuthenticationError):
        team.authenticate(db, pair.access_token, key=key)
    with pytest.raises(AuthenticationError):
        team.sign_in(db, email="ana@north.test", password=PASSWORD, key=key)
    assert [u.email for u in team.list_users(db, actor)] == ["owner@north.test"]
    assert len(team.list_users(db, actor, include_removed=True)) == 2
    with pytest.raises(NotFoundError):
        team.remove_user(db, actor, "ana@north.test")
    with pytest.raises(InvalidStateError):
        team.remove_user(db, actor, "owner@north.test")
    # A member cannot add or remove people.
    bob = team.add_user(db, actor, email="bob@north.test", password=PASSWORD)
    from lumina_tui.services.actors import Actor

    with pytest.raises(InvalidStateError):
        team.add_user(db, Actor(actor.workspace_id, bob.id), email="eve@north.test", password=PASSWORD)


def _token(claims: dict, key: str, algorithm: str = "HS256") -> str:
    return jwt.encode(claims, key, algorithm=algorithm)


def test_expired_forged_and_alg_none_tokens_are_refused(db, actor, owner) -> None:
    key = team.signing_key()
    now = datetime.now(UTC)
    claims = access_claims(actor)
    assert team.authenticate(db, _token(claims, key), key=key) == actor
    expired = {**claims, "iat": now - timedelta(hours=1), "exp": now - timedelta(minutes=1)}
    with pytest.raises(AuthenticationError, match="expired"):
        team.authenticate(db, _token(expired, key), key=key)
    with pytest.raises(AuthenticationError):
        team.authenticate(db, _token(claims, "another key of enough length 0123456789"), key=key)
    unsigned = jwt.encode(claims, None, algorithm="none")
    with pytest.raises(AuthenticationError):
        team.authenticate(db, unsigned, key=key)
    # Another workspace's id in a token signed with our key still finds no such user there.
    other = {**claims, "wid": "00000000-0000-4000-8000-000000000000"}
    with pytest.raises(AuthenticationError):
        team.authenticate(db, _token(other, key), key=key)
    with pytest.raises(AuthenticationError):
        team.authenticate(db, "not a jwt", key=key)


def test_one_address_in_two_workspaces_must_name_one(db, actor, owner) -> None:
    key = team.signing_key()
    other_actor, _ = team.new_team(db, name="Other", owner_email="owner@north.test", password=PASSWORD)
    with pytest.raises(ValidationError) as ambiguous:
        team.sign_in(db, email="owner@north.test", password=PASSWORD, key=key)
    assert ambiguous.value.field == "workspace_id"
    pair = team.sign_in(
        db, email="owner@north.test", password=PASSWORD, workspace_id=other_actor.workspace_id, key=key
    )
    assert team.authenticate(db, pair.access_token, key=key) == other_actor
