"""The small HTTP machinery the wire-format fakes share: a threaded server on 127.0.0.1, requests and
responses, and injected faults.

A fake subclasses `FakeHttpServer`, names each operation it serves (`route` returns the operation's
name and a handler) and formats its own errors (`error_response`, because Google and Microsoft word
theirs differently). Everything a test injects is a `Fault` on an operation name:

    server.inject_fault("send", status=503)                    # refused; nothing happened
    server.inject_fault("send", status=500, apply=True)        # accept-then-fail: done, then a 500
    server.inject_fault("send", status=429, retry_after=2)     # throttled, with Retry-After: 2
    server.inject_fault("send", status=403, reason="dailyLimitExceeded")
    server.inject_fault("send", delay=5, apply=True)           # done, the answer held 5 s (a timeout)
    server.inject_fault("send", drop=True, apply=True)         # done, then the connection is cut
    server.inject_fault("send", status=503, times=3)           # the next three sends
    server.inject_fault("*", status=500, times=None)           # every operation, until cleared

`server.requests` lists every request seen (operation, method, path, query, headers, body), so a
test can assert what the real client library put on the wire; `server.calls("send")` counts them.
Faults are taken in the order injected; `clear_faults()` drops what is left.
"""

from __future__ import annotations

import base64
import contextlib
import json
import socket
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: Message
    body: bytes
    op: str = ""
    at: float = field(default_factory=time.time)

    def arg(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[0] if values else default

    def args(self, name: str) -> list[str]:
        return list(self.query.get(name, []))

    def json(self) -> Any:
        return json.loads(self.body.decode("utf-8")) if self.body else {}

    def form(self) -> dict[str, str]:
        parsed = parse_qs(self.body.decode("utf-8"), keep_blank_values=True)
        return {key: values[0] for key, values in parsed.items()}

    @property
    def bearer(self) -> str | None:
        value = self.headers.get("Authorization", "")
        if value[:7].lower() == "bearer ":
            return value[7:].strip()
        return None

    def basic_auth(self) -> tuple[str, str] | None:
        value = self.headers.get("Authorization", "")
        if value[:6].lower() != "basic ":
            return None
        user, _, password = base64.b64decode(value[6:]).decode("utf-8").partition(":")
        return user, password


@dataclass
class Response:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(cls, data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
        return cls(
            status,
            json.dumps(data).encode("utf-8"),
            {"Content-Type": "application/json; charset=UTF-8", **(headers or {})},
        )

    @classmethod
    def redirect(cls, location: str) -> Response:
        return cls(302, b"", {"Location": location})


@dataclass
class Fault:
    """What to do instead of (or after) serving one operation; see the module docstring."""

    op: str
    status: int | None = None
    reason: str | None = None
    message: str | None = None
    retry_after: float | None = None
    delay: float = 0.0
    apply: bool = False
    drop: bool = False
    times: int | None = 1  # None: until cleared


class _QuietServer(ThreadingHTTPServer):
    """A client that goes away mid-request (a killed worker, a timeout) is normal here, not an error."""

    def handle_error(self, request: Any, client_address: Any) -> None:
        import sys

        if isinstance(sys.exc_info()[1], ConnectionError | ssl.SSLError | TimeoutError):
            return
        super().handle_error(request, client_address)


class _Drop(Exception):
    """Close the connection without an answer."""


Handler = Callable[[Request], Response]


class FakeHttpServer:
    """A ThreadingHTTPServer on 127.0.0.1 in a daemon thread; `with Server() as s:` starts and stops it."""

    label = "fake"

    def __init__(self, *, tls: ssl.SSLContext | None = None) -> None:
        self._lock = threading.RLock()
        self._faults: list[Fault] = []
        self.requests: list[Request] = []
        self._closing = threading.Event()
        self._tls = tls
        server = self

        class _RequestHandler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # quiet
                return

            def _serve(self) -> None:
                server._dispatch(self)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

        self._httpd = _QuietServer(("127.0.0.1", 0), _RequestHandler)
        self._httpd.daemon_threads = True
        if tls is not None:
            self._httpd.socket = tls.wrap_socket(self._httpd.socket, server_side=True)
        self.host, self.port = self._httpd.server_address[:2]  # type: ignore[misc]
        self._thread: threading.Thread | None = None

    # -- lifecycle --------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """The base URL, ending in '/'."""
        scheme = "https" if self._tls is not None else "http"
        return f"{scheme}://{self.host}:{self.port}/"

    def start(self) -> FakeHttpServer:
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            daemon=True,
            name=f"{self.label}-http",
        )
        self._thread.start()
        return self

    def close(self) -> None:
        self._closing.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(10)

    def __enter__(self) -> Any:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # -- faults -----------------------------------------------------------------------------------

    def inject_fault(self, op: str, **kwargs: Any) -> Fault:
        fault = Fault(op, **kwargs)
        with self._lock:
            self._faults.append(fault)
        return fault

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def _take_fault(self, op: str) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.op in (op, "*"):
                    if fault.times is not None:
                        fault.times -= 1
                        if fault.times <= 0:
                            self._faults.remove(fault)
                    return fault
        return None

    def calls(self, op: str) -> int:
        with self._lock:
            return sum(1 for request in self.requests if request.op == op)

    # -- what subclasses provide ------------------------------------------------------------------

    def route(self, request: Request) -> tuple[str, Handler]:
        raise NotImplementedError

    def error_response(
        self, status: int, message: str, *, reason: str | None = None, retry_after: float | None = None
    ) -> Response:
        headers = {"Retry-After": _seconds(retry_after)} if retry_after is not None else {}
        return Response.json({"error": {"code": status, "message": message}}, status, headers)

    def fault_response(self, fault: Fault) -> Response:
        status = fault.status or 500
        return self.error_response(
            status,
            fault.message or f"injected {status}",
            reason=fault.reason,
            retry_after=fault.retry_after,
        )

    # -- dispatch ---------------------------------------------------------------------------------

    def _hold(self, seconds: float) -> None:
        # A slow server, not a synchronisation: the client's own timeout is what the test exercises.
        self._closing.wait(seconds)

    def _dispatch(self, handler: BaseHTTPRequestHandler) -> None:
        split = urlsplit(handler.path)
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else b""
        request = Request(
            method=handler.command,
            path=split.path,
            query=parse_qs(split.query, keep_blank_values=True),
            headers=handler.headers,
            body=body,
        )
        try:
            try:
                op, serve = self.route(request)
            except LookupError as exc:
                op, serve = "unknown", (lambda _r, _m=str(exc): self.error_response(404, _m))
            request.op = op
            with self._lock:
                self.requests.append(request)
            fault = self._take_fault(op)
            response = self._answer(request, serve, fault)
        except _Drop:
            self._cut(handler)
            return
        except Exception as exc:  # a bug in the fake: say so on the wire, loudly
            response = self.error_response(500, f"fake server error: {exc.__class__.__name__}: {exc}")
        self._write(handler, response)

    def _answer(self, request: Request, serve: Handler, fault: Fault | None) -> Response:
        if fault is None:
            return serve(request)
        if fault.delay:
            if fault.apply:
                response = serve(request)
                self._hold(fault.delay)
            else:
                self._hold(fault.delay)
                response = serve(request) if fault.status is None and not fault.drop else Response()
        elif fault.apply:
            response = serve(request)
        else:
            response = Response()
        if fault.drop:
            raise _Drop()
        if fault.status is not None:
            return self.fault_response(fault)
        return response

    @staticmethod
    def _cut(handler: BaseHTTPRequestHandler) -> None:
        handler.close_connection = True
        with contextlib.suppress(OSError):
            handler.connection.shutdown(socket.SHUT_RDWR)

    @staticmethod
    def _write(handler: BaseHTTPRequestHandler, response: Response) -> None:
        try:
            handler.send_response(response.status)
            headers = dict(response.headers)
            headers.setdefault("Content-Length", str(len(response.body)))
            for name, value in headers.items():
                handler.send_header(name, value)
            handler.end_headers()
            if response.body and handler.command != "HEAD":
                handler.wfile.write(response.body)
            handler.wfile.flush()
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
            handler.close_connection = True


def _seconds(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii")


def b64url_decode(text: str) -> bytes:
    text = text.strip()
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
