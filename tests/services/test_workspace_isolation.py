"""Workspace isolation: a user of workspace B can neither read nor change workspace A's rows.

Every service function of issue 3's modules that touches the store is exercised from workspace B
against A's rows; `test_every_store_function_is_covered` fails when a new one is added without a
test here.
"""

from __future__ import annotations

import inspect
import io
import sqlite3
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from lumina_tui.services import (
    company_data,
    demo,
    drafts,
    preferences,
    prospect_import,
    prospects,
    templates,
)
from lumina_tui.services.actors import Actor, new_workspace
from lumina_tui.services.errors import NotFoundError, ValidationError
from lumina_tui.store import new_id
from lumina_tui.store.models import Account, Template

MODULES: tuple[ModuleType, ...] = (
    company_data,
    demo,
    drafts,
    preferences,
    prospect_import,
    prospects,
    templates,
)
COVERED: set[str] = set()


def covers(*names: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def register(test: Callable[..., Any]) -> Callable[..., Any]:
        COVERED.update(names)
        return test

    return register


def rows_of(path: Path, workspace_id: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of workspace A, in every table that has a workspace_id."""
    conn = sqlite3.connect(path)
    try:
        result = {}
        for (table,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'"):
            columns = [row[1] for row in conn.execute(f'PRAGMA table_info("{table}")')]
            if "workspace_id" in columns:
                rows = conn.execute(f'SELECT * FROM "{table}" WHERE workspace_id = ?', (workspace_id,))
                result[table] = sorted(rows.fetchall(), key=repr)
        return result
    finally:
        conn.close()


class World:
    """Workspace A with one of everything; workspace B, empty, acting against it."""

    def __init__(self, db: Any, a: Actor) -> None:
        self.db, self.a = db, a
        self.b = new_workspace(db, "Workspace B", "rep-b@b.test")
        self.prospect = prospects.create(
            db,
            a,
            email="ana@bright.test",
            first_name="Ana",
            company="Brightwave",
            custom_fields={"erp": "SAP"},
        )
        self.template_id = new_id()
        self.account_id = new_id()
        with db.write() as session:
            company_data.upsert(session, a, "bright.test", {"name": "Brightwave", "industry": "Logistics"})
            session.add(
                Template(
                    id=self.template_id,
                    workspace_id=a.workspace_id,
                    name="Intro",
                    subject="Hi {{first_name}}",
                )
            )
            session.add(
                Account(
                    id=self.account_id,
                    workspace_id=a.workspace_id,
                    user_id=a.user_id,
                    provider="maildir",
                    name="A outbox",
                    email="rep@a.test",
                )
            )
        preferences.update(db, a, sender_name="Rep A", proof_points=["A's proof"])
        self.draft = drafts.create(
            db, a, prospect_id=self.prospect.id, subject="For A only", body="A's words", template_id=None
        )
        self.sent_draft_id = new_id()

    def a_rows(self) -> dict[str, list[tuple[Any, ...]]]:
        return rows_of(self.db.path, self.a.workspace_id)


@pytest.fixture
def world(db, actor) -> World:
    return World(db, actor)


# -- drafts ------------------------------------------------------------------------------------------


@covers("drafts.get", "drafts.list_drafts", "drafts.latest_unsent")
def test_b_cannot_read_a_drafts(world: World) -> None:
    db, b = world.db, world.b
    with pytest.raises(NotFoundError):
        drafts.get(db, b, world.draft.id)
    assert drafts.list_drafts(db, b, include_sent=True).total == 0
    assert drafts.list_drafts(db, b, prospect_id=world.prospect.id).total == 0
    assert drafts.latest_unsent(db, b) is None
    # A still sees its own.
    assert drafts.latest_unsent(db, world.a).id == world.draft.id


@covers("drafts.list_overview", "drafts.status_of")
def test_b_sees_neither_a_drafts_nor_what_became_of_them(world: World, settings) -> None:
    from lumina_tui.services import sending

    db, a, b = world.db, world.a, world.b
    sending.send(db, a, draft_id=world.draft.id, from_account=world.account_id, settings=settings)
    sent = drafts.get(db, a, world.draft.id)
    assert drafts.list_overview(db, b, include_sent=True).total == 0
    assert drafts.status_of(db, a, sent) == "queued"
    # Handed A's row, B learns nothing of A's email: only what the draft row itself says.
    assert drafts.status_of(db, b, sent) == "sent"
    rows = drafts.list_overview(db, a, include_sent=True).items
    assert [(row.status, row.prospect) for row in rows] == [("queued", "Ana <ana@bright.test>")]


@covers("drafts.save")
def test_b_cannot_save_over_a_draft(world: World) -> None:
    before = world.a_rows()
    for revision in (0, 1, 2, 99):
        with pytest.raises(NotFoundError):
            drafts.save(world.db, world.b, world.draft.id, revision, subject="B was here")
    assert world.a_rows() == before


@covers("drafts.save_next")
def test_b_cannot_save_the_next_revision_of_a_draft(world: World) -> None:
    before = world.a_rows()
    with pytest.raises(NotFoundError):
        drafts.save_next(world.db, world.b, world.draft.id, subject="B was here")
    assert world.a_rows() == before


@covers("drafts.create")
def test_b_cannot_draft_to_a_prospect_with_a_template_or_under_a_draft_id(world: World) -> None:
    before = world.a_rows()
    with pytest.raises(ValidationError) as caught:
        drafts.create(world.db, world.b, prospect_id=world.prospect.id, subject="x")
    assert caught.value.field == "prospect_id"
    with pytest.raises(ValidationError) as caught:
        drafts.create(world.db, world.b, template_id=world.template_id)
    assert caught.value.field == "template_id"
    with pytest.raises(ValidationError) as caught:
        drafts.create(world.db, world.b, subject="x", account_id=world.account_id)
    assert caught.value.field == "account_id"
    with pytest.raises(NotFoundError):
        drafts.create(world.db, world.b, subject="x", draft_id=world.draft.id)
    assert world.a_rows() == before


@covers("drafts.delete")
def test_b_cannot_delete_a_draft(world: World) -> None:
    before = world.a_rows()
    with pytest.raises(NotFoundError):
        drafts.delete(world.db, world.b, world.draft.id)
    assert world.a_rows() == before
    assert drafts.get(world.db, world.a, world.draft.id).subject == "For A only"


@covers("drafts.mark_sent")
def test_b_cannot_mark_a_draft_sent(world: World) -> None:
    with world.db.write() as session:
        assert not drafts.mark_sent(session, world.b, world.draft.id, new_id(), world.draft.revision)
    assert drafts.get(world.db, world.a, world.draft.id).sent_at is None


# -- prospects ---------------------------------------------------------------------------------------


@covers("prospects.get", "prospects.list_prospects")
def test_b_cannot_read_a_prospects(world: World) -> None:
    for ref in (world.prospect.id, world.prospect.email):
        with pytest.raises(NotFoundError):
            prospects.get(world.db, world.b, ref)
    assert prospects.list_prospects(world.db, world.b).total == 0
    assert prospects.list_prospects(world.db, world.b, search="Ana").total == 0
    assert prospects.list_prospects(world.db, world.a, search="Ana").total == 1


@covers("prospects.update")
def test_b_cannot_update_a_prospect(world: World) -> None:
    before = world.a_rows()
    for ref in (world.prospect.id, world.prospect.email):
        with pytest.raises(NotFoundError):
            prospects.update(world.db, world.b, ref, first_name="Mallory")
    assert world.a_rows() == before


@covers("prospects.create")
def test_b_has_its_own_prospect_with_the_same_email(world: World) -> None:
    before = world.a_rows()
    own = prospects.create(world.db, world.b, email=world.prospect.email, first_name="Other Ana")
    assert own.id != world.prospect.id
    assert world.a_rows() == before
    assert prospects.get(world.db, world.b, world.prospect.email).first_name == "Other Ana"
    assert prospects.get(world.db, world.a, world.prospect.email).first_name == "Ana"


# -- company data ------------------------------------------------------------------------------------


@covers(
    "company_data.lookup", "company_data.find", "company_data.for_prospect", "company_data.find_for_prospect"
)
def test_b_cannot_read_a_company_data(world: World) -> None:
    assert company_data.lookup(world.db, world.b, "someone@bright.test") is None
    assert company_data.for_prospect(world.db, world.b, world.prospect) is None
    with world.db.read() as session:
        assert company_data.find(session, world.b, "bright.test") is None
        assert company_data.find_for_prospect(session, world.b, world.prospect) is None
    assert company_data.lookup(world.db, world.a, "bright.test").name == "Brightwave"


@covers("company_data.upsert")
def test_b_upserting_the_same_domain_leaves_a_company_alone(world: World) -> None:
    before = world.a_rows()
    with world.db.write() as session:
        company_data.upsert(session, world.b, "bright.test", {"name": "Impostor", "industry": "Spam"})
    assert world.a_rows() == before
    assert company_data.lookup(world.db, world.b, "bright.test").name == "Impostor"


@covers("prospect_import.import_csv")
def test_an_import_in_b_changes_nothing_of_a(world: World) -> None:
    before = world.a_rows()
    data = (
        b"Email,First Name,Company,Website,Industry,# Employees,ERP\n"
        b"ana@bright.test,Mallory,Evil Corp,bright.test,Crime,1,none\n"
        b"bob@bright.test,Bob,Evil Corp,bright.test,Crime,1,none\n"
    )
    report = prospect_import.import_csv(world.db, world.b, io.BytesIO(data))
    assert (report.imported, report.updated) == (2, 0)  # A's ana is not B's: imported, not updated
    assert world.a_rows() == before
    assert company_data.lookup(world.db, world.a, "bright.test").industry == "Logistics"
    assert company_data.lookup(world.db, world.b, "bright.test").industry == "Crime"


# -- templates ---------------------------------------------------------------------------------------


@covers("templates.list_templates", "templates.get", "templates.fill_for_prospect")
def test_b_cannot_use_a_templates_or_fill_from_a_prospects(world: World) -> None:
    assert templates.list_templates(world.db, world.b) == []
    with pytest.raises(ValidationError):
        templates.get(world.db, world.b, world.template_id)
    with pytest.raises(ValidationError):
        templates.fill_for_prospect(world.db, world.b, world.template_id, None)
    own_id = new_id()
    with world.db.write() as session:
        session.add(
            Template(id=own_id, workspace_id=world.b.workspace_id, name="B", subject="{{first_name}}")
        )
    with pytest.raises(NotFoundError):
        templates.fill_for_prospect(world.db, world.b, own_id, world.prospect.id)


# -- preferences -------------------------------------------------------------------------------------


@covers("preferences.get", "preferences.update", "preferences.clean")
def test_b_has_its_own_preferences_and_cannot_point_at_a_account(world: World) -> None:
    before = world.a_rows()
    assert preferences.get(world.db, world.b).sender_name == ""
    preferences.update(world.db, world.b, sender_name="Rep B")
    with pytest.raises(ValidationError) as caught:
        preferences.update(world.db, world.b, default_account_id=world.account_id)
    assert caught.value.field == "default_account_id"
    with world.db.read() as session, pytest.raises(ValidationError):
        preferences.clean(session, world.b, {"default_account_id": world.account_id})
    assert world.a_rows() == before
    assert preferences.get(world.db, world.a).sender_name == "Rep A"
    # A user of B cannot write A's user row either.
    with pytest.raises(NotFoundError):
        preferences.update(world.db, Actor(world.b.workspace_id, world.a.user_id), sender_name="Mallory")
    assert world.a_rows() == before


# -- demo --------------------------------------------------------------------------------------------


@covers("demo.seed")
def test_seeding_or_resetting_the_demo_in_b_leaves_a_alone(world: World) -> None:
    demo.seed(world.db, world.a)
    before = world.a_rows()
    demo.seed(world.db, world.b)
    demo.seed(world.db, world.b, reset=True)
    assert world.a_rows() == before
    assert (
        prospects.list_prospects(world.db, world.b).total
        == prospects.list_prospects(world.db, world.a).total - 1
    )


# -- completeness ------------------------------------------------------------------------------------


def store_functions() -> set[str]:
    """Public functions of the modules above that take a Database or a Session first."""
    found = set()
    for module in MODULES:
        short = module.__name__.rsplit(".", 1)[-1]
        for name, function in inspect.getmembers(module, inspect.isfunction):
            if name.startswith("_") or function.__module__ != module.__name__:
                continue
            parameters = list(inspect.signature(function).parameters)
            if parameters and parameters[0] in {"db", "session"}:
                found.add(f"{short}.{name}")
    return found


def test_every_store_function_is_covered() -> None:
    functions = store_functions()
    assert "drafts.save" in functions and "prospect_import.import_csv" in functions
    assert functions - COVERED == set()
