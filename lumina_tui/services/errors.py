"""The errors every service raises: one family, each naming the field and saying what is wrong.

The CLI maps `exit_code` and `code` straight onto its contract (2: the caller's input or state,
1: AI, provider or I/O failure); the composer shows `message` as it is.
"""

from __future__ import annotations

# The family's base lives below the store, so the store's own errors (locked, disk full) are
# LuminaErrors too and every `except LuminaError` in the composer and the CLI catches them.
from lumina_tui.errors import LuminaError

__all__ = ["LuminaError"]


class ValidationError(LuminaError):
    """Bad input: the one type for every field problem."""

    code = "invalid"
    exit_code = 2


class NotFoundError(LuminaError):
    code = "not_found"
    exit_code = 2


class ConflictError(LuminaError):
    """The same revision of a draft saved twice with different content."""

    code = "conflict"
    exit_code = 2


class StaleRevisionError(LuminaError):
    """An AI call or send named a draft revision that is no longer the stored one."""

    code = "stale_revision"
    exit_code = 2


class AlreadySentError(LuminaError):
    code = "already_sent"
    exit_code = 2


class IdempotencyConflictError(LuminaError):
    code = "idempotency_conflict"
    exit_code = 2


class SuppressedRecipientError(LuminaError):
    code = "suppressed"
    exit_code = 2


class InvalidStateError(LuminaError):
    """The operation does not fit the row's current state (retry a SENT email, ...)."""

    code = "invalid_state"
    exit_code = 2


class AIServiceError(LuminaError):
    code = "ai_error"
    exit_code = 1


class ProviderFailure(LuminaError):
    code = "provider_error"
    exit_code = 1


class StorageError(LuminaError):
    code = "io_error"
    exit_code = 1


class AuthenticationError(LuminaError):
    """No valid credentials: a wrong password, a missing, expired, forged or revoked token.

    The message never says which part was wrong beyond what the caller already knows (no user
    enumeration): the API answers 401 with it, the CLI exits 2.
    """

    code = "unauthorized"
    exit_code = 2
