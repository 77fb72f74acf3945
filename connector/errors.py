"""One exception hierarchy for Karez.

The API layer maps these once: to DSP error messages (``code`` + ``reason``) on the protocol
port and to EDC-style error bodies (``[{"message", "type", "path", "invalidValue"}]``) on the
Management API. Nothing below the API layer knows about HTTP.
"""

from __future__ import annotations

from typing import Any


class KarezError(Exception):
    """Base class. ``status`` is the HTTP status the API layer answers with."""

    status = 500
    error_type = "InternalError"

    def __init__(
        self,
        message: str,
        *,
        path: str | None = None,
        invalid_value: Any = None,
        code: str | None = None,
        reasons: list[str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.path = path
        self.invalid_value = invalid_value
        self.code = code or str(self.status)
        self.reasons = reasons if reasons is not None else [message]


class ValidationFailure(KarezError):
    """Bad input: malformed JSON, a missing or mistyped field, an unknown type."""

    status = 400
    error_type = "ValidationFailure"


class PayloadTooLarge(ValidationFailure):
    status = 413
    error_type = "PayloadTooLarge"


class LengthRequired(ValidationFailure):
    status = 411
    error_type = "LengthRequired"


class UnknownContext(ValidationFailure):
    """A JSON-LD ``@context`` that is neither bundled nor configured (never fetched)."""


class NotFound(KarezError):
    status = 404
    error_type = "ObjectNotFound"


class Conflict(KarezError):
    """A duplicate id, or an object that is referenced elsewhere."""

    status = 409
    error_type = "ObjectConflict"


class InvalidStateTransition(KarezError):
    """The current state of a process does not allow this message or command.

    On the protocol port the spec requires 400; on the Management API EDC answers 409.
    """

    status = 400
    error_type = "InvalidState"

    def __init__(self, message: str, *, state: str | None = None, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.state = state


class Unauthorized(KarezError):
    status = 401
    error_type = "Unauthorized"


class Forbidden(KarezError):
    status = 403
    error_type = "Forbidden"


class PeerError(KarezError):
    """A counter-party answered with an error or could not be reached."""

    status = 502
    error_type = "BadGateway"

    def __init__(self, message: str, *, peer_status: int | None = None, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.peer_status = peer_status
