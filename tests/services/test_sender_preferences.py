"""The sender profile: partial updates, validation that names the field, nothing changed on error."""

from __future__ import annotations

import pytest
from db_snapshot import snapshot

from lumina_tui.services import preferences
from lumina_tui.services.errors import ValidationError
from lumina_tui.store import new_id


def test_defaults_then_partial_updates_keep_other_fields(db, actor) -> None:
    prefs = preferences.get(db, actor)
    assert (prefs.sender_name, prefs.proof_points, prefs.default_tone) == ("", [], 0.5)
    preferences.update(
        db,
        actor,
        sender_name="Sam Carter",
        company_name="Acme Relay",
        proof_points=["  Cut reporting from 6 h to 1 h ", "", "Two-week rollout"],
        signature="Sam\r\nAcme Relay",
        default_tone="casual",
        banned_phrases=["circle back"],
    )
    prefs = preferences.update(db, actor, sender_title="Account Executive")
    assert prefs.sender_name == "Sam Carter"
    assert prefs.sender_title == "Account Executive"
    assert prefs.proof_points == ["Cut reporting from 6 h to 1 h", "Two-week rollout"]
    assert prefs.signature == "Sam\nAcme Relay"
    assert prefs.default_tone == 1.0
    body = preferences.as_json(preferences.get(db, actor))
    assert body["banned_phrases"] == ["circle back"]
    assert body["updated_at"].endswith("Z")


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"sender_name": "Sam\nCarter"}, "sender_name"),
        ({"company_website": "x" * 201}, "company_website"),
        ({"default_tone": 1.5}, "default_tone"),
        ({"default_tone": "loud"}, "default_tone"),
        ({"proof_points": "one string"}, "proof_points"),
        ({"proof_points": ["two\nlines"]}, "proof_points"),
        ({"banned_phrases": ["x"] * 21}, "banned_phrases"),
        ({"value_proposition": "v" * 2001}, "value_proposition"),
        ({"default_account_id": "not-a-uuid"}, "default_account_id"),
        ({"default_account_id": new_id()}, "default_account_id"),
        ({"favourite_colour": "blue"}, "favourite_colour"),
    ],
)
def test_a_bad_value_names_the_field_and_changes_nothing(db, actor, changes: dict, field: str) -> None:
    preferences.update(db, actor, sender_name="Sam")
    before = snapshot(db.path)
    with pytest.raises(ValidationError) as caught:
        preferences.update(db, actor, sender_title="valid but not saved", **changes)
    assert caught.value.field == field
    assert field in caught.value.message
    assert snapshot(db.path) == before


def test_the_default_account_can_be_cleared(db, actor) -> None:
    prefs = preferences.update(db, actor, default_account_id=None)
    assert prefs.default_account_id is None
