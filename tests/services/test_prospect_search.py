"""`prospects list --search`: what the rep typed is matched literally, `%` and `_` included."""

from __future__ import annotations

from lumina_tui.services import prospects


def _emails(db, actor, search: str) -> set[str]:
    return {p.email for p in prospects.list_prospects(db, actor, search=search).items}


def test_percent_and_underscore_in_a_search_are_literal(db, actor) -> None:
    prospects.create(db, actor, email="ana@example.com", company="100% Remote Ltd")
    prospects.create(db, actor, email="bob@example.com", company="1000 Seats Inc")
    prospects.create(db, actor, email="c_d@example.com", company="Underscore")
    prospects.create(db, actor, email="cxd@example.com", company="Letters")
    assert _emails(db, actor, "100%") == {"ana@example.com"}  # not "1000 Seats": % is no wildcard
    assert _emails(db, actor, "%") == {"ana@example.com"}
    assert _emails(db, actor, "c_d") == {"c_d@example.com"}  # not cxd: _ is no wildcard
    assert _emails(db, actor, "/") == set()  # the escape character itself is plain too
    assert _emails(db, actor, "seats") == {"bob@example.com"}


def test_an_offset_past_any_page_is_an_empty_page_not_an_overflow(db, actor) -> None:
    prospects.create(db, actor, email="ana@example.com")
    page = prospects.list_prospects(db, actor, offset=99999999999999999999)
    assert (page.items, page.total) == ([], 1)
