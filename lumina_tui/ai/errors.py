"""The one error the AI package raises, so the composer has a single thing to catch and show.

Every failure of an engine (timeout, rate limit, server error, refused connection, a reply that is
not the JSON we asked for, a reply cut off by the token limit) becomes an `AIError` with a stable
`code` that scripts can branch on and a `message` a rep can read. Drafting and sending never depend
on it: the caller shows the message and carries on.
"""

from __future__ import annotations

from typing import Literal

from lumina_tui.logs import scrub

AIErrorCode = Literal[
    "timeout",
    "rate_limited",
    "server_error",
    "unreachable",
    "bad_response",
    "truncated",
    "auth",
    "bad_request",
    "unsupported_instruction",
    "invalid_input",
]


class AIError(Exception):
    """An AI request failed; `code` says how, `message` says it in words a rep understands."""

    def __init__(
        self,
        code: AIErrorCode,
        message: str,
        *,
        retry_after: float | None = None,
        engine: str | None = None,
    ) -> None:
        # The server's URL (userinfo included) and its error text end up here: scrub them once.
        message = scrub(message)
        super().__init__(message)
        self.code: AIErrorCode = code
        self.message = message
        self.retry_after = retry_after
        self.engine = engine

    def to_dict(self) -> dict[str, object]:
        """The shape the CLI prints on stderr (`field` is always None: no input field is at fault)."""
        return {"code": self.code, "field": None, "message": self.message}

    def __repr__(self) -> str:
        return f"AIError(code={self.code!r}, message={self.message!r})"
