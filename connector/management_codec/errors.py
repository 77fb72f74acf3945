"""EDC error bodies: a JSON array of ``{message, type, path, invalidValue}``."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from connector.errors import KarezError


def _json_safe(value: Any) -> Any:
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return str(value)
    return value


def render_error(errors: Iterable[tuple[str, str, str | None, Any]]) -> list[dict[str, Any]]:
    """One entry per ``(message, type, path, invalid_value)``."""
    return [
        {"message": message, "type": type_, "path": path, "invalidValue": _json_safe(value)}
        for message, type_, path, value in errors
    ]


def render_exception(exc: KarezError) -> list[dict[str, Any]]:
    """The error body for one Karez exception."""
    return render_error([(exc.message, exc.error_type, exc.path, exc.invalid_value)])
