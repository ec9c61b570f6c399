"""Property-based fuzzing of the inbound mailbox parser (issue 14 point 5): malformed MIME.

Real delivery reports (Postfix, Gmail, Exchange Online, qmail, a delayed-delivery warning) and a
real reply, each naming one email we sent, are broken the ways mail breaks: cut short, bytes
inserted or removed, a header's value replaced with hostile Unicode or control characters,
boundaries and charsets and transfer encodings that lie, or nothing but random bytes. Each goes
through mailbox sync, as a message read from the rep's inbox. Whatever it is:

- the sync finishes without an exception and without an account error (one bad message must not
  stop a mailbox from being read);
- nothing wrong is stored: events only for the email we sent, only `replied` or `bounced`; only
  that email's status may change, and only to BOUNCED; a suppression only for its recipient;
- reading the same message again records nothing new.

Bounded for `make test` (LUMINA_FUZZ_EXAMPLES, default 15); `make fuzz` runs more.
"""

from __future__ import annotations

import os
import random
from pathlib import Path
from typing import Any

import pytest
from db_snapshot import snapshot
from mailbox_support import reply_to

pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_bounce_and_reply_parsing import DATA, FixtureInbox, deliver, fixture, outbox  # noqa: F401

from lumina_tui.config import Settings
from lumina_tui.services import mailbox_sync
from lumina_tui.services.actors import Actor
from lumina_tui.store import Database
from lumina_tui.store.models import Account, Email

EXAMPLES = int(os.environ.get("LUMINA_FUZZ_EXAMPLES", "15"))
FUZZ = settings(max_examples=EXAMPLES * 2, deadline=None, derandomize=EXAMPLES <= 50,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

# Each report returns a message to its own recipient (as in test_bounce_and_reply_parsing.py).
REPORTS = {
    "postfix_unknown_user.eml": "ana.okafor@lumina.test",
    "gmail_address_not_found.eml": "ana.okafor@brightwave.example",
    "exchange_online_recipient_not_found.eml": "dana.ruiz@northpeak.example",
    "qmail_non_dsn.eml": "li.wei@oldhost.example",
    "gmail_delayed.eml": "ben.hale@slowmail.example",
}
HOSTILE = st.one_of(
    st.text(max_size=60),
    st.text(st.sampled_from("\x00\x07\x1b\r\n\t\u202e\u200b\ufeff\u2028\x85=?<>\"';:@"), max_size=30),
    st.sampled_from(["=?utf-8?B?////?=", "=?x-unknown?Q?=FF=FE?=", "=?utf-8?q?", "<<<@>>>", "()" * 50]),
    st.builds(lambda c, n: c * n, st.sampled_from("a\u00e9\U0001f642"), st.integers(1000, 200_000)),
)
HEADERS = ["From", "To", "Subject", "Message-ID", "In-Reply-To", "References", "Date", "Content-Type",
           "Content-Transfer-Encoding", "X-Lumina-Email-Id", "Auto-Submitted", "Final-Recipient",
           "Status", "Action", "Return-Path"]


def mutate(raw: bytes, steps: list[tuple[str, Any, Any]]) -> bytes:
    """Apply the drawn damage to a message, step by step."""
    data = bytearray(raw)
    for kind, a, b in steps:
        at = int(a * len(data)) if data else 0
        if kind == "cut":
            del data[at:]
        elif kind == "insert":
            data[at:at] = b
        elif kind == "delete":
            del data[at : at + len(b) + 1]
        elif kind == "header":
            name, value = b
            line = f"{name}: {value}\r\n".encode("utf-8", "surrogatepass")
            split = data.find(b"\r\n\r\n")
            data[0:0] = line if split < 0 or a < 0.5 else b""
            if a >= 0.5:
                data[split + 2 : split + 2] = line
        elif kind == "lie":  # a header that misdescribes the body
            data[0:0] = random.Random(at).choice([
                b"Content-Type: multipart/mixed; boundary=\"\"\r\n",
                b"Content-Type: multipart/report; report-type=delivery-status\r\n",
                b"Content-Type: text/plain; charset=\"x-no-such-charset\"\r\n",
                b"Content-Transfer-Encoding: base64\r\n",
                b"Content-Transfer-Encoding: quoted-printable\r\n",
                b"Content-Type: message/rfc822\r\n",
            ])
    return bytes(data)


steps = st.lists(
    st.one_of(
        st.tuples(st.just("cut"), st.floats(0, 1), st.none()),
        st.tuples(st.just("insert"), st.floats(0, 1), st.binary(min_size=1, max_size=40)),
        st.tuples(st.just("delete"), st.floats(0, 1), st.binary(max_size=200)),
        st.tuples(st.just("header"), st.floats(0, 1), st.tuples(st.sampled_from(HEADERS), HOSTILE)),
        st.tuples(st.just("lie"), st.floats(0, 1), st.none()),
    ),
    min_size=1,
    max_size=4,
)


def _outside(before: dict[str, list[Any]], after: dict[str, list[Any]], table: str) -> list[Any]:
    old = set(before.get(table, []))
    return [row for row in after.get(table, []) if row not in old]


def _columns(db: Database, table: str) -> list[str]:
    import sqlite3

    with sqlite3.connect(db.path) as conn:
        return [row[1] for row in conn.execute(f'PRAGMA table_info("{table}")')]


def test_malformed_mail_is_read_without_errors_and_stores_nothing_wrong(
    db: Database, actor: Actor, settings: Settings, outbox: Account, deliver: Any  # noqa: F811
) -> None:
    sent_to: dict[str, Email] = {name: deliver(address) for name, address in REPORTS.items()}
    ours = {email.id for email in sent_to.values()}
    recipients = {email.to_email for email in sent_to.values()}
    reply = next(iter(sent_to.values()))
    originals = [fixture(name, email) for name, email in sent_to.items()]
    originals.append(reply_to(reply, "Yes, Tuesday works."))
    event_cols, email_cols = _columns(db, "email_events"), _columns(db, "emails")
    failures: list[str] = []

    @FUZZ
    @given(base=st.sampled_from(range(len(originals) + 1)), damage=steps,
           noise=st.binary(max_size=2000))
    def run(base: int, damage: list[tuple[str, Any, Any]], noise: bytes) -> None:
        raw = noise if base == len(originals) else mutate(originals[base], damage)
        before = snapshot(db.path)
        try:
            (report,) = mailbox_sync.sync_all(db, settings, actor, account_ref=outbox.id,
                                              opener=lambda _row: FixtureInbox([raw]))
            after = snapshot(db.path)
            (again,) = mailbox_sync.sync_all(db, settings, actor, account_ref=outbox.id,
                                             opener=lambda _row: FixtureInbox([raw]))
        except Exception as exc:  # what the fuzzing is looking for
            failures.append(f"{raw[:300]!r}: sync raised {exc!r:.300}")
            return
        problems = []
        if report.error is not None or again.error is not None:
            problems.append(f"account error {report.error or again.error!r}")
        for row in _outside(before, after, "email_events"):
            event = dict(zip(event_cols, row, strict=False))
            if event["email_id"] not in ours or event["event_type"] not in {"replied", "bounced"}:
                problems.append(f"event {event['event_type']} for {event['email_id']}")
        for row in _outside(before, after, "emails"):
            email = dict(zip(email_cols, row, strict=False))
            if email["id"] not in ours or email["status"] != "BOUNCED":
                problems.append(f"email {email['id']} became {email['status']}")
        for row in _outside(before, after, "suppressions"):
            if not recipients & set(row):
                problems.append(f"suppressed {row!r:.200}")
        if snapshot(db.path).get("email_events") != after.get("email_events"):
            problems.append("reading it again recorded more events")
        if problems:
            failures.append(f"{raw[:300]!r}: " + "; ".join(problems))

    run()
    assert not failures, "\n".join(failures[:5])


def test_the_fuzzer_sees_the_real_reports(db: Database, actor: Actor, settings: Settings,
                                          outbox: Account, deliver: Any) -> None:  # noqa: F811
    """The undamaged messages do what they mean (so the fuzzing starts from working mail)."""
    sent_to = {name: deliver(address) for name, address in REPORTS.items()}
    raws = [fixture(name, email) for name, email in sent_to.items()]
    raws.append(reply_to(next(iter(sent_to.values())), "Yes, Tuesday works."))
    (report,) = mailbox_sync.sync_all(db, settings, actor, account_ref=outbox.id,
                                      opener=lambda _row: FixtureInbox(raws))
    assert report.error is None
    assert (report.replied, report.bounced, report.hard_bounced) == (1, len(REPORTS), len(REPORTS) - 1)
    assert Path(DATA).is_dir()
