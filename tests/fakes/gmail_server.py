"""A fake Gmail API (v1) on 127.0.0.1 speaking the real wire format, for the real
google-api-python-client built from its bundled discovery document:

    build("gmail", "v1", static_discovery=True, http=httplib2.Http(),
          client_options={"api_endpoint": gmail.url})

What it serves (JSON bodies and errors exactly as Gmail words them), with operation names for faults:
    POST users/{me}/messages/send          "send"     {"raw", "threadId"?} -> {id, threadId, labelIds}
    GET  users/{me}/messages/{id}          "get"      format=full|metadata|minimal|raw, metadataHeaders
    GET  users/{me}/messages               "list"     q, labelIds, maxResults, pageToken
    GET  users/{me}/history                "history"  startHistoryId=, historyTypes=messageAdded, labelId=
    GET  users/{me}/profile                "profile"  emailAddress, messagesTotal, threadsTotal, historyId
(paths under /gmail/v1/; the media upload path of send is served too).

Like Gmail it: replaces the Message-ID a sent message carries with its own (`<CA...@mail.gmail.com>`;
find our messages by X-Lumina-Email-Id, as Lumina does); threads a message with the one whose
Message-ID its In-Reply-To/References name; numbers every change with a growing historyId and
answers 404 to a startHistoryId older than the history it keeps; answers 401 to an access token the
OAuth fake does not know (or has expired). Search (`q`) understands: in:sent|inbox|drafts, label:,
from:, to: (To/Cc/Bcc), subject:, rfc822msgid:, after:/before: (epoch seconds or YYYY/MM/DD),
newer_than:/older_than: (Nd|Nh|Nm), "quoted phrases" and bare words (subject and text).

Test API:
    gmail = GmailServer(oauth=oauth_server).start()   # or GmailServer(user=...) + allow_token(token)
    gmail.url                                          the api_endpoint for client_options
    gmail.deliver(raw_bytes, user=None, labels=("INBOX", "UNREAD")) -> GmailMessage  (inbound mail)
    gmail.reply(to_message, from_addr=..., text=...) / gmail.bounce(to_message, recipient=..., status=...)
    gmail.sent(user=None) -> [GmailMessage]; gmail.with_header("X-Lumina-Email-Id", id) -> [GmailMessage]
    gmail.expire_history(user=None)                    startHistoryIds up to now answer 404
    gmail.inject_fault("send", status=500, apply=True) (see fakes.http_base for every kind of fault)
    gmail.mailbox(user).history_id, .messages          the state itself
"""

from __future__ import annotations

import re
import secrets
import shlex
import threading
import time
from calendar import timegm
from collections import OrderedDict
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

from fakes import mime
from fakes.http_base import FakeHttpServer, Request, Response, b64url, b64url_decode

_STATUS = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
}
_REASON = {
    400: "invalidArgument",
    401: "authError",
    403: "forbidden",
    404: "notFound",
    429: "rateLimitExceeded",
    500: "backendError",
    503: "backendError",
}
_USAGE_REASONS = {"rateLimitExceeded", "userRateLimitExceeded", "dailyLimitExceeded", "quotaExceeded"}
_ROOT = "/gmail/v1/users/"
_UPLOAD_ROOT = "/upload/gmail/v1/users/"


@dataclass
class GmailMessage:
    id: str
    thread_id: str
    label_ids: list[str]
    raw: bytes
    internal_date: int  # ms since the epoch
    history_id: int

    @property
    def parsed(self) -> EmailMessage:
        return mime.parse(self.raw)

    def header(self, name: str) -> str | None:
        value = self.parsed.get(name)
        return None if value is None else str(value)


@dataclass
class _History:
    id: int
    message_id: str
    thread_id: str
    label_ids: list[str]


@dataclass
class Mailbox:
    user: str
    history_id: int = 1000
    oldest_history_id: int = 0  # a startHistoryId below this answers 404
    messages: OrderedDict[str, GmailMessage] = field(default_factory=OrderedDict)
    history: list[_History] = field(default_factory=list)

    def next_history(self) -> int:
        self.history_id += 1
        return self.history_id


class GmailServer(FakeHttpServer):
    label = "gmail"

    def __init__(
        self, *, oauth: Any = None, user: str | None = None, replace_message_id: bool = True
    ) -> None:
        super().__init__()
        self.oauth = oauth
        self.user = user or (oauth.user if oauth is not None else "rep@acme.test")
        self.replace_message_id = replace_message_id
        self._tokens: dict[str, str] = {}
        self._boxes: dict[str, Mailbox] = {}
        self._state = threading.RLock()

    # -- test API ---------------------------------------------------------------------------------

    def allow_token(self, token: str, user: str | None = None) -> None:
        self._tokens[token] = user or self.user

    def mailbox(self, user: str | None = None) -> Mailbox:
        key = (user or self.user).lower()
        with self._state:
            box = self._boxes.get(key)
            if box is None:
                box = self._boxes[key] = Mailbox(user or self.user)
            return box

    def _store(
        self, box: Mailbox, raw: bytes, labels: list[str], thread_id: str | None = None
    ) -> GmailMessage:
        with self._state:
            message_id = f"{int(time.time() * 1000):x}{secrets.token_hex(4)}"
            parsed = mime.parse(raw)
            if thread_id is None or not any(m.thread_id == thread_id for m in box.messages.values()):
                thread_id = self._thread_for(box, parsed) or message_id
            history = box.next_history()
            message = GmailMessage(message_id, thread_id, list(labels), raw, int(time.time() * 1000), history)
            box.messages[message_id] = message
            box.history.append(_History(history, message_id, thread_id, list(labels)))
            return message

    @staticmethod
    def _thread_for(box: Mailbox, parsed: EmailMessage) -> str | None:
        wanted = set(mime.references(parsed))
        if not wanted:
            return None
        for message in reversed(box.messages.values()):
            if str(message.parsed.get("Message-ID", "")).strip() in wanted:
                return message.thread_id
        return None

    def deliver(
        self,
        raw: bytes,
        user: str | None = None,
        labels: tuple[str, ...] = ("INBOX", "UNREAD"),
        thread_id: str | None = None,
    ) -> GmailMessage:
        """Mail arriving in the mailbox (a reply, a bounce): stored, threaded, in the history.
        `thread_id` puts it in an existing thread (Gmail also threads by subject, not only headers)."""
        return self._store(self.mailbox(user), raw, list(labels), thread_id=thread_id)

    def reply(self, to_message: GmailMessage, user: str | None = None, **kwargs: Any) -> GmailMessage:
        return self.deliver(mime.reply_to(to_message.raw, **kwargs), user)

    def bounce(self, to_message: GmailMessage, user: str | None = None, **kwargs: Any) -> GmailMessage:
        return self.deliver(mime.dsn_for(to_message.raw, **kwargs), user)

    def sent(self, user: str | None = None) -> list[GmailMessage]:
        with self._state:
            return [m for m in self.mailbox(user).messages.values() if "SENT" in m.label_ids]

    def with_header(self, name: str, value: str, user: str | None = None) -> list[GmailMessage]:
        with self._state:
            return [m for m in self.mailbox(user).messages.values() if m.header(name) == value]

    def expire_history(self, user: str | None = None) -> None:
        box = self.mailbox(user)
        with self._state:
            box.oldest_history_id = box.next_history()
            box.history = [h for h in box.history if h.id >= box.oldest_history_id]

    # -- errors -----------------------------------------------------------------------------------

    def error_response(
        self, status: int, message: str, *, reason: str | None = None, retry_after: float | None = None
    ) -> Response:
        reason = reason or _REASON.get(status, "backendError")
        headers = {"Retry-After": str(int(retry_after))} if retry_after is not None else {}
        if status == 401:
            headers["WWW-Authenticate"] = 'Bearer realm="https://accounts.google.com/", error="invalid_token"'
        body = {
            "error": {
                "code": status,
                "message": message,
                "errors": [
                    {
                        "message": message,
                        "domain": "usageLimits" if reason in _USAGE_REASONS else "global",
                        "reason": reason,
                    }
                ],
                "status": _STATUS.get(status, "UNKNOWN"),
            }
        }
        return Response.json(body, status, headers)

    # -- routing ----------------------------------------------------------------------------------

    def route(self, request: Request) -> tuple[str, Any]:
        path = request.path
        upload = path.startswith(_UPLOAD_ROOT)
        if not (path.startswith(_ROOT) or upload):
            raise LookupError(f"no route for {request.method} {path}")
        rest = path[len(_UPLOAD_ROOT if upload else _ROOT) :].split("/")
        user_id, parts = rest[0], rest[1:]
        method = request.method

        def authed(serve: Any) -> Any:
            def run(r: Request) -> Response:
                box = self._authorize(r, user_id)
                if isinstance(box, Response):
                    return box
                return serve(r, box)

            return run

        if parts == ["messages", "send"] and method == "POST":
            return "send", authed(self._send)
        if parts == ["messages"] and method == "GET":
            return "list", authed(self._list)
        if len(parts) == 2 and parts[0] == "messages" and method == "GET":
            return "get", authed(lambda r, box: self._get(r, box, parts[1]))
        if parts == ["history"] and method == "GET":
            return "history", authed(self._history)
        if parts == ["profile"] and method == "GET":
            return "profile", authed(self._profile)
        raise LookupError(f"no route for {method} {path}")

    def _authorize(self, request: Request, user_id: str) -> Mailbox | Response:
        token = request.bearer
        user = None
        if token:
            user = self.oauth.user_for(token) if self.oauth is not None else None
            user = user or self._tokens.get(token)
        if user is None:
            return self.error_response(
                401,
                "Request had invalid authentication credentials. Expected OAuth 2 access token, login "
                "cookie or other valid authentication credential.",
            )
        if user_id not in ("me", user) and user_id.lower() != user.lower():
            return self.error_response(403, "Delegation denied for " + user, reason="forbidden")
        return self.mailbox(user)

    # -- operations -------------------------------------------------------------------------------

    def _send(self, request: Request, box: Mailbox) -> Response:
        thread_id: str | None = None
        if request.path.startswith(_UPLOAD_ROOT):
            raw = request.body  # uploadType=media: the message itself
        else:
            body = request.json()
            if not isinstance(body, dict) or not body.get("raw"):
                return self.error_response(
                    400, "'raw' RFC822 payload message string or uploading message via /upload/* URL required"
                )
            try:
                raw = b64url_decode(str(body["raw"]))
            except ValueError:
                return self.error_response(400, "Invalid value for ByteString: raw")
            thread_id = body.get("threadId")
        parsed = mime.parse(raw)
        if not mime.addresses(parsed, "To", "Cc", "Bcc"):
            return self.error_response(400, "Recipient address required", reason="invalidArgument")
        if self.replace_message_id:
            if parsed.get("Message-ID") is not None:
                del parsed["Message-ID"]
            parsed["Message-ID"] = f"<CA{secrets.token_urlsafe(24)}@mail.gmail.com>"
            raw = parsed.as_bytes()
        if parsed.get("Bcc") is not None:
            # Gmail delivers Bcc copies and keeps the header on the sender's copy only.
            pass
        message = self._store(box, raw, ["SENT"], thread_id)
        return Response.json({"id": message.id, "threadId": message.thread_id, "labelIds": message.label_ids})

    def _get(self, request: Request, box: Mailbox, message_id: str) -> Response:
        with self._state:
            message = box.messages.get(message_id)
        if message is None:
            return self.error_response(404, "Requested entity was not found.", reason="notFound")
        fmt = (request.arg("format") or "full").lower()
        return Response.json(self._resource(message, fmt, request.args("metadataHeaders")))

    def _resource(self, message: GmailMessage, fmt: str, wanted: list[str]) -> dict[str, Any]:
        parsed = message.parsed
        resource: dict[str, Any] = {
            "id": message.id,
            "threadId": message.thread_id,
            "labelIds": list(message.label_ids),
            "snippet": mime.snippet(parsed),
            "historyId": str(message.history_id),
            "internalDate": str(message.internal_date),
            "sizeEstimate": len(message.raw),
        }
        if fmt == "minimal":
            return resource
        if fmt == "raw":
            resource["raw"] = b64url(message.raw)
            return resource
        if fmt == "metadata":
            names = {n.lower() for n in wanted}
            headers = [
                {"name": k, "value": str(v)} for k, v in parsed.items() if not names or k.lower() in names
            ]
            resource["payload"] = {"mimeType": parsed.get_content_type(), "headers": headers}
            return resource
        resource["payload"] = _payload(parsed, "")
        return resource

    def _list(self, request: Request, box: Mailbox) -> Response:
        labels = request.args("labelIds")
        query = request.arg("q") or ""
        include_trash = (request.arg("includeSpamTrash") or "false").lower() == "true"
        try:
            limit = max(1, min(500, int(request.arg("maxResults") or 100)))
            offset = int(request.arg("pageToken") or 0)
            match = _compile_query(query)
        except ValueError as exc:
            return self.error_response(400, f"Invalid query: {exc}")
        with self._state:
            found = [
                m
                for m in sorted(
                    box.messages.values(), key=lambda m: (m.internal_date, m.history_id), reverse=True
                )
                if all(label in m.label_ids for label in labels)
                and (include_trash or not {"SPAM", "TRASH"} & set(m.label_ids))
                and match(m)
            ]
        page = found[offset : offset + limit]
        answer: dict[str, Any] = {"resultSizeEstimate": len(found)}
        if page:
            answer["messages"] = [{"id": m.id, "threadId": m.thread_id} for m in page]
        if offset + limit < len(found):
            answer["nextPageToken"] = str(offset + limit)
        return Response.json(answer)

    def _history(self, request: Request, box: Mailbox) -> Response:
        start_text = request.arg("startHistoryId")
        if not start_text:
            return self.error_response(400, "Missing required parameter: startHistoryId")
        try:
            start = int(start_text)
            limit = max(1, min(500, int(request.arg("maxResults") or 100)))
            offset = int(request.arg("pageToken") or 0)
        except ValueError:
            return self.error_response(400, "Invalid value for startHistoryId")
        types = request.args("historyTypes")
        label = request.arg("labelId")
        with self._state:
            if start < box.oldest_history_id:
                return self.error_response(404, "Requested entity was not found.", reason="notFound")
            records = [
                h
                for h in box.history
                if h.id > start
                and (not types or "messageAdded" in types)
                and (label is None or label in h.label_ids)
            ]
            current = box.history_id
        page = records[offset : offset + limit]
        answer: dict[str, Any] = {"historyId": str(current)}
        if page:
            answer["history"] = [
                {
                    "id": str(h.id),
                    "messages": [{"id": h.message_id, "threadId": h.thread_id}],
                    "messagesAdded": [
                        {"message": {"id": h.message_id, "threadId": h.thread_id, "labelIds": h.label_ids}}
                    ],
                }
                for h in page
            ]
        if offset + limit < len(records):
            answer["nextPageToken"] = str(offset + limit)
        return Response.json(answer)

    def _profile(self, request: Request, box: Mailbox) -> Response:
        with self._state:
            threads = {m.thread_id for m in box.messages.values()}
            return Response.json(
                {
                    "emailAddress": box.user,
                    "messagesTotal": len(box.messages),
                    "threadsTotal": len(threads),
                    "historyId": str(box.history_id),
                }
            )


def _payload(part: EmailMessage, part_id: str) -> dict[str, Any]:
    headers = [{"name": k, "value": str(v)} for k, v in part.items()]
    payload: dict[str, Any] = {
        "partId": part_id,
        "mimeType": part.get_content_type(),
        "filename": part.get_filename() or "",
        "headers": headers,
    }
    if part.is_multipart():
        payload["body"] = {"size": 0}
        payload["parts"] = [
            _payload(sub, f"{part_id}.{n}" if part_id else str(n))  # type: ignore[arg-type]
            for n, sub in enumerate(part.iter_parts())
        ]
    else:
        data = part.get_payload(decode=True) or b""
        payload["body"] = {"size": len(data), "data": b64url(data)} if data else {"size": 0}
    return payload


# -- search ----------------------------------------------------------------------------------------

_LABEL_OF = {"sent": "SENT", "inbox": "INBOX", "drafts": "DRAFT", "spam": "SPAM", "trash": "TRASH"}


def _epoch(value: str) -> float:
    if re.fullmatch(r"\d+", value):
        return float(value)
    match = re.fullmatch(r"(\d{4})[/-](\d{1,2})[/-](\d{1,2})", value)
    if not match:
        raise ValueError(f"bad date {value!r}")
    y, m, d = (int(g) for g in match.groups())
    return float(timegm((y, m, d, 0, 0, 0)))


def _age(value: str) -> float:
    match = re.fullmatch(r"(\d+)([dhmy])", value)
    if not match:
        raise ValueError(f"bad age {value!r}")
    n, unit = int(match.group(1)), match.group(2)
    return n * {"d": 86400, "h": 3600, "m": 30 * 86400, "y": 365 * 86400}[unit]


def _term(token: str) -> Any:
    """One search term as a predicate over a stored message."""
    key, sep, value = token.partition(":")
    key, lowered = key.lower(), value.lower()
    if not sep or key not in _OPERATORS:
        word = token.lower()
        return lambda m: word in (str(m.parsed.get("Subject", "")) + " " + mime.text_of(m.parsed)).lower()
    if key in ("in", "label"):
        label = _LABEL_OF.get(lowered, value.upper())
        return lambda m: label in m.label_ids
    if key == "from":
        return lambda m: any(lowered in f"{n} {a}".lower() for n, a in mime.addresses(m.parsed, "From"))
    if key == "to":
        return lambda m: any(lowered in a.lower() for _n, a in mime.addresses(m.parsed, "To", "Cc", "Bcc"))
    if key == "subject":  # a phrase: its words, in order, among the subject's (punctuation ignored)
        wanted = re.findall(r"\w+", lowered)

        def phrase(m: GmailMessage) -> bool:
            words = re.findall(r"\w+", str(m.parsed.get("Subject", "")).lower())
            return any(words[i : i + len(wanted)] == wanted for i in range(len(words) - len(wanted) + 1))

        return phrase
    if key == "rfc822msgid":
        wanted = value.strip().strip("<>")
        return lambda m: str(m.parsed.get("Message-ID", "")).strip().strip("<>") == wanted
    if key in ("after", "before"):
        at = _epoch(value)
        return (
            (lambda m: m.internal_date / 1000 > at)
            if key == "after"
            else (lambda m: m.internal_date / 1000 < at)
        )
    age = _age(value)
    if key == "newer_than":
        return lambda m: m.internal_date / 1000 > time.time() - age
    return lambda m: m.internal_date / 1000 < time.time() - age


_OPERATORS = {
    "in",
    "label",
    "from",
    "to",
    "subject",
    "rfc822msgid",
    "after",
    "before",
    "newer_than",
    "older_than",
}


def _compile_query(query: str) -> Any:
    """The `q` subset Lumina uses, as one predicate over a stored message."""
    tests = [_term(token) for token in shlex.split(query)]
    return lambda message: all(test(message) for test in tests)
