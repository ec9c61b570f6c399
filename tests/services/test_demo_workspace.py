"""The demo workspace: complete, idempotent, on reserved domains, and --reset touches demo rows only."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from db_snapshot import count, snapshot

from lumina_tui.services import accounts, demo, drafts, preferences, prospects, templates
from lumina_tui.services.errors import NotFoundError, StorageError
from lumina_tui.store import new_id

RESERVED = (".example", ".test", "example.com")


def test_the_seed_has_what_the_issue_asks_for(db, actor) -> None:
    report = demo.seed(db, actor)
    assert report.created["prospects"] >= 25
    assert report.created["companies"] == 8
    assert report.created["templates"] == 3
    assert report.created["accounts"] == 1
    path = db.path
    assert count(path, "prospects", "is_demo = 1") == report.created["prospects"]
    assert (
        count(path, "company_data", "is_demo = 1 AND industry <> '' AND size <> '' AND location <> ''") == 8
    )
    page = prospects.list_prospects(db, actor, limit=1000)
    assert all(p.email.endswith(RESERVED) for p in page.items)
    assert all(p.custom_fields.get("crm") and p.custom_fields.get("recent_initiative") for p in page.items)
    # Every template fills completely from every demo prospect: no {{field}} is left for the rep.
    for template in templates.list_templates(db, actor):
        assert "{{first_name}}" in template.body
        for prospect in page.items:
            filled = templates.fill_for_prospect(db, actor, template.id, prospect.id)
            assert filled.missing == (), (template.name, prospect.email, filled.missing)
    prefs = preferences.get(db, actor)
    assert prefs.sender_name and prefs.value_proposition and prefs.signature
    assert 2 <= len(prefs.proof_points) <= 3
    assert prefs.company_website.endswith(RESERVED)
    (account,) = accounts.list_accounts(db, actor)
    assert (account.provider, account.name, account.is_demo, account.is_default) == (
        "maildir",
        demo.DEMO_ACCOUNT_NAME,
        True,
        True,
    )
    assert account.email.endswith(RESERVED)
    assert prefs.default_account_id == account.id


def test_seeding_twice_changes_nothing(db, actor) -> None:
    demo.seed(db, actor)
    before = snapshot(db.path)
    report = demo.seed(db, actor)
    assert not report.changed
    assert snapshot(db.path) == before


def test_the_reps_own_rows_and_profile_win(db, actor) -> None:
    own = prospects.create(db, actor, email="ana.okafor@brightwave.example", first_name="My Ana")
    preferences.update(db, actor, sender_name="Real Rep", proof_points=["my own proof"])
    accounts.add_account(db, actor, provider="maildir", email="me@mine.test", name="Mine", make_default=True)
    demo.seed(db, actor)
    assert prospects.get(db, actor, own.email).first_name == "My Ana"
    assert prospects.get(db, actor, own.email).is_demo is False
    prefs = preferences.get(db, actor)
    assert (prefs.sender_name, prefs.proof_points) == ("Real Rep", ["my own proof"])
    assert prefs.sender_title == "Account Executive"  # was empty: filled from the demo
    mine = accounts.resolve_account(db, actor, None)
    assert mine.name == "Mine"  # the demo outbox does not take over the default


def test_reset_removes_only_demo_rows_and_keeps_the_reps_drafts(db, actor) -> None:
    demo.seed(db, actor)
    own = prospects.create(db, actor, email="me@client.test", first_name="Client")
    own_template = templates.list_templates(db, actor)[0]
    demo_prospect = prospects.get(db, actor, "ana.okafor@brightwave.example")
    other_demo = prospects.get(db, actor, "grace.mensah@quillstone.test")
    unsent_to_demo = drafts.create(db, actor, prospect_id=demo_prospect.id, subject="unsent")
    sent_to_demo = drafts.create(db, actor, prospect_id=other_demo.id, subject="sent")
    with db.write() as session:
        assert drafts.mark_sent(session, actor, sent_to_demo.id, new_id(), 1)
    own_draft = drafts.create(db, actor, prospect_id=own.id, subject="mine", template_id=own_template.id)

    drafts.save(db, actor, unsent_to_demo.id, 2, subject="unsent", body="What I wrote to Ana.",
                prospect_id=demo_prospect.id)

    report = demo.seed(db, actor, reset=True)

    assert report.removed["drafts"] == 0  # what the rep wrote is never a demo row
    assert report.kept["prospects"] == 1  # referenced by a sent draft: kept, not re-created
    assert report.removed["prospects"] == report.created["prospects"]
    assert report.removed["companies"] == report.created["companies"] == 8
    assert report.removed["templates"] == report.created["templates"] == 3
    assert report.removed["accounts"] == report.created["accounts"] == 1
    # The rep's draft to a demo prospect is kept, text and all, addressed to the re-seeded Ana.
    kept = drafts.get(db, actor, unsent_to_demo.id)
    reseeded = prospects.get(db, actor, demo_prospect.email)
    assert reseeded.id != demo_prospect.id and reseeded.is_demo
    assert (kept.body_text, kept.prospect_id, kept.revision) == ("What I wrote to Ana.", reseeded.id, 3)
    assert [(d.id, d.prospect_email, d.readdressed) for d in report.kept_drafts] == [
        (unsent_to_demo.id, demo_prospect.email, True)
    ]
    assert drafts.get(db, actor, sent_to_demo.id).sent_at is not None
    assert prospects.get(db, actor, other_demo.email).id == other_demo.id
    assert prospects.get(db, actor, own.email).first_name == "Client"
    kept_own_draft = drafts.get(db, actor, own_draft.id)
    assert (kept_own_draft.subject, kept_own_draft.template_id) == ("mine", None)
    # Reseeded: the demo is whole again.
    assert count(db.path, "prospects", "is_demo = 1") >= 25
    assert count(db.path, "templates", "is_demo = 1") == 3


def test_the_demo_folder_can_be_overridden(
    db, actor, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "demo"
    shutil.copytree(demo.demo_dir(), folder)
    lines = (folder / "prospects.csv").read_text(encoding="utf-8").splitlines()
    (folder / "prospects.csv").write_text("\n".join(lines[:3]) + "\n", encoding="utf-8")
    monkeypatch.setenv("LUMINA_DEMO_DIR", str(folder))
    assert demo.seed(db, actor).created["prospects"] == 2
    monkeypatch.setenv("LUMINA_DEMO_DIR", str(tmp_path / "missing"))
    with pytest.raises(StorageError) as caught:
        demo.seed(db, actor)
    assert "LUMINA_DEMO_DIR" in caught.value.message


def test_reset_keeps_a_draft_whose_demo_prospect_is_no_longer_in_the_demo(
    db, actor, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When the demo files no longer have that prospect, the draft is kept, addressed to no one."""
    demo.seed(db, actor)
    ana = prospects.get(db, actor, "ana.okafor@brightwave.example")
    mine = drafts.create(db, actor, prospect_id=ana.id, subject="Mine", body="Keep this.")
    folder = tmp_path / "demo"
    shutil.copytree(demo.demo_dir(), folder)
    csv_path = next(folder.glob("*.csv"))
    kept_lines = [line for line in csv_path.read_text(encoding="utf-8").splitlines(keepends=True)
                  if "ana.okafor@brightwave.example" not in line]
    csv_path.write_text("".join(kept_lines), encoding="utf-8")
    monkeypatch.setenv("LUMINA_DEMO_DIR", str(folder))

    report = demo.seed(db, actor, reset=True)

    kept = drafts.get(db, actor, mine.id)
    assert (kept.subject, kept.body_text, kept.prospect_id) == ("Mine", "Keep this.", None)
    assert [(d.id, d.readdressed) for d in report.kept_drafts] == [(mine.id, False)]
    with pytest.raises(NotFoundError):
        prospects.get(db, actor, "ana.okafor@brightwave.example")
