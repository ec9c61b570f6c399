"""The OpenAI-compatible engine (OpenAI, Azure-style gateways, Ollama, llama.cpp, vLLM).

Three things the SDK does not do for us:
- A hard budget for the whole call. The SDK's `timeout` is per attempt and it retries on its own,
  so a 30 s timeout can take minutes. Here the SDK never retries (`max_retries=0`); this module
  retries 429/5xx/connection errors itself, each attempt gets only the time left, a retry that
  would overrun the deadline is not made, and the caller stops waiting at the deadline even if a
  server trickles bytes.
- Graceful degradation across servers: structured output (json_schema) parsed into a pydantic
  model first; if the server refuses json_schema, JSON mode; if that is refused too, plain text
  with the JSON extracted. A refusal counts whatever its HTTP status as long as its text names
  the response format: llama-cpp-python's server answers json_schema with a 500 ("Input should
  be 'text' or 'json_object'"). The rep can pin the mode (`ai_response_format`); a pinned mode
  never falls back. A model that rejects `temperature=0` is retried without it. What a server
  supports is remembered per (base URL, model) for the life of the process.
- A bound on the output. Every request carries `max_tokens` (sized from the draft unless the
  rep set `ai_max_tokens`): a small local model in JSON mode can generate without end, and
  without a bound the server keeps a core busy long after Lumina stopped waiting. A model that
  wants `max_completion_tokens` instead (OpenAI's reasoning models) gets that.
- One error type: every failure becomes `AIError` with a code the composer can show.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal

import openai
from pydantic import BaseModel, ValidationError

from ..clock import SYSTEM_CLOCK, Clock
from ..errors import AIError
from ..models import EngineOutput, EngineRequest
from ..prompt import build_messages
from ..ratelimit import limiter_for

log = logging.getLogger(__name__)

OPENAI_DEFAULT_URL = "https://api.openai.com/v1"
#: Local servers ignore the key, but the SDK insists on one.
PLACEHOLDER_KEY = "lumina-local"
MAX_ATTEMPTS = 3
Mode = Literal["schema", "json", "text"]
#: The setting's words (`ai_response_format`) and the mode each one pins.
RESPONSE_FORMATS: dict[str, Mode | None] = {
    "auto": None, "json_schema": "schema", "json_object": "json", "text": "text",
}
#: Output bound when sized from the draft: a reply is about as long as the draft (a rewrite may
#: grow it), plus the JSON wrapper and a subject. Tokens are ~4 characters of English; 3 leaves
#: room for names, numbers and other languages.
MIN_OUTPUT_TOKENS = 256
MAX_OUTPUT_TOKENS = 4096
_FORMAT_WORDS = ("response_format", "json_schema", "json_object", "structured output",
                 "response format")


class Reply(BaseModel):
    """What we ask the model for (the json_schema sent with structured output)."""

    subject: str | None
    body: str


@dataclass
class _Capabilities:
    """What one server/model pair accepts, learned from its 400s."""

    mode: Mode = "schema"
    temperature: bool = True
    #: "max_tokens", or "max_completion_tokens" for a model that refuses the older name.
    limit_name: str = "max_tokens"


@lru_cache(maxsize=1)
def _schema_format() -> dict[str, Any]:
    """The structured-output request for `Reply`, strict as OpenAI requires (built once)."""
    schema = Reply.model_json_schema()
    schema["additionalProperties"] = False
    schema["required"] = sorted(schema.get("properties", {}))
    return {"type": "json_schema",
            "json_schema": {"name": "Reply", "schema": schema, "strict": True}}


_capabilities: dict[tuple[str, str], _Capabilities] = {}
_clients: dict[tuple[str | None, str], openai.OpenAI] = {}
_shared_lock = threading.Lock()


def _client(base_url: str | None, api_key: str) -> openai.OpenAI:
    """One SDK client per server and key: building one costs tens of ms (TLS context, pools)."""
    key = (base_url, api_key)
    with _shared_lock:
        client = _clients.get(key)
        if client is None:
            client = _clients[key] = openai.OpenAI(
                api_key=api_key, base_url=base_url, max_retries=0
            )
        return client


def reset_shared_state() -> None:
    """Forget cached clients and learned capabilities (tests; or after settings change)."""
    with _shared_lock:
        for client in _clients.values():
            client.close()
        _clients.clear()
        _capabilities.clear()


class _Unsupported(Exception):
    def __init__(self, what: Literal["temperature", "response_format", "max_tokens"]) -> None:
        super().__init__(what)
        self.what = what


class _Retryable(Exception):
    def __init__(self, error: AIError, delay: float | None, attempts: int = MAX_ATTEMPTS) -> None:
        super().__init__(error.message)
        self.error = error
        self.delay = delay
        self.attempts = attempts  # a refused connection is worth one retry, not three


def _error_text(err: openai.APIStatusError) -> str:
    body = err.body
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict) and inner.get("message"):
            return str(inner["message"])
        return json.dumps(body)[:300]
    return str(err.message)[:300]


def _retry_after(err: openai.APIStatusError) -> float | None:
    headers = err.response.headers
    for name, scale in (("retry-after-ms", 1000.0), ("retry-after", 1.0)):
        value = headers.get(name)
        if value:
            try:
                return max(0.0, float(value) / scale)
            except ValueError:
                continue
    return None


def _extract_json(text: str) -> dict[str, Any] | None:
    """JSON from a plain-text reply: fenced, bare, or the first {...} block."""
    stripped = text.strip()
    fenced = re.search(r"```(?:json)?\s*(\{.*?\})\s*```", stripped, re.DOTALL)
    candidates = [fenced.group(1)] if fenced else []
    candidates.append(stripped)
    first, last = stripped.find("{"), stripped.rfind("}")
    if 0 <= first < last:
        candidates.append(stripped[first : last + 1])
    for candidate in candidates:
        try:
            data = json.loads(candidate)
        except json.JSONDecodeError:
            continue
        if isinstance(data, dict):
            return data
    return None


class OpenAIEngine:
    """Chat completions against any OpenAI-compatible server, inside a hard time budget."""

    name = "openai"

    def __init__(
        self,
        *,
        base_url: str | None,
        api_key: str | None,
        model: str,
        budget_seconds: float = 30.0,
        requests_per_minute: int | None = None,
        response_format: str = "auto",
        max_tokens: int | None = None,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        if response_format not in RESPONSE_FORMATS:
            raise AIError(
                "invalid_input",
                f"Unknown AI response format {response_format!r}: use "
                f"{', '.join(RESPONSE_FORMATS)}.",
            )
        if max_tokens is not None and max_tokens < 1:
            raise AIError("invalid_input", "ai_max_tokens must be a positive number of tokens.")
        self.base_url = base_url.rstrip("/") if base_url else None
        self.model = model
        self.budget_seconds = budget_seconds
        self.requests_per_minute = requests_per_minute
        self.response_format = response_format
        self.pinned_mode: Mode | None = RESPONSE_FORMATS[response_format]
        self.max_tokens = max_tokens
        self.clock = clock  # budget and retry decisions read it; tests inject a virtual one
        self._server = self.base_url or OPENAI_DEFAULT_URL
        self._api_key = api_key or PLACEHOLDER_KEY

    # ------------------------------------------------------------------------------ public

    def generate(self, request: EngineRequest) -> EngineOutput:
        return self.generate_overlapping(request, None)

    def generate_overlapping(self, request: EngineRequest,
                             meanwhile: Callable[[], object] | None) -> EngineOutput:
        """`generate`, running `meanwhile` on the caller's thread while the server works (the
        orchestrator reads the inputs' facts then). Its failure is logged, never the call's."""
        deadline = self.clock.monotonic() + self.budget_seconds
        limiter_for(self._server, self.requests_per_minute).acquire(deadline)
        messages = build_messages(request)
        limit = self.output_limit(request)
        return self._within_deadline(lambda: self._complete(messages, limit, deadline), deadline,
                                     meanwhile)

    def output_limit(self, request: EngineRequest) -> int:
        """The `max_tokens` of a request: the rep's `ai_max_tokens`, else sized from the draft."""
        if self.max_tokens is not None:
            return self.max_tokens
        draft = request.draft
        characters = len(draft.body) + len(draft.subject or "")
        sized = 2 * (characters // 3) + 200
        return max(MIN_OUTPUT_TOKENS, min(MAX_OUTPUT_TOKENS, sized))

    # ---------------------------------------------------------------------------- plumbing

    def _timeout_error(self) -> AIError:
        return AIError(
            "timeout",
            f"The AI server at {self._server} did not answer within {self.budget_seconds:g} s. "
            "Your draft is unchanged; try again, or use the offline engine.",
            engine=self.name,
        )

    def _within_deadline(self, call: Callable[[], EngineOutput], deadline: float,
                         meanwhile: Callable[[], object] | None = None) -> EngineOutput:
        """Run `call` in a helper thread and stop waiting at the deadline, whatever it does."""
        value: list[EngineOutput] = []
        error: list[BaseException] = []
        finished = threading.Event()

        def run() -> None:
            try:
                value.append(call())
            except BaseException as exc:  # handed to the caller below
                error.append(exc)
            finally:
                finished.set()

        threading.Thread(target=run, name="lumina-ai-request", daemon=True).start()
        if meanwhile is not None:
            try:
                meanwhile()
            except Exception:  # the caller redoes that work itself; the request goes on
                log.exception("work overlapped with the AI request failed")
        if not finished.wait(max(0.0, deadline - self.clock.monotonic()) + 0.05):
            raise self._timeout_error()
        if error:
            raise error[0]
        return value[0]

    def _capabilities(self) -> _Capabilities:
        key = (self._server, self.model)
        with _shared_lock:
            return _capabilities.setdefault(key, _Capabilities())

    def _complete(self, messages: list[dict[str, str]], limit: int,
                  deadline: float) -> EngineOutput:
        caps = self._capabilities()
        while True:
            mode = self.pinned_mode or caps.mode
            try:
                return self._with_retries(mode, caps, messages, limit, deadline)
            except _Unsupported as unsupported:
                if unsupported.what == "temperature" and caps.temperature:
                    log.info("%s/%s rejects temperature=0; retrying without", self._server,
                             self.model)
                    caps.temperature = False
                elif unsupported.what == "max_tokens" and caps.limit_name == "max_tokens":
                    log.info("%s/%s wants max_completion_tokens; retrying with it", self._server,
                             self.model)
                    caps.limit_name = "max_completion_tokens"
                elif unsupported.what == "response_format" and self.pinned_mode is not None:
                    raise AIError(
                        "bad_request",
                        f"The AI server refused the response format {self.response_format!r} "
                        "that ai_response_format pins. Set ai_response_format = auto (or "
                        "LUMINA_AI_RESPONSE_FORMAT=auto) to let Lumina find one it accepts.",
                        engine=self.name,
                    ) from None
                elif unsupported.what == "response_format" and caps.mode != "text":
                    caps.mode = "json" if caps.mode == "schema" else "text"
                    log.info("%s/%s lacks that response_format; falling back to %s mode",
                             self._server, self.model, caps.mode)
                else:
                    raise AIError(
                        "bad_request",
                        f"The AI server rejected the request ({unsupported.what}).",
                        engine=self.name,
                    ) from None

    def _with_retries(
        self, mode: Mode, caps: _Capabilities, messages: list[dict[str, str]], limit: int,
        deadline: float,
    ) -> EngineOutput:
        attempt = 0
        while True:
            remaining = deadline - self.clock.monotonic()
            if remaining <= 0:
                raise self._timeout_error()
            attempt += 1
            try:
                return self._attempt(mode, caps, messages, limit, remaining)
            except _Retryable as retryable:
                delay = retryable.delay if retryable.delay is not None else 0.25 * 2 ** (
                    attempt - 1
                )
                out_of_time = self.clock.monotonic() + delay >= deadline
                if attempt >= retryable.attempts or out_of_time:
                    raise retryable.error from None
                log.info("AI request failed (%s); retry %d in %.2f s", retryable.error.code,
                         attempt, delay)
                self.clock.sleep(delay)

    def _attempt(
        self, mode: Mode, caps: _Capabilities, messages: list[dict[str, str]], limit: int,
        timeout: float,
    ) -> EngineOutput:
        client = _client(self.base_url, self._api_key)
        body: dict[str, Any] = {"model": self.model, "messages": messages, "stream": False,
                                caps.limit_name: limit}
        if caps.temperature:
            body["temperature"] = 0
        if mode == "schema":
            body["response_format"] = _schema_format()
        elif mode == "json":
            body["response_format"] = {"type": "json_object"}
        try:
            # The SDK's documented raw request (`client.post`): the same client, auth, errors
            # and timeouts as `chat.completions.create`, without its per-call walk over the
            # params and its model building, which cost more than the rest of the OpenAI path
            # (bench/bench_ai.py). The reply is read as plain JSON below.
            data = client.post("/chat/completions", body=body, cast_to=object,
                               options={"timeout": timeout})
            return self._from_completion(data, mode)
        except (AIError, _Unsupported, _Retryable):
            raise
        except openai.APITimeoutError:
            raise self._timeout_error() from None
        except openai.APIConnectionError as err:
            raise _Retryable(
                AIError(
                    "unreachable",
                    f"Could not reach the AI server at {self._server} ({err.__cause__ or err}). "
                    "Check LUMINA_AI_BASE_URL and your network; drafting and sending still work.",
                    engine=self.name,
                ),
                None,
                attempts=2,
            ) from None
        except openai.RateLimitError as err:
            wait = _retry_after(err)
            hint = f" in {wait:g} s" if wait is not None else " in a moment"
            raise _Retryable(
                AIError("rate_limited",
                        f"The AI server is rate limiting requests (HTTP 429); try again{hint}.",
                        retry_after=wait, engine=self.name),
                wait,
            ) from None
        except openai.APIStatusError as err:
            raise self._status_error(err) from None
        except ValidationError as err:
            raise AIError(
                "bad_response",
                f"The AI server's reply was not the JSON Lumina asked for ({err.error_count()} "
                "problem(s)); try again or another model.",
                engine=self.name,
            ) from None
        except ValueError:  # an HTTP body that is not JSON (a proxy's error page)
            raise AIError(
                "bad_response",
                f"The AI server at {self._server} answered with something that is not JSON; "
                "check LUMINA_AI_BASE_URL (it should end in /v1 for most servers).",
                engine=self.name,
            ) from None
        except openai.OpenAIError as err:
            raise AIError("bad_response", f"The AI request failed: {err}",
                          engine=self.name) from None

    def _status_error(self, err: openai.APIStatusError) -> Exception:
        status, text = err.status_code, _error_text(err)
        lowered = text.lower()
        if status not in {401, 403, 404, 429} and any(word in lowered for word in _FORMAT_WORDS):
            # Any status: llama-cpp-python's server refuses json_schema with a 500.
            return _Unsupported("response_format")
        if status in {400, 422}:
            if "temperature" in lowered:
                return _Unsupported("temperature")
            if "max_tokens" in lowered and "max_completion_tokens" in lowered:
                return _Unsupported("max_tokens")
            if "schema" in lowered:
                return _Unsupported("response_format")
            return AIError("bad_request", f"The AI server rejected the request: {text}",
                           engine=self.name)
        if status in {401, 403}:
            return AIError(
                "auth",
                f"The AI server refused the API key (HTTP {status}). Check LUMINA_AI_API_KEY.",
                engine=self.name,
            )
        if status == 404:
            return AIError(
                "bad_request",
                f"The AI server does not know model {self.model!r} or this endpoint (HTTP 404): "
                f"{text}",
                engine=self.name,
            )
        if status >= 500 or status in {408, 409}:
            return _Retryable(
                AIError("server_error",
                        f"The AI server failed (HTTP {status}); try again shortly.",
                        engine=self.name),
                _retry_after(err),
            )
        return AIError("bad_request", f"The AI server answered HTTP {status}: {text}",
                       engine=self.name)

    def _from_completion(self, data: object, mode: Mode) -> EngineOutput:
        """The reply out of a chat-completions JSON document, checked as the SDK would."""
        choices = data.get("choices") if isinstance(data, dict) else None
        if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
            raise AIError("bad_response", "The AI server returned no choices.", engine=self.name)
        choice = choices[0]
        message = choice.get("message")
        message = message if isinstance(message, dict) else {}
        finish = choice.get("finish_reason")
        if finish == "length":
            raise AIError(
                "truncated",
                "The AI reply was cut off by the model's length limit (max_tokens); try a "
                "shorter draft, a larger ai_max_tokens, or a model with a larger output limit.",
                engine=self.name,
            )
        if finish == "content_filter":
            raise AIError("bad_response", "The AI server's content filter blocked the reply.",
                          engine=self.name)
        if message.get("refusal"):
            raise AIError("bad_response", f"The model declined: {message['refusal']}",
                          engine=self.name)
        content = message.get("content")
        content = content if isinstance(content, str) else ""
        if mode == "schema":
            if not content.strip():
                raise AIError("bad_response", "The AI server returned an empty reply.",
                              engine=self.name)
            reply = Reply.model_validate_json(content)  # ValidationError: bad_response
            return self._output(reply.subject, reply.body)
        return self._from_text(content, strict=mode == "json")

    def _from_text(self, content: str, *, strict: bool) -> EngineOutput:
        data = _extract_json(content)
        if data is not None:
            try:
                reply = Reply.model_validate({"subject": data.get("subject"), **data})
            except ValidationError:
                reply = None
            if reply is not None:
                return self._output(reply.subject, reply.body)
        if strict or not content.strip():
            raise AIError(
                "bad_response",
                "The AI server's reply was not the JSON Lumina asked for; try again or another "
                "model.",
                engine=self.name,
            )
        # Plain-text servers: an optional "Subject:" line, then the body.
        match = re.match(r"\s*subject:\s*(?P<subject>.+?)\n+(?P<body>.*)", content,
                         re.IGNORECASE | re.DOTALL)
        if match:
            return self._output(match["subject"], match["body"])
        return self._output(None, content)

    def _output(self, subject: str | None, body: str) -> EngineOutput:
        body = body.strip("\n")
        if not body.strip():
            raise AIError("bad_response", "The AI server returned an empty body.",
                          engine=self.name)
        subject = subject.strip() if subject and subject.strip() else None
        return EngineOutput(subject=subject, body=body)
