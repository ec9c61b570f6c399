"""The wire-format fakes answer the real client libraries as Google and Microsoft do: the Gmail client
built from its bundled discovery document, google-auth's refresh, msal's device-code flow against a
local authority, and Graph over httpx. (The providers' own tests build on these fakes.)
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from email.message import EmailMessage

import httplib2
import httpx
import pytest
from fakes.gmail_server import GmailServer
from fakes.graph_server import PS_INTERNET_HEADERS, GraphServer
from fakes.oauth_server import OAuthServer


@pytest.fixture(autouse=True)
def trust_fake_ca(oauth: OAuthServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(oauth.ca_file))
    yield


def _gmail_client(server: GmailServer):
    from googleapiclient.discovery import build

    return build(
        "gmail",
        "v1",
        http=httplib2.Http(timeout=60),
        static_discovery=True,
        client_options={"api_endpoint": server.url},
        cache_discovery=False,
    )


def _raw(to: str = "ana@brightwave.example", email_id: str = "e-1") -> str:
    message = EmailMessage()
    message["From"] = "rep@acme.test"
    message["To"] = to
    message["Subject"] = "Quick question"
    message["Message-ID"] = f"<{email_id}@acme.test>"
    message["X-Lumina-Email-Id"] = email_id
    message.set_content("Hi Ana,\n\nWould Tuesday work?\n")
    return base64.urlsafe_b64encode(message.as_bytes()).decode()


def _authorized(request, token: str):
    request.headers["Authorization"] = f"Bearer {token}"
    return request


def test_gmail_fake_speaks_the_discovery_client(oauth: OAuthServer, gmail: GmailServer) -> None:
    from google.auth.transport.requests import Request
    from google.oauth2.credentials import Credentials
    from googleapiclient.errors import HttpError

    tokens = oauth.issue_tokens()
    credentials = Credentials(
        None,
        refresh_token=tokens["refresh_token"],
        token_uri=oauth.google_token_uri,
        client_id=oauth.client_id,
        client_secret=oauth.client_secret,
    )
    credentials.refresh(Request())  # google-auth's own refresh, over HTTPS to the fake
    assert oauth.user_for(credentials.token) == "rep@acme.test"
    service = _gmail_client(gmail)
    users = service.users()

    sent = _authorized(users.messages().send(userId="me", body={"raw": _raw()}), credentials.token).execute(
        num_retries=0
    )
    assert set(sent) == {"id", "threadId", "labelIds"} and sent["labelIds"] == ["SENT"]
    stored = gmail.with_header("X-Lumina-Email-Id", "e-1")
    assert len(stored) == 1 and stored[0].header("Message-ID") != "<e-1@acme.test>"  # Gmail's own id

    meta = _authorized(
        users.messages().get(
            userId="me", id=sent["id"], format="metadata", metadataHeaders=["Message-ID", "X-Lumina-Email-Id"]
        ),
        credentials.token,
    ).execute()
    names = {h["name"]: h["value"] for h in meta["payload"]["headers"]}
    assert names == {"Message-ID": stored[0].header("Message-ID"), "X-Lumina-Email-Id": "e-1"}

    found = _authorized(
        users.messages().list(userId="me", q="in:sent to:ana@brightwave.example newer_than:1d"),
        credentials.token,
    ).execute()
    assert [m["id"] for m in found["messages"]] == [sent["id"]]
    none = _authorized(users.messages().list(userId="me", q="in:inbox"), credentials.token).execute()
    assert none == {"resultSizeEstimate": 0}

    profile = _authorized(users.getProfile(userId="me"), credentials.token).execute()
    start = int(profile["historyId"])
    reply = gmail.reply(stored[0], from_addr="ana@brightwave.example", text="Tuesday works.")
    assert reply.thread_id == sent["threadId"]
    history = _authorized(
        users.history().list(userId="me", startHistoryId=str(start), historyTypes="messageAdded"),
        credentials.token,
    ).execute()
    added = [a["message"]["id"] for h in history["history"] for a in h["messagesAdded"]]
    assert added == [reply.id] and int(history["historyId"]) > start
    full = _authorized(users.messages().get(userId="me", id=reply.id), credentials.token).execute()
    assert full["threadId"] == sent["threadId"] and "Tuesday works." in full["snippet"]

    gmail.expire_history()
    with pytest.raises(HttpError) as expired:
        _authorized(users.history().list(userId="me", startHistoryId=str(start)), credentials.token).execute()
    assert expired.value.resp.status == 404

    gmail.inject_fault("send", status=403, reason="dailyLimitExceeded")
    with pytest.raises(HttpError) as limited:
        _authorized(
            users.messages().send(userId="me", body={"raw": _raw(email_id="e-2")}), credentials.token
        ).execute(num_retries=0)
    assert (
        limited.value.resp.status == 403 and limited.value.error_details[0]["reason"] == "dailyLimitExceeded"
    )
    assert gmail.with_header("X-Lumina-Email-Id", "e-2") == []

    gmail.inject_fault("send", status=500, apply=True)  # accept-then-fail
    with pytest.raises(HttpError):
        _authorized(
            users.messages().send(userId="me", body={"raw": _raw(email_id="e-3")}), credentials.token
        ).execute(num_retries=0)
    assert len(gmail.with_header("X-Lumina-Email-Id", "e-3")) == 1

    oauth.expire_access_tokens()
    with pytest.raises(HttpError) as unauthorized:
        _authorized(users.getProfile(userId="me"), credentials.token).execute()
    assert unauthorized.value.resp.status == 401
    oauth.revoke()
    from google.auth.exceptions import RefreshError

    with pytest.raises(RefreshError, match="invalid_grant"):
        credentials.refresh(Request())


def test_msal_device_flow_and_graph_over_httpx(oauth: OAuthServer, graph: GraphServer) -> None:
    import msal

    app = msal.PublicClientApplication(
        oauth.client_id,
        authority=oauth.authority,
        instance_discovery=False,
        token_cache=msal.SerializableTokenCache(),
    )
    scopes = ["Mail.Send", "Mail.ReadWrite"]
    flow = app.initiate_device_flow(scopes=scopes)
    assert flow["user_code"] in oauth.device_codes and flow["user_code"] in flow["message"]
    oauth.device_interval = 0
    result = app.acquire_token_by_device_flow(flow)
    assert "access_token" in result, result
    accounts = app.get_accounts()
    assert [a["username"] for a in accounts] == ["rep@acme.test"]

    oauth.expire_access_tokens()
    silent = app.acquire_token_silent(scopes, account=accounts[0], force_refresh=True)
    assert silent and silent["access_token"] != result["access_token"]
    token = silent["access_token"]

    headers = {"Authorization": f"Bearer {token}", "Prefer": 'IdType="ImmutableId"'}
    with httpx.Client(base_url=graph.base_url + "/", headers=headers, timeout=60) as client:
        created = client.post(
            "me/messages",
            json={
                "subject": "Quick question",
                "body": {"contentType": "text", "content": "Hi Ana"},
                "toRecipients": [{"emailAddress": {"address": "ana@brightwave.example"}}],
                "internetMessageHeaders": [{"name": "x-lumina-email-id", "value": "e-1"}],
            },
        )
        assert created.status_code == 201, created.text
        draft = created.json()
        assert client.post(f"me/messages/{draft['id']}/send").status_code == 202
        prop = f"String {PS_INTERNET_HEADERS} Name x-lumina-email-id"
        found = client.get(
            "me/mailFolders/SentItems/messages",
            params={
                "$filter": f"singleValueExtendedProperties/any(ep: ep/id eq '{prop}' and ep/value eq 'e-1')",
                "$select": "id,internetMessageId,conversationId",
            },
        ).json()["value"]
        assert [m["id"] for m in found] == [draft["id"]]  # immutable id: the same after the move

        delta = client.get("me/mailFolders/inbox/messages/delta").json()
        assert delta["value"] == [] and "@odata.deltaLink" in delta
        reply = graph.reply(graph.sent()[0], from_addr="ana@brightwave.example", text="Tuesday works.")
        changes = client.get(delta["@odata.deltaLink"]).json()
        assert [m["id"] for m in changes["value"]] == [reply.immutable_id]  # asked for immutable ids
        assert changes["value"][0]["conversationId"] == found[0]["conversationId"]

        bad = client.post(
            "me/messages", json={"subject": "x", "internetMessageHeaders": [{"name": "Lumina", "value": "1"}]}
        )
        assert bad.status_code == 400 and bad.json()["error"]["code"] == "InvalidInternetMessageHeader"
        graph.inject_fault("send", status=429, retry_after=3)
        throttled = client.post(
            f"me/messages/{client.post('me/messages', json={'subject': 'y'}).json()['id']}/send"
        )
        assert throttled.status_code == 429 and throttled.headers["Retry-After"] == "3"
        graph.expire_delta_tokens()
        assert client.get(changes["@odata.deltaLink"]).status_code == 410

    oauth.revoke()
    refused = app.acquire_token_silent_with_error(scopes, account=accounts[0], force_refresh=True)
    assert refused is not None and refused["error"] == "invalid_grant"
