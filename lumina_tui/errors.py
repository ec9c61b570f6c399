"""The base of Lumina's error family: a message a rep can act on, the field at fault, an exit code.

It lives at the bottom of the package (it needs only the secret scrubber), so the store can raise
members of the same family as the services: `services.errors` holds the services' kinds and
`store.errors.StoreError` the database's; the CLI and the composer catch `LuminaError` for all.
"""

from __future__ import annotations

from typing import Any

from lumina_tui.logs import scrub, scrub_data


class LuminaError(Exception):
    code = "error"
    exit_code = 1

    def __init__(self, message: str, *, field: str | None = None, **details: Any) -> None:
        # Messages quote provider and AI errors and the rep's input: no secret may be printed.
        message = scrub(message)
        super().__init__(message)
        self.message = message
        self.field = field
        self.details = scrub_data(details)

    def as_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code, "field": self.field, "message": self.message}
        if self.details:
            body["details"] = self.details
        return body
