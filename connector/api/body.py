"""Reading request bodies: size limit first, then JSON, with errors that name the problem."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from connector.errors import PayloadTooLarge, ValidationFailure


async def read_json(request: web.Request, limit: int, *, optional: bool = False) -> Any:
    """The JSON body, refused before reading if it is larger than ``limit`` bytes."""
    length = request.content_length
    if length is not None and length > limit:
        raise PayloadTooLarge(f"body of {length} bytes is over the limit of {limit} bytes")
    chunks = []
    size = 0
    async for chunk in request.content.iter_chunked(64 * 1024):
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"body is over the limit of {limit} bytes")
        chunks.append(chunk)
    raw = b"".join(chunks)
    if not raw.strip():
        if optional:
            return None
        raise ValidationFailure("the request needs a JSON body", path="body")
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValidationFailure(f"malformed JSON: {exc}", path="body") from exc


async def read_json_object(request: web.Request, limit: int) -> dict[str, Any]:
    """The JSON body, which must be an object (``ValidationFailure`` otherwise)."""
    body = await read_json(request, limit)
    if not isinstance(body, dict):
        raise ValidationFailure("the body must be a JSON object", path="body")
    return body


def json_response(
    data: Any, status: int = 200, headers: dict[str, str] | None = None
) -> web.Response:
    return web.Response(
        body=json.dumps(data, ensure_ascii=False).encode(),
        status=status,
        content_type="application/json",
        headers=headers,
    )
