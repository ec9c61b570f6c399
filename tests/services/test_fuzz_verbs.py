"""Property-based fuzzing (hypothesis) of service verbs and the CSV import path (issue 14 point 5):
random Unicode, control characters, huge strings, wrong types and malformed CSV either succeed or
raise the documented error family (LuminaError), and a rejected call leaves the database
byte-identical (tests/db_snapshot.py). Bounded for `make test` (LUMINA_FUZZ_EXAMPLES, default 15);
`make fuzz` runs many more."""

from __future__ import annotations

import io
import os
from typing import Any

import pytest
from db_snapshot import snapshot

pytest.importorskip("hypothesis")  # a venv made before it joined the [test] extras: `make venv`
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lumina_tui.services import drafts, prospect_import, prospects
from lumina_tui.services.actors import Actor
from lumina_tui.services.errors import LuminaError
from lumina_tui.store import Database

EXAMPLES = int(os.environ.get("LUMINA_FUZZ_EXAMPLES", "15"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize=EXAMPLES <= 50,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

texts = st.one_of(
    st.text(max_size=60),
    st.text(st.characters(codec="utf-8"), max_size=30),
    st.text(st.sampled_from("\x00\x07\x1b\r\n\t\u202e\u200b\ufeff"), max_size=10),
    st.builds(lambda c, n: c * n, st.sampled_from("aé🙂"), st.integers(1000, 2_000_000)),
)
wrong_types = st.one_of(st.integers(), st.binary(max_size=20), st.lists(st.integers(), max_size=3),
                        st.floats(allow_nan=True))
anything = st.one_of(texts, st.none())


def call_and_check(db: Database, call: Any) -> None:
    before = snapshot(db.path)
    try:
        call()
    except LuminaError:
        assert snapshot(db.path) == before, "a rejected call changed the database"


@FUZZ
@given(email=anything, first_name=anything, company=anything, job_title=anything)
def test_prospect_create_rejects_only_with_documented_errors(
    db: Database, actor: Actor, email: Any, first_name: Any, company: Any, job_title: Any
) -> None:
    call_and_check(db, lambda: prospects.create(db, actor, email=email, first_name=first_name,
                                                company=company, job_title=job_title))


@FUZZ
@given(draft_id=st.one_of(st.uuids().map(str), anything), revision=anything, subject=anything, body=anything)
def test_draft_save_rejects_only_with_documented_errors(
    db: Database, actor: Actor, draft_id: Any, revision: Any, subject: Any, body: Any
) -> None:
    call_and_check(db, lambda: drafts.save(db, actor, draft_id, revision, subject=subject, body=body))


@FUZZ
@given(data=st.one_of(
    st.binary(max_size=400),
    st.builds(lambda header, rows: (header + "\n" + "\n".join(rows)).encode("utf-8", "surrogatepass"),
              st.sampled_from(["email,first_name", "Email Address,First Name,Company", "", "\ufeffemail"]),
              st.lists(st.text(max_size=40), max_size=5)),
))
def test_csv_import_rejects_only_with_documented_errors(db: Database, actor: Actor, data: bytes) -> None:
    call_and_check(db, lambda: prospect_import.import_csv(db, actor, io.BytesIO(data)))


# Found by this fuzzing: email=1 raised AttributeError from validation.email_address (fixed in
# prospects.clean_fields: a ValidationError naming the field).
@FUZZ
@given(email=st.one_of(wrong_types, texts), first_name=st.one_of(wrong_types, texts), company=wrong_types)
def test_prospect_create_with_wrong_types_rejects_with_documented_errors(
    db: Database, actor: Actor, email: Any, first_name: Any, company: Any
) -> None:
    call_and_check(
        db, lambda: prospects.create(db, actor, email=email, first_name=first_name, company=company)
    )


# -- every other verb that takes the rep's or a script's input -------------------------------------
# Each row: a verb and the strategies for its arguments (real ids mixed in, so calls reach past
# the first lookup). Failures are collected rather than raised inside hypothesis: the calls change
# the database, so shrinking would replay them against another state.

any_value = st.one_of(texts, wrong_types, st.none())
some_id = st.one_of(st.uuids().map(str), any_value)


def _verbs(world: dict[str, Any]) -> dict[str, tuple[Any, dict[str, st.SearchStrategy[Any]]]]:
    from lumina_tui.services import accounts, outbox, preferences, sending, stats, suppressions, templates

    db, actor, settings = world["db"], world["actor"], world["settings"]
    ids = st.one_of(st.sampled_from([world["prospect"], world["draft"], world["email"]]), some_id)
    return {
        "prospects.get": (lambda ref: prospects.get(db, actor, ref), {"ref": ids}),
        "prospects.list": (lambda search, limit, offset: prospects.list_prospects(
            db, actor, search=search, limit=limit, offset=offset),
            {"search": any_value, "limit": st.one_of(st.integers(), any_value),
             "offset": st.one_of(st.integers(), any_value)}),
        "prospects.update": (lambda ref, email, company: prospects.update(
            db, actor, ref, email=email, company=company),
            {"ref": ids, "email": any_value, "company": any_value}),
        "drafts.get": (lambda draft_id: drafts.get(db, actor, draft_id), {"draft_id": ids}),
        "drafts.create": (lambda prospect_id, subject, body: drafts.create(
            db, actor, prospect_id=prospect_id, subject=subject, body=body),
            {"prospect_id": ids, "subject": any_value, "body": any_value}),
        "drafts.save_next": (lambda draft_id, subject, body: drafts.save_next(
            db, actor, draft_id, subject=subject, body=body),
            {"draft_id": ids, "subject": any_value, "body": any_value}),
        "drafts.delete": (lambda draft_id: drafts.delete(db, actor, draft_id), {"draft_id": ids}),
        "sending.send": (lambda draft_id, key, to, revision: sending.send(
            db, actor, draft_id=draft_id, idempotency_key=key, to_email=to, revision=revision,
            settings=settings),
            {"draft_id": ids, "key": any_value, "to": any_value, "revision": any_value}),
        "outbox.cancel": (lambda email_id: outbox.cancel(db, actor, email_id), {"email_id": ids}),
        "outbox.retry": (lambda email_id: outbox.retry(db, actor, email_id, settings=settings),
                          {"email_id": ids}),
        "outbox.get_email": (lambda email_id: outbox.get_email(db, actor, email_id), {"email_id": ids}),
        "outbox.list_emails": (lambda status, after, limit: outbox.list_emails(
            db, actor, status=status, after=after, limit=limit),
            {"status": any_value, "after": st.one_of(ids, st.none()), "limit": st.integers(-5, 600)}),
        "suppressions.add": (lambda value, reason: suppressions.add(db, actor, value, reason),
                             {"value": any_value, "reason": any_value}),
        "suppressions.remove": (lambda value: suppressions.remove(db, actor, value), {"value": any_value}),
        "templates.get": (lambda template_id: templates.get(db, actor, template_id), {"template_id": ids}),
        "preferences.update": (lambda name, tone: preferences.update(db, actor, sender_name=name,
                                                                     default_tone=tone),
                               {"name": any_value, "tone": st.one_of(st.floats(), any_value)}),
        "accounts.add_account": (lambda provider, email, name: accounts.add_account(
            db, actor, provider=provider, email=email, name=name),
            {"provider": st.one_of(st.sampled_from(["maildir", "smtp", "gmail"]), any_value),
             "email": any_value, "name": any_value}),
        "accounts.remove_account": (lambda ref: accounts.remove_account(db, actor, ref), {"ref": ids}),
        "stats.stats": (lambda days: stats.stats(db, actor, days=days),
                        {"days": st.one_of(st.integers(), any_value)}),
        "stats.mark_alerts_read": (lambda alert_ids: stats.mark_alerts_read(db, actor, alert_ids),
                                   {"alert_ids": st.one_of(st.lists(some_id, max_size=3), any_value)}),
    }


VERB_NAMES = sorted([
    "prospects.get", "prospects.list", "prospects.update", "drafts.get", "drafts.create",
    "drafts.save_next", "drafts.delete", "sending.send", "outbox.cancel", "outbox.retry",
    "outbox.get_email", "outbox.list_emails", "suppressions.add", "suppressions.remove",
    "templates.get", "preferences.update", "accounts.add_account", "accounts.remove_account",
    "stats.stats", "stats.mark_alerts_read",
])


@pytest.mark.parametrize("verb", VERB_NAMES)
def test_every_verb_rejects_only_with_documented_errors(db: Database, actor: Actor, verb: str) -> None:
    from lumina_tui.config import load_settings
    from lumina_tui.services import accounts, sending

    settings_ = load_settings()
    accounts.add_account(db, actor, provider="maildir", email="sam@acme.test", name="Outbox",
                         make_default=True)
    prospect = prospects.create(db, actor, email="ana@brightwave.example", first_name="Ana")
    draft = drafts.create(db, actor, prospect_id=prospect.id, subject="Hi", body="Hi Ana,\n\nA call?")
    sent = drafts.create(db, actor, prospect_id=prospect.id, subject="Hi", body="Hi Ana,\n\nAgain?")
    email = sending.send(db, actor, draft_id=sent.id, settings=settings_).email
    world = {"db": db, "actor": actor, "settings": settings_, "prospect": prospect.id, "draft": draft.id,
             "email": email.id}
    call, arguments = _verbs(world)[verb]
    failures: list[str] = []

    @FUZZ
    @given(kwargs=st.fixed_dictionaries(arguments))
    def run(kwargs: dict[str, Any]) -> None:
        before = snapshot(db.path)
        try:
            call(**kwargs)
        except LuminaError:
            if snapshot(db.path) != before:
                failures.append(f"{verb}({kwargs!r:.300}) was refused but changed the database")
        except Exception as exc:  # what the fuzzing is looking for
            failures.append(f"{verb}({kwargs!r:.300}) raised {exc!r:.300}")

    run()
    assert not failures, "\n".join(failures[:5])
