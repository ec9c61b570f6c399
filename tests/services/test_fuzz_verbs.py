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
from lumina_tui.services.context import Actor
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
