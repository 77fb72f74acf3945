"""Health checks and Prometheus metrics (observability port)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

from connector.api.body import json_response

HealthCheck = Callable[[], Awaitable[bool]]


def build_observability_app(
    ready: HealthCheck, metrics: Callable[[], Awaitable[dict[str, float]]]
) -> web.Application:
    async def health(request: web.Request) -> web.Response:
        ok = await ready()
        body = {
            "isSystemHealthy": ok,
            "componentResults": [{"component": "store", "isHealthy": ok}],
        }
        return json_response(body, status=200 if ok else 503)

    async def liveness(request: web.Request) -> web.Response:
        return json_response({"isSystemHealthy": True, "componentResults": []})

    async def prometheus(request: web.Request) -> web.Response:
        lines = []
        for name, value in sorted((await metrics()).items()):
            lines.append(f"# TYPE {name} gauge")
            lines.append(f"{name} {value}")
        return web.Response(text="\n".join(lines) + "\n", content_type="text/plain")

    app = web.Application()
    app.router.add_get("/check/health", health)
    app.router.add_get("/check/readiness", health)
    app.router.add_get("/check/startup", health)
    app.router.add_get("/check/liveness", liveness)
    app.router.add_get("/metrics", prometheus)
    return app
