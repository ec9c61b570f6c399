"""Gmail history.list and Graph delta sync against the wire-format fakes (tests/fakes), through the
real google-api-python-client and httpx: replies by Gmail's replaced Message-ID, by threadId and by
conversationId, bounces from the returned headers, and resyncs after an expired history id (404) or
delta token (410) that record nothing twice."""

from __future__ import annotations

import base64
import random
import secrets
from collections.abc import Callable, Iterator
from typing import Any

import httplib2
import httpx
import pytest
from fakes import mime
from fakes.gmail_server import GmailServer
from fakes.graph_server import GraphServer
from googleapiclient.discovery import build
from googleapiclient.errors import HttpError
from mailbox_support import event_count, events_of, send_to, status_of, suppression_for
from sqlalchemy import update

from lumina_tui.config import Settings
from lumina_tui.providers.base import PermanentProviderError, ProviderError, TransientProviderError
from lumina_tui.providers.gmail_inbox import GmailInbox
from lumina_tui.providers.mime_builder import build_message
from lumina_tui.providers.outlook_inbox import OutlookInbox
from lumina_tui.services import accounts, mailbox_sync
from lumina_tui.services import outbox as outbox_service
from lumina_tui.services.actors import Actor
from lumina_tui.services.email_state import EmailStatus
from lumina_tui.store import Database
from lumina_tui.store.models import Account, Email
from lumina_tui.worker import tasks
from lumina_tui.worker.provider_pool import ProviderPool

TOKEN = "static-test-access-token"


def _error(status: int, text: str) -> ProviderError:
    """What the providers' callers raise (transient for 429/5xx, else permanent), with the status."""
    kind = TransientProviderError if status == 429 or status >= 500 else PermanentProviderError
    return kind(text, code=status)


@pytest.fixture
def gmail() -> Iterator[GmailServer]:
    with GmailServer(user="sam@acme.test") as server:
        server.allow_token(TOKEN)
        yield server


@pytest.fixture
def graph() -> Iterator[GraphServer]:
    with GraphServer(user="sam@acme.test") as server:
        server.allow_token(TOKEN)
        yield server


def gmail_executor(gmail: GmailServer) -> Callable[[Callable[[Any], Any]], Any]:
    service = build(
        "gmail",
        "v1",
        http=httplib2.Http(timeout=60),
        static_discovery=True,
        cache_discovery=False,
        client_options={"api_endpoint": gmail.url},
    )

    def execute(make: Callable[[Any], Any]) -> Any:
        request = make(service.users())
        request.headers["Authorization"] = f"Bearer {TOKEN}"
        try:
            return request.execute(num_retries=0)
        except HttpError as exc:
            raise _error(int(exc.resp.status), str(exc)) from None

    return execute


def graph_caller(graph: GraphServer) -> tuple[Callable[..., Any], httpx.Client]:
    client = httpx.Client(
        base_url=graph.base_url.rstrip("/") + "/", timeout=60, headers={"Prefer": 'IdType="ImmutableId"'}
    )

    def call(method: str, url: str, *, params: dict[str, Any] | None = None, json: Any = None) -> Any:
        response = client.request(
            method, url, params=params, json=json, headers={"Authorization": f"Bearer {TOKEN}"}
        )
        if response.status_code >= 400:
            raise _error(response.status_code, response.text[:200])
        return response

    return call, client


@pytest.fixture
def outbox(db: Database, actor: Actor) -> Account:
    return accounts.add_account(db, actor, provider="maildir", email="sam@acme.test", make_default=True)


@pytest.fixture
def deliver(
    db: Database, actor: Actor, settings: Settings, outbox: Account
) -> Iterator[Callable[[str], Email]]:
    ctx = tasks.WorkerRuntime(
        settings=settings,
        db=db,
        worker_id=tasks.new_worker_id(),
        providers=ProviderPool(db, settings),
        rng=random.Random(5),
    )

    def deliver_to(address: str) -> Email:
        email = send_to(db, actor, settings, address)
        assert tasks.send_email(ctx, email.id) == "sent"
        return outbox_service.get_email(db, actor, email.id)

    yield deliver_to
    ctx.providers.close_all()


def went_out_as(db: Database, email: Email, *, message_id: str, thread_id: str) -> None:
    """What the Gmail/Outlook provider stores when it finishes a send (mutable delivery columns)."""
    with db.write() as session:
        session.execute(
            update(Email)
            .where(Email.id == email.id)
            .values(sent_message_id=message_id, provider_thread_id=thread_id)
        )


def raw_of(email: Email) -> bytes:
    message = build_message(
        from_email=email.from_email,
        from_name=email.from_name,
        to_email=email.to_email,
        to_name=email.to_name,
        subject=email.subject,
        body_text=email.body_text,
        body_html=email.body_html,
        message_id=email.message_id,
        email_id=email.id,
        date=email.send_after,
        cc=email.cc,
        bcc=email.bcc,
    )
    return bytes(message)


def sync(db: Database, settings: Settings, actor: Actor, account: Account, reader: Any):
    (report,) = mailbox_sync.sync_all(db, settings, actor, account_ref=account.id, opener=lambda _row: reader)
    assert report.error is None, report.error
    return report


# -- Gmail -----------------------------------------------------------------------------------------


def gmail_send(gmail: GmailServer, db: Database, email: Email) -> Any:
    """Send through the fake's users.messages.send, as the Gmail provider does; Gmail replaces our
    Message-ID, so the row learns the one it went out with."""
    execute = gmail_executor(gmail)
    raw = base64.urlsafe_b64encode(raw_of(email)).decode()
    sent = execute(lambda users: users.messages().send(userId="me", body={"raw": raw}))
    (message,) = [m for m in gmail.sent() if m.id == sent["id"]]
    assert message.header("Message-ID") != email.message_id  # replaced, as Gmail does
    went_out_as(db, email, message_id=str(message.header("Message-ID")), thread_id=sent["threadId"])
    return message


def test_gmail_history_sync_finds_replies_and_bounces_and_resyncs_after_a_404_without_duplicates(
    db: Database,
    actor: Actor,
    settings: Settings,
    outbox: Account,
    deliver: Callable[[str], Email],
    gmail: GmailServer,
) -> None:
    answered, bounced, threaded = (deliver(f"{n}@brightwave.example") for n in ("ana", "ben", "cy"))
    sent = {e.id: gmail_send(gmail, db, e) for e in (answered, bounced, threaded)}
    reader = GmailInbox(gmail_executor(gmail))

    gmail.reply(sent[answered.id], text="Tuesday works. Send an invite?")
    gmail.bounce(sent[bounced.id], recipient="ben@brightwave.example")
    first = sync(db, settings, actor, outbox, reader)  # no cursor yet: the INBOX is listed

    assert (first.read, first.replied, first.bounced, first.hard_bounced) == (2, 1, 1, 1)
    (replied,) = events_of(db, answered.id, "replied")
    assert replied.provider == "gmail"
    assert replied.event_data["snippet"] == "Tuesday works. Send an invite?"
    assert replied.event_data["matched_by"] == "in-reply-to"  # Gmail's Message-ID, not ours
    assert replied.event_data["thread_id"] == sent[answered.id].thread_id
    assert status_of(db, bounced.id) == EmailStatus.BOUNCED
    assert suppression_for(db, "ben@brightwave.example") is not None
    cursor = mailbox_sync.cursor_status(db, actor, outbox.id)["gmail"]["cursor"]
    assert int(cursor["history_id"]) == gmail.mailbox().history_id

    quiet = sync(db, settings, actor, outbox, reader)  # history.list from the stored historyId
    assert (quiet.read, quiet.replied, quiet.bounced, quiet.full_resync) == (0, 0, 0, False)

    # A reply whose client dropped In-Reply-To/References: Gmail still threads it with ours.
    stripped = mime.reply_to(sent[threaded.id].raw, text="Yes - call me Thursday.", quote=False)
    stripped = b"\r\n".join(
        line for line in stripped.split(b"\r\n") if not line.startswith((b"In-Reply-To:", b"References:"))
    )
    gmail.deliver(stripped, thread_id=sent[threaded.id].thread_id)
    later = sync(db, settings, actor, outbox, reader)
    assert (later.read, later.replied, later.full_resync) == (1, 1, False)
    (by_thread,) = events_of(db, threaded.id, "replied")
    assert by_thread.event_data["matched_by"] == "thread"
    recorded = event_count(db)

    gmail.expire_history()  # the stored historyId now answers 404
    resync = sync(db, settings, actor, outbox, reader)
    assert resync.full_resync is True
    assert resync.read == 3 and resync.duplicates == 3
    assert (resync.replied, resync.bounced) == (0, 0)
    assert event_count(db) == recorded
    again = sync(db, settings, actor, outbox, reader)
    assert (again.read, again.full_resync) == (0, False)


def test_gmail_first_sync_ignores_what_arrived_before_the_account_and_our_own_sent_copies(
    db: Database,
    actor: Actor,
    settings: Settings,
    outbox: Account,
    deliver: Callable[[str], Email],
    gmail: GmailServer,
) -> None:
    email = deliver("ana@brightwave.example")
    gmail_send(gmail, db, email)
    # Our own message lands in the INBOX too (sent to self, or a label rule): it is not a reply.
    copy = next(m for m in gmail.sent() if m.header("X-Lumina-Email-Id") == email.id)
    gmail.deliver(copy.raw)
    report = sync(db, settings, actor, outbox, GmailInbox(gmail_executor(gmail)))
    assert (report.read, report.replied) == (1, 0)
    assert events_of(db, email.id, "replied") == []


# -- Outlook (Graph) -------------------------------------------------------------------------------


def graph_send(graph: GraphServer, call: Callable[..., Any], db: Database, email: Email) -> Any:
    """Create then send, as the Outlook provider does; Graph assigns the Message-ID and conversation."""
    created = call(
        "POST",
        "me/messages",
        json={
            "subject": email.subject,
            "body": {"contentType": "Text", "content": email.body_text},
            "toRecipients": [{"emailAddress": {"address": email.to_email, "name": email.to_name}}],
            "internetMessageHeaders": [{"name": "x-lumina-email-id", "value": email.id}],
        },
    ).json()
    call("POST", f"me/messages/{created['id']}/send")
    read = call(
        "GET", f"me/messages/{created['id']}", params={"$select": "internetMessageId,conversationId"}
    ).json()
    went_out_as(db, email, message_id=read["internetMessageId"], thread_id=read["conversationId"])
    (message,) = graph.with_header("x-lumina-email-id", email.id)
    return message


def test_graph_delta_sync_finds_replies_and_bounces_and_resyncs_after_a_410_without_duplicates(
    db: Database,
    actor: Actor,
    settings: Settings,
    outbox: Account,
    deliver: Callable[[str], Email],
    graph: GraphServer,
) -> None:
    call, client = graph_caller(graph)
    try:
        answered, bounced, threaded = (deliver(f"{n}@northpeak.example") for n in ("dana", "eli", "fay"))
        sent = {e.id: graph_send(graph, call, db, e) for e in (answered, bounced, threaded)}
        reader = OutlookInbox(call)

        graph.reply(sent[answered.id], text="Happy to talk next week.")
        graph.bounce(sent[bounced.id], recipient="eli@northpeak.example")
        first = sync(db, settings, actor, outbox, reader)

        assert (first.read, first.replied, first.bounced, first.hard_bounced) == (2, 1, 1, 1)
        (replied,) = events_of(db, answered.id, "replied")
        assert replied.provider == "outlook"
        assert replied.event_data["snippet"] == "Happy to talk next week."
        assert replied.event_data["thread_id"] == sent[answered.id].data["conversationId"]
        assert status_of(db, bounced.id) == EmailStatus.BOUNCED
        (bounce,) = events_of(db, bounced.id, "bounced")
        assert bounce.event_data["matched_by"] == "original-headers"  # the lower-case x- header
        assert "delta_link" in mailbox_sync.cursor_status(db, actor, outbox.id)["outlook"]["cursor"]

        quiet = sync(db, settings, actor, outbox, reader)  # the stored delta link: nothing new
        assert (quiet.read, quiet.replied, quiet.full_resync) == (0, 0, False)

        loose = mime.reply_to(graph.mime_of(sent[threaded.id]), text="Call me Friday.", quote=False)
        loose = b"\r\n".join(
            line for line in loose.split(b"\r\n") if not line.startswith((b"In-Reply-To:", b"References:"))
        )
        graph.deliver(loose, conversation_id=sent[threaded.id].data["conversationId"])
        later = sync(db, settings, actor, outbox, reader)
        assert (later.read, later.replied) == (1, 1)
        assert events_of(db, threaded.id, "replied")[0].event_data["matched_by"] == "thread"
        recorded = event_count(db)

        graph.expire_delta_tokens()  # the stored delta link now answers 410 SyncStateNotFound
        resync = sync(db, settings, actor, outbox, reader)
        assert resync.full_resync is True
        assert resync.read == 3 and resync.duplicates == 3
        assert event_count(db) == recorded
    finally:
        client.close()


def test_a_sync_state_error_other_than_expiry_is_reported_and_keeps_the_cursor(
    db: Database, actor: Actor, settings: Settings, outbox: Account, graph: GraphServer
) -> None:
    call, client = graph_caller(graph)
    try:
        reader = OutlookInbox(call)
        sync(db, settings, actor, outbox, reader)
        before = mailbox_sync.cursor_status(db, actor, outbox.id)["outlook"]
        graph.inject_fault("delta", status=503, apply=True)
        (report,) = mailbox_sync.sync_all(
            db, settings, actor, account_ref=outbox.id, opener=lambda _r: reader
        )
        assert report.error_kind == "transient" and "503" in (report.error or "")
        after = mailbox_sync.cursor_status(db, actor, outbox.id)["outlook"]
        assert after["cursor"] == before["cursor"] and after["last_error"] == report.error
    finally:
        client.close()


def test_a_token_the_provider_refuses_never_reaches_the_report(
    db: Database, actor: Actor, settings: Settings, outbox: Account, gmail: GmailServer
) -> None:
    bad = "refused-token-" + secrets.token_hex(8)
    service = build(
        "gmail", "v1", http=httplib2.Http(timeout=60), static_discovery=True, cache_discovery=False,
        client_options={"api_endpoint": gmail.url},
    )  # fmt: skip

    def execute(make: Callable[[Any], Any]) -> Any:
        request = make(service.users())
        request.headers["Authorization"] = f"Bearer {bad}"
        try:
            return request.execute(num_retries=0)
        except HttpError as exc:
            raise _error(int(exc.resp.status), f"{exc} (sent Bearer {bad})") from None

    (report,) = mailbox_sync.sync_all(
        db, settings, actor, account_ref=outbox.id, opener=lambda _r: GmailInbox(execute)
    )
    assert report.error and bad not in report.error


def test_paged_history_and_delta_record_every_reply_once(
    db: Database,
    actor: Actor,
    settings: Settings,
    outbox: Account,
    deliver: Callable[[str], Email],
    gmail: GmailServer,
    graph: GraphServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Gmail pages of 3 (history and listing) and Graph's delta pages of 10, over 12 replies each."""
    from lumina_tui.providers import gmail_inbox

    monkeypatch.setattr(gmail_inbox, "PAGE_SIZE", 3)
    call, client = graph_caller(graph)
    try:
        emails = [deliver(f"p{n}@brightwave.example") for n in range(12)]
        on_gmail = {e.id: gmail_send(gmail, db, e) for e in emails[:6]}
        on_graph = {e.id: graph_send(graph, call, db, e) for e in emails[6:]}
        gmail_reader, graph_reader = GmailInbox(gmail_executor(gmail)), OutlookInbox(call)
        for email in emails[:3]:
            gmail.reply(on_gmail[email.id], text=f"Yes from {email.to_email}")
        first = sync(db, settings, actor, outbox, gmail_reader)  # a listing of 3 replies, pages of 3
        for email in emails[3:6]:
            gmail.reply(on_gmail[email.id], text=f"Yes from {email.to_email}")
            gmail.reply(on_gmail[email.id], text=f"And again from {email.to_email}")
        later = sync(db, settings, actor, outbox, gmail_reader)  # history: 6 records, pages of 3
        for email in emails[6:]:
            for n in range(2):
                graph.reply(on_graph[email.id], text=f"Reply {n} from {email.to_email}")
        delta = sync(db, settings, actor, outbox, graph_reader)  # 12 replies, delta pages of 10

        assert (first.read, first.replied) == (3, 3)
        assert (later.read, later.replied) == (6, 6)
        assert (delta.read, delta.replied) == (12, 12)
        assert [len(events_of(db, e.id, "replied")) for e in emails] == [1, 1, 1] + [2] * 9
        cursors = mailbox_sync.cursor_status(db, actor, outbox.id)
        assert int(cursors["gmail"]["cursor"]["history_id"]) == gmail.mailbox().history_id
        assert "$deltatoken=" in cursors["outlook"]["cursor"]["delta_link"]
    finally:
        client.close()
