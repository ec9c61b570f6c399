"""Draft saves are idempotent and ordered by revision (docs/invariants.md, invariant 2), on a real SQLite
file."""

from __future__ import annotations

import threading

import pytest
from db_snapshot import count, snapshot

from lumina_tui.services import drafts, prospects, templates
from lumina_tui.services.errors import AlreadySentError, ConflictError, NotFoundError, ValidationError
from lumina_tui.store import new_id


@pytest.fixture
def prospect(db, actor):
    return prospects.create(db, actor, email="ana.okafor@brightwave.example", first_name="Ana")


def test_the_same_save_100_times_leaves_one_row(db, actor, prospect) -> None:
    draft_id = new_id()
    outcomes = [
        drafts.save(db, actor, draft_id, 1, subject="Hi Ana", body="Body", prospect_id=prospect.id).outcome
        for _ in range(100)
    ]
    assert outcomes[0] == "created"
    assert set(outcomes[1:]) == {"unchanged"}
    assert count(db.path, "email_drafts") == 1
    stored = drafts.get(db, actor, draft_id)
    assert (stored.revision, stored.subject, stored.body_text) == (1, "Hi Ana", "Body")


def test_an_unchanged_save_does_not_touch_the_row(db, actor) -> None:
    draft_id = new_id()
    drafts.save(db, actor, draft_id, 3, subject="S", body="B")
    before = snapshot(db.path)
    assert drafts.save(db, actor, draft_id, 3, subject="S", body="B").outcome == "unchanged"
    assert snapshot(db.path) == before


def test_eight_threads_saving_increasing_revisions_end_with_the_highest(db, actor, prospect) -> None:
    draft_id = new_id()
    threads_count, highest = 8, 400
    barrier = threading.Barrier(threads_count)
    errors: list[BaseException] = []
    outcomes: list[str] = []
    lock = threading.Lock()

    def saver(offset: int) -> None:
        barrier.wait()
        # Thread k saves revisions k+1, k+9, k+17, ...: revisions arrive interleaved and out of order.
        for revision in range(offset + 1, highest + 1, threads_count):
            try:
                result = drafts.save(
                    db,
                    actor,
                    draft_id,
                    revision,
                    subject=f"revision {revision}",
                    body=f"body of revision {revision}",
                    prospect_id=prospect.id,
                )
            except BaseException as exc:
                with lock:
                    errors.append(exc)
                return
            with lock:
                outcomes.append(result.outcome)

    workers = [threading.Thread(target=saver, args=(k,)) for k in range(threads_count)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    assert not errors
    assert len(outcomes) == highest
    assert outcomes.count("created") == 1
    stored = drafts.get(db, actor, draft_id)
    assert stored.revision == highest
    assert stored.subject == f"revision {highest}"
    assert stored.body_text == f"body of revision {highest}"
    assert count(db.path, "email_drafts") == 1


def test_an_older_revision_is_ignored_and_reported(db, actor) -> None:
    draft_id = new_id()
    drafts.save(db, actor, draft_id, 5, subject="five", body="5")
    before = snapshot(db.path)
    result = drafts.save(db, actor, draft_id, 4, subject="four", body="4")
    assert result.outcome == "ignored_older"
    assert result.stored_revision == 5
    assert result.draft.subject == "five"
    assert snapshot(db.path) == before


def test_the_same_revision_with_other_content_is_a_conflict(db, actor) -> None:
    draft_id = new_id()
    drafts.save(db, actor, draft_id, 2, subject="mine", body="text")
    before = snapshot(db.path)
    with pytest.raises(ConflictError) as caught:
        drafts.save(db, actor, draft_id, 2, subject="theirs", body="text")
    assert caught.value.field == "revision"
    assert caught.value.exit_code == 2
    assert snapshot(db.path) == before


def test_a_newer_revision_replaces_the_content_and_renders_html(db, actor) -> None:
    draft_id = new_id()
    drafts.save(db, actor, draft_id, 1, subject="one", body="first")
    result = drafts.save(db, actor, draft_id, 2, subject="two", body="Hello\n\nsee https://acme.test")
    assert result.outcome == "updated"
    assert result.draft.revision == 2
    assert '<a href="https://acme.test">' in result.draft.body_html


def _mark_sent(db, actor, draft_id: str, revision: int) -> None:
    with db.write() as session:
        assert drafts.mark_sent(session, actor, draft_id, new_id(), revision)


def test_a_sent_draft_can_be_neither_edited_nor_deleted(db, actor) -> None:
    draft_id = new_id()
    drafts.save(db, actor, draft_id, 1, subject="sent one", body="B")
    _mark_sent(db, actor, draft_id, 1)
    before = snapshot(db.path)
    with pytest.raises(AlreadySentError):
        drafts.save(db, actor, draft_id, 2, subject="edited after send", body="B")
    with pytest.raises(AlreadySentError):
        drafts.save(db, actor, draft_id, 1, subject="sent one", body="B")
    with pytest.raises(AlreadySentError):
        drafts.delete(db, actor, draft_id)
    assert snapshot(db.path) == before
    assert drafts.get(db, actor, draft_id).sent_at is not None


def test_mark_sent_is_conditional_on_the_revision(db, actor) -> None:
    draft_id = new_id()
    drafts.save(db, actor, draft_id, 3, subject="S", body="B")
    with db.write() as session:
        assert not drafts.mark_sent(session, actor, draft_id, new_id(), 2)
    assert drafts.get(db, actor, draft_id).sent_at is None


def test_an_unsent_draft_can_be_deleted(db, actor) -> None:
    draft_id = new_id()
    drafts.save(db, actor, draft_id, 1, subject="S", body="B")
    drafts.delete(db, actor, draft_id)
    with pytest.raises(NotFoundError):
        drafts.get(db, actor, draft_id)


def test_create_fills_a_template_from_the_prospect(db, actor, prospect) -> None:
    from lumina_tui.store.models import Template

    template_id = new_id()
    with db.write() as session:
        session.add(
            Template(id=template_id, workspace_id=actor.workspace_id, name="T", subject="Hi {{first_name}}")
        )
    draft = drafts.create(db, actor, prospect_id=prospect.id, template_id=template_id)
    assert (draft.subject, draft.revision, draft.template_id) == ("Hi Ana", 1, template_id)
    assert templates.leftover_fields(draft.subject) == []


# -- validation: each error names the field, and nothing stored changes -------------------------------


BAD_SAVES = [
    ("unknown prospect", {"prospect_id": new_id()}, "prospect_id"),
    ("newline in subject", {"subject": "Hello\nBcc: everyone@x.test"}, "subject"),
    ("carriage return in subject", {"subject": "Hello\rthere"}, "subject"),
    ("body over 1 MB", {"body": "x" * 1_000_001}, "body"),
    ("unknown template", {"template_id": new_id()}, "template_id"),
    ("template id that is not a UUID", {"template_id": "intro"}, "template_id"),
]


@pytest.mark.parametrize(("label", "changes", "field"), BAD_SAVES, ids=[case[0] for case in BAD_SAVES])
def test_a_bad_save_names_the_field_and_changes_nothing(
    db, actor, prospect, label: str, changes: dict, field: str
) -> None:
    draft_id = new_id()
    drafts.save(db, actor, draft_id, 1, subject="Good", body="Good body", prospect_id=prospect.id)
    before = snapshot(db.path)
    values = {"subject": "Good", "body": "Good body", "prospect_id": prospect.id, **changes}
    with pytest.raises(ValidationError) as caught:
        drafts.save(db, actor, draft_id, 2, **values)
    assert caught.value.field == field, label
    assert caught.value.exit_code == 2
    assert field.split("_")[0] in caught.value.message
    assert snapshot(db.path) == before


def test_a_bad_new_draft_is_not_stored(db, actor) -> None:
    before = snapshot(db.path)
    with pytest.raises(ValidationError) as caught:
        drafts.save(db, actor, new_id(), 1, subject="Hi", prospect_id=new_id())
    assert caught.value.field == "prospect_id"
    assert "unknown prospect" in caught.value.message
    with pytest.raises(ValidationError) as caught:
        drafts.save(db, actor, "not-a-uuid", 1, subject="Hi")
    assert caught.value.field == "id"
    with pytest.raises(ValidationError) as caught:
        drafts.save(db, actor, new_id(), -1, subject="Hi")
    assert caught.value.field == "revision"
    assert snapshot(db.path) == before


def test_an_invalid_email_address_names_the_field_and_changes_nothing(db, actor, prospect) -> None:
    before = snapshot(db.path)
    for bad in ("not-an-email", "ana@", "two@@x.test", "line\nbreak@x.test"):
        with pytest.raises(ValidationError) as caught:
            prospects.create(db, actor, email=bad)
        assert caught.value.field == "email"
        with pytest.raises(ValidationError) as caught:
            prospects.update(db, actor, prospect.id, email=bad)
        assert caught.value.field == "email"
    assert snapshot(db.path) == before


def test_an_unknown_template_names_the_field(db, actor, prospect) -> None:
    with pytest.raises(ValidationError) as caught:
        drafts.create(db, actor, prospect_id=prospect.id, template_id=new_id())
    assert caught.value.field == "template_id"
    assert "unknown template" in caught.value.message
    assert count(db.path, "email_drafts") == 0
