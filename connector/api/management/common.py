"""Shared pieces of the Management API handlers: auth, errors, bodies, queries."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from connector.api.body import json_response, read_json
from connector.api.management.auth import ManagementAuth
from connector.errors import InvalidStateTransition, KarezError
from connector.management_codec.errors import render_error
from connector.management_codec.query_spec import parse_query_spec
from connector.query import apply

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def error_response(exc: KarezError) -> web.Response:
    status = exc.status
    if isinstance(exc, InvalidStateTransition):
        status = 409  # EDC answers a state conflict with 409 on the Management API
    reasons = exc.reasons if len(exc.reasons) > 1 else [exc.message]
    body = render_error([(r, exc.error_type, exc.path, exc.invalid_value) for r in reasons])
    return json_response(body, status=status)


def auth_and_errors(auth: ManagementAuth, open_paths: tuple[str, ...] = ()) -> Any:
    """Authenticates every call but those under ``open_paths``; maps errors to EDC bodies."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        try:
            # the matched route's template, not the decoded path: ``/v3/assets/x%2Fopenapi.json``
            # is the asset ``x/openapi.json``, and must not pass as the open document
            resource = request.match_info.route.resource
            path = resource.canonical if resource is not None else request.path
            if not (open_paths and path.endswith(open_paths)):
                await auth.ensure_keys(request.headers)  # a JWKS URL: refetch for a new kid
                failure = auth.check(request.method, path, request.headers)
                if failure is not None:
                    return json_response(
                        render_error([(failure.message, failure.error_type, failure.path, None)]),
                        status=failure.status,
                        headers=failure.headers,
                    )
            return await handler(request)
        except KarezError as exc:
            if exc.status >= 500 and exc.status != 502:
                log.exception("management request failed")
            return error_response(exc)
        except web.HTTPException:
            raise
        except Exception:
            log.exception("unexpected error on %s", request.path)
            return json_response(
                render_error([("internal error", "InternalError", None, None)]), status=500
            )

    return middleware


class Body:
    """Reads Management API bodies with the configured size limit."""

    def __init__(self, limit: int) -> None:
        self.limit = limit

    async def json(self, request: web.Request, *, optional: bool = False) -> Any:
        return await read_json(request, self.limit, optional=optional)

    async def query(self, request: web.Request, items: list[dict]) -> list[dict]:
        spec = parse_query_spec(await self.json(request, optional=True))
        return apply(items, spec)
