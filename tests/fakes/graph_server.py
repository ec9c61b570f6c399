"""A fake Microsoft Graph (v1.0 mail subset) on 127.0.0.1 speaking the real wire format, for httpx.

What it serves (operation names for faults in quotes), under {url}v1.0/:
    GET    me                                           "me"        id, mail, userPrincipalName
    POST   me/messages                                  "create"    a draft (201); internetMessageHeaders
                                                                    must be x- headers (else 400)
    POST   me/messages/{id}/send                        "send"      202, moves the draft to Sent Items
    GET    me/messages/{id}  ($select, $expand)         "get"
    GET    me/messages/{id}/$value                      "mime"      the message as MIME
    DELETE me/messages/{id}                             "delete"    204
    GET    me/messages | me/mailFolders/{f}/messages    "list"      $filter, $select, $top, $skip
    GET    me/mailFolders/{f}/messages/delta            "delta"     $deltatoken / $skiptoken, $select,
                                                                    Prefer: odata.maxpagesize=N
Folders: inbox, sentitems, drafts (well-known names, any case, or their ids).

Like Graph it: keeps a message's id across the move to Sent Items only when it was created with
`Prefer: IdType="ImmutableId"` (and answers immutable ids to requests that ask for them); assigns
internetMessageId (`<...@....PROD.OUTLOOK.COM>`) and conversationId itself (a message whose
In-Reply-To/References name one of the mailbox's joins its conversation); exposes an x- header as the
extended property `String {00020386-0000-0000-C000-000000000046} Name x-...`; answers 401
(InvalidAuthenticationToken) to an access token the OAuth fake does not know, 410
(SyncStateNotFound) to an expired delta token, and its errors as {"error": {"code", "message"}}.
`$filter` understands `a eq 'v'`, `a ge|gt|le|lt 2026-01-01T00:00:00Z`, `a eq true|false`, nested
paths (from/emailAddress/address), `singleValueExtendedProperties/any(ep: ep/id eq '..' and
ep/value eq '..')`, joined with `and`.

Test API:
    graph = GraphServer(oauth=oauth_server).start()  # or GraphServer(user=...) + allow_token(token)
    graph.base_url                                   "{url}v1.0" (Lumina's graph_url setting)
    graph.deliver(raw_bytes, user=None, folder="inbox") -> GraphMessage   (a reply, a bounce)
    graph.reply(to_message, ...) / graph.bounce(to_message, ...)          built from its MIME
    graph.sent(user=None) / graph.drafts(user=None) / graph.with_header("x-lumina-email-id", id)
    graph.expire_delta_tokens()                      every delta token so far answers 410
    graph.inject_fault("send", status=429, retry_after=1)  (see fakes.http_base for all faults)
"""

from __future__ import annotations

import email.policy
import re
import secrets
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any
from urllib.parse import quote

from fakes import mime
from fakes.http_base import FakeHttpServer, Request, Response

PS_INTERNET_HEADERS = "{00020386-0000-0000-C000-000000000046}"
_FOLDERS = {"inbox": "Inbox", "sentitems": "Sent Items", "drafts": "Drafts", "deleteditems": "Deleted Items"}
_CODES = {
    400: "ErrorInvalidRequest",
    401: "InvalidAuthenticationToken",
    403: "ErrorAccessDenied",
    404: "ErrorItemNotFound",
    410: "SyncStateNotFound",
    429: "ApplicationThrottled",
    500: "ErrorInternalServerError",
    503: "ServiceUnavailable",
    504: "GatewayTimeout",
}


def _now_text(at: float | None = None) -> str:
    return datetime.fromtimestamp(at if at is not None else time.time(), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _new_id() -> str:
    return "AAMkAD" + secrets.token_urlsafe(30).replace("-", "A").replace("_", "B") + "="


@dataclass
class GraphMessage:
    immutable_id: str
    rest_id: str
    folder: str  # a well-known folder name, lower case
    data: dict[str, Any]
    raw: bytes | None = None
    seq: int = 0
    immutable_requested: bool = False

    def header(self, name: str) -> str | None:
        for header in self.data.get("internetMessageHeaders") or []:
            if header.get("name", "").lower() == name.lower():
                return str(header.get("value"))
        return None


@dataclass
class _Mailbox:
    user: str
    folder_ids: dict[str, str] = field(default_factory=dict)
    messages: list[GraphMessage] = field(default_factory=list)
    left: list[tuple[int, str, str, str]] = field(default_factory=list)  # (seq, folder, rest, immutable)


class GraphServer(FakeHttpServer):
    label = "graph"

    def __init__(self, *, oauth: Any = None, user: str | None = None) -> None:
        super().__init__()
        self.oauth = oauth
        self.user = user or (oauth.user if oauth is not None else "rep@contoso.test")
        self._tokens: dict[str, str] = {}
        self._boxes: dict[str, _Mailbox] = {}
        self._state = threading.RLock()
        self._seq = 0
        self._oldest_delta = 0

    @property
    def base_url(self) -> str:
        return f"{self.url}v1.0"

    # -- test API ---------------------------------------------------------------------------------

    def allow_token(self, token: str, user: str | None = None) -> None:
        self._tokens[token] = user or self.user

    def mailbox(self, user: str | None = None) -> _Mailbox:
        key = (user or self.user).lower()
        with self._state:
            box = self._boxes.get(key)
            if box is None:
                box = self._boxes[key] = _Mailbox(user or self.user)
                box.folder_ids = {
                    name: "AAMkFolder" + name.title() + secrets.token_hex(6) for name in _FOLDERS
                }
            return box

    def _bump(self) -> int:
        with self._state:
            self._seq += 1
            return self._seq

    def deliver(
        self, raw: bytes, user: str | None = None, folder: str = "inbox", conversation_id: str | None = None
    ) -> GraphMessage:
        """Mail arriving in the mailbox (a reply, a bounce): its MIME as Graph shows it.
        `conversation_id` joins an existing conversation (Exchange also threads by Thread-Index)."""
        box = self.mailbox(user)
        parsed = mime.parse(raw)
        with self._state:
            data = _resource_from_mime(parsed)
            data["conversationId"] = conversation_id or self._conversation_for(box, parsed) or _new_id()
            data["receivedDateTime"] = _now_text()
            data["isDraft"] = False
            data["isRead"] = False
            message = GraphMessage(_new_id(), _new_id(), folder, data, raw, self._bump())
            box.messages.append(message)
            return message

    def reply(self, to_message: GraphMessage, user: str | None = None, **kwargs: Any) -> GraphMessage:
        return self.deliver(mime.reply_to(self.mime_of(to_message, user), **kwargs), user)

    def bounce(self, to_message: GraphMessage, user: str | None = None, **kwargs: Any) -> GraphMessage:
        kwargs.setdefault("reporting_mta", "NAM12-BN8-obe.outbound.protection.outlook.com")
        kwargs.setdefault("sender", "postmaster@contoso.test")
        return self.deliver(mime.dsn_for(self.mime_of(to_message, user), **kwargs), user)

    def sent(self, user: str | None = None) -> list[GraphMessage]:
        with self._state:
            return [m for m in self.mailbox(user).messages if m.folder == "sentitems"]

    def drafts(self, user: str | None = None) -> list[GraphMessage]:
        with self._state:
            return [m for m in self.mailbox(user).messages if m.folder == "drafts"]

    def with_header(self, name: str, value: str, user: str | None = None) -> list[GraphMessage]:
        with self._state:
            return [m for m in self.mailbox(user).messages if m.header(name) == value]

    def expire_delta_tokens(self) -> None:
        with self._state:
            self._oldest_delta = self._bump()

    def mime_of(self, message: GraphMessage, user: str | None = None) -> bytes:
        if message.raw is not None:
            return message.raw
        box = self.mailbox(user)
        return _mime_from_resource(message.data, box.user)

    # -- errors -----------------------------------------------------------------------------------

    def error_response(
        self, status: int, message: str, *, reason: str | None = None, retry_after: float | None = None
    ) -> Response:
        headers = {"Retry-After": str(int(retry_after))} if retry_after is not None else {}
        body = {
            "error": {
                "code": reason or _CODES.get(status, "UnknownError"),
                "message": message,
                "innerError": {
                    "date": _now_text(),
                    "request-id": str(uuid.uuid4()),
                    "client-request-id": str(uuid.uuid4()),
                },
            }
        }
        return Response.json(body, status, headers)

    # -- routing ----------------------------------------------------------------------------------

    def route(self, request: Request) -> tuple[str, Any]:
        path = request.path
        if not path.startswith("/v1.0/me"):
            raise LookupError(f"no route for {request.method} {path}")
        parts = [p for p in path[len("/v1.0/") :].split("/") if p]
        method = request.method

        def authed(serve: Any) -> Any:
            def run(r: Request) -> Response:
                box = self._authorize(r)
                if isinstance(box, Response):
                    return box
                return serve(r, box)

            return run

        if parts == ["me"] and method == "GET":
            return "me", authed(self._me)
        if parts == ["me", "messages"]:
            if method == "POST":
                return "create", authed(self._create)
            if method == "GET":
                return "list", authed(lambda r, box: self._list(r, box, None))
        if len(parts) == 3 and parts[:2] == ["me", "messages"]:
            if method == "GET":
                return "get", authed(lambda r, box: self._get(r, box, parts[2]))
            if method == "DELETE":
                return "delete", authed(lambda r, box: self._delete(r, box, parts[2]))
            if method == "PATCH":
                return "update", authed(lambda r, box: self._update(r, box, parts[2]))
        if len(parts) == 4 and parts[:2] == ["me", "messages"] and parts[3] == "send" and method == "POST":
            return "send", authed(lambda r, box: self._send(r, box, parts[2]))
        if len(parts) == 4 and parts[:2] == ["me", "messages"] and parts[3] == "$value" and method == "GET":
            return "mime", authed(lambda r, box: self._mime(r, box, parts[2]))
        folder_match = re.fullmatch(
            r"me/mailFolders(?:/([^/]+)|\('([^']+)'\))/messages(/delta)?", "/".join(parts), re.I
        )
        if folder_match and method == "GET":
            folder = folder_match.group(1) or folder_match.group(2)
            if folder_match.group(3):
                return "delta", authed(lambda r, box: self._delta(r, box, folder))
            return "list", authed(lambda r, box: self._list(r, box, folder))
        raise LookupError(f"no route for {method} {path}")

    def _authorize(self, request: Request) -> _Mailbox | Response:
        token = request.bearer
        user = None
        if token:
            user = self.oauth.user_for(token) if self.oauth is not None else None
            user = user or self._tokens.get(token)
        if user is None:
            return self.error_response(401, "Lifetime validation failed, the token is expired.")
        return self.mailbox(user)

    # -- helpers ----------------------------------------------------------------------------------

    @staticmethod
    def _wants_immutable(request: Request) -> bool:
        prefer = ",".join(request.headers.get_all("Prefer") or [])
        return bool(re.search(r'IdType\s*=\s*"?ImmutableId"?', prefer, re.I))

    def _folder_name(self, box: _Mailbox, ref: str) -> str | None:
        if ref.lower() in _FOLDERS:
            return ref.lower()
        for name, folder_id in box.folder_ids.items():
            if folder_id == ref:
                return name
        return None

    def _find(self, box: _Mailbox, message_id: str) -> GraphMessage | None:
        with self._state:
            for message in box.messages:
                if message_id in (message.immutable_id, message.rest_id):
                    return message
        return None

    def _conversation_for(self, box: _Mailbox, parsed: EmailMessage) -> str | None:
        wanted = set(mime.references(parsed))
        for message in reversed(box.messages):
            if message.data.get("internetMessageId") in wanted:
                return message.data.get("conversationId")
        return None

    def _view(self, request: Request, box: _Mailbox, message: GraphMessage) -> dict[str, Any]:
        immutable = self._wants_immutable(request)
        resource = dict(message.data)
        resource["id"] = message.immutable_id if immutable else message.rest_id
        resource["parentFolderId"] = box.folder_ids[message.folder]
        resource["@odata.etag"] = f'W/"{message.seq}"'
        select = request.arg("$select")
        expand = request.arg("$expand") or ""
        if "singleValueExtendedProperties" in expand:
            props = [
                {"id": f"String {PS_INTERNET_HEADERS} Name {h['name']}", "value": h["value"]}
                for h in message.data.get("internetMessageHeaders") or []
                if str(h.get("name", "")).lower().startswith("x-")
            ]
            wanted = re.search(r"id eq '([^']+)'", expand)
            if wanted:
                props = [p for p in props if p["id"].lower() == wanted.group(1).lower()]
            resource["singleValueExtendedProperties"] = props
        if select:
            fields = {f.strip() for f in select.split(",") if f.strip()}
            keep = fields | {"id", "@odata.etag", "singleValueExtendedProperties"}
            resource = {k: v for k, v in resource.items() if k in keep}
        elif "internetMessageHeaders" in resource and message.folder == "drafts":
            resource.pop("internetMessageHeaders")  # Graph returns them for a draft only when selected
        return resource

    # -- operations -------------------------------------------------------------------------------

    def _me(self, request: Request, box: _Mailbox) -> Response:
        return Response.json(
            {
                "id": str(uuid.uuid5(uuid.NAMESPACE_URL, box.user)),
                "mail": box.user,
                "userPrincipalName": box.user,
                "displayName": box.user.split("@")[0].title(),
            }
        )

    def _create(self, request: Request, box: _Mailbox) -> Response:
        try:
            body = request.json()
        except ValueError:
            return self.error_response(400, "Unable to read JSON request payload.", reason="RequestBodyRead")
        if not isinstance(body, dict):
            return self.error_response(400, "Invalid message.", reason="RequestBodyRead")
        headers = body.get("internetMessageHeaders") or []
        for header in headers:
            name = str(header.get("name", ""))
            if not name.lower().startswith("x-"):
                return self.error_response(
                    400,
                    f"The internet message header name '{name}' should start with 'x-' or 'X-'.",
                    reason="InvalidInternetMessageHeader",
                )
        now = _now_text()
        data: dict[str, Any] = {
            "createdDateTime": now,
            "lastModifiedDateTime": now,
            "subject": body.get("subject", ""),
            "body": body.get("body") or {"contentType": "text", "content": ""},
            "toRecipients": body.get("toRecipients") or [],
            "ccRecipients": body.get("ccRecipients") or [],
            "bccRecipients": body.get("bccRecipients") or [],
            "replyTo": body.get("replyTo") or [],
            "from": body.get("from") or {"emailAddress": {"name": "", "address": box.user}},
            "sender": {"emailAddress": {"name": "", "address": box.user}},
            "internetMessageHeaders": list(headers),
            "internetMessageId": f"<{secrets.token_hex(12).upper()}@BN8PR12MB0001.namprd12.prod.outlook.com>",
            "conversationId": _new_id(),
            "isDraft": True,
            "isRead": True,
            "bodyPreview": _preview(body.get("body") or {}),
            "receivedDateTime": now,
            "sentDateTime": None,
        }
        with self._state:
            message = GraphMessage(
                _new_id(), _new_id(), "drafts", data, None, self._bump(), self._wants_immutable(request)
            )
            box.messages.append(message)
            view = self._view(request, box, message)
        return Response.json(view, 201)

    def _send(self, request: Request, box: _Mailbox, message_id: str) -> Response:
        message = self._find(box, message_id)
        if message is None:
            return self.error_response(404, "The specified object was not found in the store.")
        with self._state:
            if message.folder != "drafts":
                return self.error_response(
                    400, "The item has already been sent.", reason="ErrorInvalidRequest"
                )
            if not (
                message.data["toRecipients"] or message.data["ccRecipients"] or message.data["bccRecipients"]
            ):
                return self.error_response(
                    400, "At least one recipient isn't valid.", reason="ErrorInvalidRecipients"
                )
            box.left.append((self._bump(), "drafts", message.rest_id, message.immutable_id))
            message.folder = "sentitems"
            if not message.immutable_requested:
                message.rest_id = _new_id()  # a move changes a mutable id, as in Exchange
            now = _now_text()
            message.data.update({"isDraft": False, "sentDateTime": now, "lastModifiedDateTime": now})
            message.raw = _mime_from_resource(message.data, box.user)
            message.seq = self._bump()
        return Response(202)

    def _get(self, request: Request, box: _Mailbox, message_id: str) -> Response:
        message = self._find(box, message_id)
        if message is None:
            return self.error_response(404, "The specified object was not found in the store.")
        with self._state:
            return Response.json(self._view(request, box, message))

    def _mime(self, request: Request, box: _Mailbox, message_id: str) -> Response:
        message = self._find(box, message_id)
        if message is None:
            return self.error_response(404, "The specified object was not found in the store.")
        return Response(200, self.mime_of(message, box.user), {"Content-Type": "text/plain"})

    def _delete(self, request: Request, box: _Mailbox, message_id: str) -> Response:
        message = self._find(box, message_id)
        if message is None:
            return self.error_response(404, "The specified object was not found in the store.")
        with self._state:
            box.messages.remove(message)
            box.left.append((self._bump(), message.folder, message.rest_id, message.immutable_id))
        return Response(204)

    def _update(self, request: Request, box: _Mailbox, message_id: str) -> Response:
        message = self._find(box, message_id)
        if message is None:
            return self.error_response(404, "The specified object was not found in the store.")
        body = request.json()
        with self._state:
            for key in ("isRead", "subject", "categories"):
                if key in body:
                    message.data[key] = body[key]
            message.seq = self._bump()
            return Response.json(self._view(request, box, message))

    def _list(self, request: Request, box: _Mailbox, folder_ref: str | None) -> Response:
        folder = None
        if folder_ref is not None:
            folder = self._folder_name(box, folder_ref)
            if folder is None:
                return self.error_response(404, "The specified folder could not be found in the store.")
        try:
            match = _compile_filter(request.arg("$filter") or "", box)
            top = max(1, min(1000, int(request.arg("$top") or 10)))
            skip = max(0, int(request.arg("$skip") or 0))
        except ValueError as exc:
            return self.error_response(
                400, f"Invalid filter clause: {exc}", reason="ErrorInvalidUrlQueryFilter"
            )
        with self._state:
            found = [
                m
                for m in sorted(box.messages, key=lambda m: m.seq, reverse=True)
                if (folder is None or m.folder == folder) and match(m)
            ]
            page = [self._view(request, box, m) for m in found[skip : skip + top]]
        answer: dict[str, Any] = {
            "@odata.context": f"{self.base_url}/$metadata#users('{box.user}')/messages",
            "value": page,
        }
        if skip + top < len(found):
            params = [f"$skip={skip + top}", f"$top={top}"]
            for name in ("$filter", "$select"):
                if request.arg(name):
                    params.append(f"{name}={quote(request.arg(name) or '')}")
            answer["@odata.nextLink"] = f"{self.url.rstrip('/')}{request.path}?{'&'.join(params)}"
        return Response.json(answer)

    def _delta(self, request: Request, box: _Mailbox, folder_ref: str) -> Response:
        folder = self._folder_name(box, folder_ref)
        if folder is None:
            return self.error_response(404, "The specified folder could not be found in the store.")
        prefer = ",".join(request.headers.get_all("Prefer") or [])
        size_match = re.search(r"odata\.maxpagesize\s*=\s*(\d+)", prefer)
        size = int(size_match.group(1)) if size_match else 10
        skiptoken = request.arg("$skiptoken")
        deltatoken = request.arg("$deltatoken")
        try:
            if skiptoken:
                since_text, upto_text, offset_text = skiptoken.split(".")
                since, upto, offset = int(since_text), int(upto_text), int(offset_text)
            else:
                since = int(deltatoken) if deltatoken else 0
                upto, offset = self._seq, 0
        except ValueError:
            return self.error_response(400, "Invalid delta or skip token.", reason="ErrorInvalidUrlQuery")
        with self._state:
            if (deltatoken or skiptoken) and since and since < self._oldest_delta:
                return self.error_response(410, "The sync state was not found; resync required.")
            changed: list[tuple[int, dict[str, Any]]] = [
                (m.seq, self._view(request, box, m))
                for m in box.messages
                if m.folder == folder and since < m.seq <= upto
            ]
            if since:
                immutable = self._wants_immutable(request)
                for seq, left_folder, rest_id, immutable_id in box.left:
                    if left_folder == folder and since < seq <= upto:
                        changed.append(
                            (
                                seq,
                                {
                                    "id": immutable_id if immutable else rest_id,
                                    "@removed": {"reason": "deleted"},
                                },
                            )
                        )
            changed.sort(key=lambda item: item[0])
        page = [item for _seq, item in changed[offset : offset + size]]
        base = f"{self.url.rstrip('/')}/v1.0/me/mailFolders('{folder}')/messages/delta"
        answer: dict[str, Any] = {
            "@odata.context": f"{self.base_url}/$metadata#Collection(message)",
            "value": page,
        }
        if offset + size < len(changed):
            answer["@odata.nextLink"] = f"{base}?$skiptoken={since}.{upto}.{offset + size}"
        else:
            answer["@odata.deltaLink"] = f"{base}?$deltatoken={upto}"
        return Response.json(answer)


# -- conversions -----------------------------------------------------------------------------------


def _preview(body: dict[str, Any]) -> str:
    text = str(body.get("content") or "")
    if str(body.get("contentType", "")).lower() == "html":
        text = re.sub(r"<[^>]+>", " ", text)
    return re.sub(r"\s+", " ", text).strip()[:255]


def _recipients(values: list[tuple[str, str]]) -> list[dict[str, Any]]:
    return [{"emailAddress": {"name": name, "address": address}} for name, address in values]


def _resource_from_mime(parsed: EmailMessage) -> dict[str, Any]:
    sender = mime.addresses(parsed, "From")
    text = mime.text_of(parsed)
    return {
        "subject": str(parsed.get("Subject", "")),
        "body": {"contentType": "text", "content": text},
        "bodyPreview": re.sub(r"\s+", " ", text).strip()[:255],
        "from": _recipients(sender[:1])[0] if sender else None,
        "sender": _recipients(sender[:1])[0] if sender else None,
        "toRecipients": _recipients(mime.addresses(parsed, "To")),
        "ccRecipients": _recipients(mime.addresses(parsed, "Cc")),
        "bccRecipients": [],
        "replyTo": [],
        "internetMessageId": str(parsed.get("Message-ID", "")).strip() or mime.new_message_id("contoso.test"),
        "internetMessageHeaders": [{"name": k, "value": str(v)} for k, v in parsed.items()],
        "sentDateTime": _now_text(),
        "createdDateTime": _now_text(),
        "lastModifiedDateTime": _now_text(),
    }


def _mime_from_resource(data: dict[str, Any], user: str) -> bytes:
    message = EmailMessage()

    def addr(item: dict[str, Any]) -> str:
        email_address = item.get("emailAddress") or {}
        name, address = email_address.get("name") or "", email_address.get("address") or ""
        return f"{name} <{address}>" if name else address

    sender = data.get("from") or {"emailAddress": {"address": user}}
    message["From"] = addr(sender)
    if data.get("toRecipients"):
        message["To"] = ", ".join(addr(r) for r in data["toRecipients"])
    if data.get("ccRecipients"):
        message["Cc"] = ", ".join(addr(r) for r in data["ccRecipients"])
    message["Subject"] = data.get("subject") or ""
    message["Date"] = format_datetime(datetime.now(UTC))
    message["Message-ID"] = data.get("internetMessageId") or mime.new_message_id("contoso.test")
    for header in data.get("internetMessageHeaders") or []:
        name = str(header.get("name", ""))
        if name.lower().startswith("x-") and message.get(name) is None:
            message[name] = str(header.get("value", ""))
    body = data.get("body") or {}
    subtype = "html" if str(body.get("contentType", "")).lower() == "html" else "plain"
    message.set_content(str(body.get("content") or ""), subtype=subtype)
    return message.as_bytes(policy=email.policy.SMTP)


# -- $filter ---------------------------------------------------------------------------------------


def _split_and(text: str) -> list[str]:
    parts, depth, start, i = [], 0, 0, 0
    lowered = text.lower()
    while i < len(text):
        ch = text[i]
        if ch == "'":
            end = text.find("'", i + 1)
            i = len(text) if end < 0 else end + 1
            continue
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif depth == 0 and lowered.startswith(" and ", i):
            parts.append(text[start:i])
            i += 5
            start = i
            continue
        i += 1
    parts.append(text[start:])
    return [p.strip() for p in parts if p.strip()]


def _lookup(data: dict[str, Any], path: str) -> Any:
    value: Any = data
    for key in path.split("/"):
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


_ANY = re.compile(
    r"singleValueExtendedProperties/any\(\s*(\w+)\s*:\s*\1/id\s+eq\s+'([^']*)'\s+and\s+\1/value\s+eq\s+'([^']*)'\s*\)",
    re.I,
)
_COMPARE = re.compile(r"([\w/]+)\s+(eq|ne|ge|gt|le|lt)\s+('(?:[^']|'')*'|true|false|null|[\d\-:TZ.]+)$", re.I)


def _compile_filter(text: str, box: _Mailbox) -> Any:
    tests: list[Any] = []
    for clause in _split_and(text.strip()) if text.strip() else []:
        any_match = _ANY.fullmatch(clause)
        if any_match:
            prop, value = any_match.group(2), any_match.group(3)
            expected = re.fullmatch(rf"String\s+{re.escape(PS_INTERNET_HEADERS)}\s+Name\s+(\S+)", prop, re.I)
            if not expected:
                raise ValueError(f"unknown extended property {prop!r}")
            header = expected.group(1)
            tests.append(lambda m, h=header, v=value: m.header(h) == v)
            continue
        compare = _COMPARE.fullmatch(clause)
        if not compare:
            raise ValueError(clause)
        path, op, literal = compare.group(1), compare.group(2).lower(), compare.group(3)
        if literal.startswith("'"):
            value: Any = literal[1:-1].replace("''", "'")
        elif literal.lower() in ("true", "false"):
            value = literal.lower() == "true"
        elif literal.lower() == "null":
            value = None
        else:
            value = literal

        def test(m: GraphMessage, path: str = path, op: str = op, value: Any = value) -> bool:
            if path == "parentFolderId":
                actual: Any = box.folder_ids.get(m.folder)
            else:
                actual = _lookup(m.data, path)
            if op == "eq":
                return actual == value
            if op == "ne":
                return actual != value
            if actual is None:
                return False
            a, b = str(actual), str(value)
            return {"ge": a >= b, "gt": a > b, "le": a <= b, "lt": a < b}[op]

        tests.append(test)
    return lambda message: all(t(message) for t in tests)
