"""A real HTTP server on 127.0.0.1 that speaks the OpenAI chat-completions wire format.

Tests point the real openai client at it and pick a behaviour per test:
canned, slow, rate_limited (429 + Retry-After), server_error (500), malformed (content that is
not JSON), garbage (an HTTP body that is not JSON), no_json_schema (rejects json_schema
response_format), no_response_format (rejects any response_format; answers in plain text),
no_temperature (rejects temperature other than 1), length (finish_reason=length),
llama_cpp (refuses json_schema with HTTP 500 and the body llama-cpp-python's server sends: its
pydantic error naming response_format; answers json_object), no_max_tokens (refuses max_tokens,
asks for max_completion_tokens, as OpenAI's reasoning models do).
`fail_times` makes the error modes fail only that many times and then answer like `canned`.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class FakeOpenAI(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.mode = "canned"
        self.reply: dict[str, Any] = {"subject": None, "body": "Hi Dana,\n\nThanks."}
        self.plain_text: str | None = None
        self.delay = 5.0
        self.retry_after: str | None = "0.1"
        self.fail_times: int | None = None
        self.requests: list[dict[str, Any]] = []
        self.headers_seen: list[dict[str, str]] = []
        self.release = threading.Event()  # ends every slow response at teardown
        self.arrived = threading.Event()  # set when a request has been received
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.02},
                                        daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/v1"

    @property
    def count(self) -> int:
        with self._lock:
            return len(self.requests)

    def start(self) -> FakeOpenAI:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.release.set()
        self.shutdown()
        self.server_close()

    def record(self, body: dict[str, Any], headers: dict[str, str]) -> int:
        with self._lock:
            self.requests.append(body)
            self.headers_seen.append(headers)
            number = len(self.requests)
        self.arrived.set()
        return number


def completion(content: str, *, finish_reason: str = "stop", model: str = "test-model") -> dict:
    return {
        "id": "chatcmpl-lumina-test",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [{
            "index": 0,
            "message": {"role": "assistant", "content": content, "refusal": None},
            "finish_reason": finish_reason,
            "logprobs": None,
        }],
        "usage": {"prompt_tokens": 10, "completion_tokens": 10, "total_tokens": 20},
    }


class _Handler(BaseHTTPRequestHandler):
    server: FakeOpenAI
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: object) -> None:  # keep test output clean
        return

    def _send(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        # Headers and body in one write: two small writes would meet the client's delayed ACK.
        self._headers_buffer.append(b"\r\n")
        self.wfile.write(b"".join(self._headers_buffer) + data)
        self._headers_buffer = []

    def _error(self, status: int, message: str, param: str | None = None,
               headers: dict[str, str] | None = None) -> None:
        self._send(status, {"error": {"message": message, "type": "invalid_request_error",
                                      "param": param, "code": None}}, headers)

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length) or b"{}")
        server = self.server
        number = server.record(body, {k.lower(): v for k, v in self.headers.items()})
        if not self.path.endswith("/chat/completions"):
            self._error(404, f"unknown path {self.path}")
            return
        mode = server.mode
        failing = server.fail_times is None or number <= server.fail_times
        response_format = body.get("response_format") or {}
        canned = json.dumps(server.reply)
        if mode == "slow":
            server.release.wait(server.delay)
            self._send(200, completion(canned))
        elif mode == "rate_limited" and failing:
            headers = {"retry-after": server.retry_after} if server.retry_after else {}
            self._error(429, "Rate limit reached for requests", headers=headers)
        elif mode == "server_error" and failing:
            headers = {"retry-after": server.retry_after} if server.retry_after else {}
            self._error(500, "The server had an error while processing your request.",
                        headers=headers)
        elif mode == "malformed":
            self._send(200, completion('{"subject": "Hi", "body": Dana, this is not json'))
        elif mode == "garbage":
            self._send(200, b"<html><body>502 Bad Gateway</body></html>")
        elif mode == "no_json_schema" and response_format.get("type") == "json_schema":
            self._error(400, "response_format of type json_schema is not supported by this "
                        "server", param="response_format")
        elif mode == "no_response_format" and response_format:
            self._error(400, f"Unrecognized request argument supplied: response_format "
                        f"({response_format.get('type')})", param="response_format")
        elif mode == "no_response_format":
            text = server.plain_text if server.plain_text is not None else canned
            self._send(200, completion(text))
        elif mode == "llama_cpp" and response_format.get("type") not in (None, "text",
                                                                          "json_object"):
            # llama_cpp/server/errors.py wraps FastAPI's RequestValidationError as a 500; this
            # is the body llama-cpp-python 0.3.36 sends (seen in tests_llm against the real one).
            self._send(500, {"error": {
                "message": "1 validation error:\n  {'type': 'literal_error', 'loc': ('body', "
                           "'response_format', 'type'), 'msg': \"Input should be 'text' or "
                           f"'json_object'\", 'input': '{response_format.get('type')}', 'ctx': "
                           "{'expected': \"'text' or 'json_object'\"}}",
                "type": "internal_server_error", "param": None, "code": None}})
        elif mode == "no_max_tokens" and "max_tokens" in body:
            self._error(400, "Unsupported parameter: 'max_tokens' is not supported with this "
                        "model. Use 'max_completion_tokens' instead.", param="max_tokens")
        elif mode == "no_temperature" and body.get("temperature") not in (None, 1):
            self._error(400, "Unsupported value: 'temperature' does not support 0 with this "
                        "model. Only the default (1) value is supported.", param="temperature")
        elif mode == "length":
            self._send(200, completion('{"subject": null, "body": "Hi Dana, I noticed',
                                       finish_reason="length"))
        else:
            self._send(200, completion(canned, model=body.get("model", "test-model")))
